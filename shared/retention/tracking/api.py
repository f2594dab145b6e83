"""The tracking API's routes (Powertools ``APIGatewayHttpResolver``) and what they share.

    GET  /o/{token}   1×1 GIF, no-cache; records the open
    GET  /c/{token}   302 to the exact URL the email held (UTM added); records the click
    HEAD /c/{token}   the same answer; recorded as a link scanner's
    GET  /f/{token}   one-click feedback answer: recorded once (people only), a thank-you page
    HEAD /f/{token}   the same page; a link scanner's, records nothing
    GET  /u/{token}   a confirmation page (no change: mail scanners fetch GETs)
    POST /u/{token}   RFC 8058 one-click (List-Unsubscribe=One-Click): unsubscribed at once
    GET  /p/{token}   preference page: pause for 30 days, or unsubscribe
    POST /p/{token}   action=pause

Every refusal is a domain exception (tracking/errors.py) mapped to its answer once, by
:func:`refused`. functions/tracking/app.py resolves the event against :data:`app`.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from retention import clock
from retention.mail.catalog import catalog
from retention.mail.keys import key_ring
from retention.mail.settings import mail_settings
from retention.mail.signing import Purpose
from retention.models.engine_events import EngineEvent
from retention.models.tracking import Visit
from retention.observability import logger, metrics
from retention.settings import settings
from retention.store import bus
from retention.store.engagement import EngagementStore, TrackedMessage
from retention.store.journeys import JourneyStore
from retention.tracking import http
from retention.tracking.errors import RefusedLink
from retention.tracking.machine import tracking_rules
from retention.tracking.pages import preferred_language
from retention.tracking.recorder import PreferenceChange, Tracker, visit_at

app = APIGatewayHttpResolver()


@app.exception_handler(RefusedLink)
def refused(error: RefusedLink) -> Response:
    logger.info("tracking link refused", kind=type(error).__name__, reason=error.reason)
    metrics.add_metric(name="TrackingRefused", unit=MetricUnit.Count, value=1)
    if app.current_event.path.startswith("/o/"):
        return http.pixel(http.status_of(error))
    return answer_page(http.status_of(error), "invalid")


@app.get("/o/<token>")
def open_pixel(token: str) -> Response:
    recorded = tracker().open(token, visit())
    metrics.add_metric(name=f"Opens{'Human' if recorded.machine is None else 'Machine'}", unit="Count", value=1)
    return http.pixel()


@app.route("/c/<token>", method=["GET", "HEAD"])
def click(token: str) -> Response:
    recorded = tracker().click(token, visit())
    metrics.add_metric(name=f"Clicks{'Human' if recorded.machine is None else 'Machine'}", unit="Count", value=1)
    return http.redirect(recorded.redirect_to) if recorded.redirect_to else answer_page(404, "invalid")


@app.route("/f/<token>", method=["GET", "HEAD"])
def feedback(token: str) -> Response:
    answered = tracker().feedback(token, visit())
    metrics.add_metric(name=f"Answers{'Human' if answered.machine is None else 'Machine'}", unit="Count", value=1)
    redirect = tracking_rules().feedback_redirect
    if redirect is not None:
        return http.redirect(f"{str(mail_settings().shop_url).rstrip('/')}{redirect}?answer={answered.answer}")
    return answer_page(200, "thanks", message=answered.message)


@app.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    return answer_page(200, "unsubscribe", token=tracker().peek(token, Purpose.UNSUBSCRIBE))


@app.post("/u/<token>")
def unsubscribe(token: str) -> Response:
    if form().get("List-Unsubscribe") != "One-Click":
        return answer_page(400, "invalid")
    change = tracker().unsubscribe(token, visit())
    if change.newly:
        metrics.add_metric(name="Unsubscribes", unit=MetricUnit.Count, value=1)
    return answer_page(200, "unsubscribed", change=change)


@app.get("/p/<token>")
def preferences_page(token: str) -> Response:
    return answer_page(200, "preferences", token=tracker().peek(token, Purpose.PREFERENCES))


@app.post("/p/<token>")
def preferences(token: str) -> Response:
    if form().get("action") != "pause":
        return answer_page(400, "invalid")
    return answer_page(200, "paused", change=tracker().pause(token, visit()))


@app.not_found
def not_found(_: Exception) -> Response:
    return answer_page(404, "invalid")


def tracker() -> Tracker:
    table = settings().customers_table
    return Tracker(EngagementStore(table), JourneyStore(table), key_ring(), tracking_rules(), _publish, _answers)


def _answers(template: str) -> list[str]:
    entry = catalog().templates.get(template)
    return entry.answers if entry is not None else []


def _publish(events: list[EngineEvent]) -> None:
    bus.publish(settings().event_bus_name, events)


def visit() -> Visit:
    context = app.current_event.request_context.http
    return visit_at(context.method, context.user_agent or "", context.source_ip or "", clock.now())


def form() -> dict[str, str]:
    event = app.current_event
    raw = http.request_body(event.body, event.is_base64_encoded)
    return {} if raw is None else http.form_fields(raw, event.headers.get("content-type", ""))


def answer_page(
    status: int,
    name: str,
    token: TrackedMessage | None = None,
    change: PreferenceChange | None = None,
    message: TrackedMessage | None = None,
) -> Response:
    """The page ``name``; ``token`` is the message behind the page's link (unsubscribe and
    preferences pages link to each other), ``change`` the pause just made (its end date),
    ``message`` the email a page answers (its language)."""
    mail, rules = mail_settings(), tracking_rules()
    values: dict[str, object] = {"pause_days": rules.pause_days}
    if message is None:
        message = token if token is not None else change.message if change is not None else None
    language = (
        message.record.language
        if message is not None and message.record.language
        else preferred_language(app.current_event.headers.get("accept-language", ""))
    )
    if token is not None:
        message_id, base = token.record.message_id, page_base()
        values["unsubscribe"] = f"{base}/u/{key_ring().sign(Purpose.UNSUBSCRIBE, message_id)}"
        values["preferences"] = f"{base}/p/{key_ring().sign(Purpose.PREFERENCES, message_id)}"
        values["action"] = values["unsubscribe"] if name == "unsubscribe" else values["preferences"]
    if change is not None and change.paused_until is not None:
        values["until"] = change.paused_until.date().isoformat()
    return http.html(status, name, mail.sender_name, str(mail.shop_url), language, **values)


def page_base() -> str:
    """The base of the pages' own links: TRACKING_BASE_URL where it is set (the embedded AWS),
    else the host this request came to (the API's endpoint or its custom domain, https only):
    template.yaml gives the function behind the API no variable that names the API, which would
    make the API and its function depend on each other."""
    mail = mail_settings()
    if mail.tracking_base_url is not None:
        return mail.tracking_base
    return f"https://{app.current_event.request_context.domain_name}"
