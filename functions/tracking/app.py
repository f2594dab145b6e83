"""Tracking API (HTTP API, Powertools APIGatewayHttpResolver): open pixel, click redirect, unsubscribe.

    GET  /o/{token}   1×1 GIF, no-cache; records the open
    GET  /c/{token}   302 to the exact URL the email held (UTM added); records the click
    HEAD /c/{token}   the same answer; recorded as a link scanner's
    GET  /u/{token}   a confirmation page (no change: mail scanners fetch GETs)
    POST /u/{token}   RFC 8058 one-click (body List-Unsubscribe=One-Click): unsubscribed at once
    GET  /p/{token}   preference page: pause for 30 days, or unsubscribe
    POST /p/{token}   action=pause

DynamoDB per request: one GetItem (the send record) and at most two writes (the record's
markers, one counter shard); see retention/store/tracking.py. A bad token gets a neutral
400/404 page (a transparent GIF for the pixel), never a redirect and never a 500.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock
from retention.mail.keys import key_ring
from retention.mail.settings import mail_settings
from retention.mail.signing import Purpose
from retention.models.tracking import Visit
from retention.observability import logger, metrics, tracer
from retention.settings import settings
from retention.tracking.machine import tracking_rules
from retention.tracking.pages import page
from retention.tracking.recorder import BadLink, Tracker, visit_at

app = APIGatewayHttpResolver()

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
HTML_HEADERS = {
    **NO_CACHE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_BODY = 2048


def tracker() -> Tracker:
    return Tracker(settings().customers_table, key_ring(), tracking_rules())


def _visit() -> Visit:
    http = app.current_event.request_context.http
    return visit_at(http.method, http.user_agent or "", http.source_ip or "", clock.now())


def _html(status: int, name: str, **values: object) -> Response:
    mail = mail_settings()
    body = page(name, mail.sender_name, str(mail.shop_url), **values)
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=HTML_HEADERS)


def _refused(error: BadLink) -> Response:
    logger.info("tracking link refused", status=error.status, reason=error.reason)
    metrics.add_metric(name="TrackingRefused", unit=MetricUnit.Count, value=1)
    return _html(error.status, "invalid")


def _url(path: str) -> str:
    return f"{mail_settings().tracking_base}{path}"


@app.get("/o/<token>")
def open_pixel(token: str) -> Response:
    status = 200
    try:
        recorded = tracker().open(token, _visit())
        metrics.add_metric(
            name="OpensHuman" if recorded.machine is None else "OpensMachine", unit=MetricUnit.Count, value=1
        )
    except BadLink as error:
        logger.info("open pixel refused", status=error.status, reason=error.reason)
        status = error.status
    return Response(status_code=status, content_type="image/gif", body=GIF, headers=NO_CACHE)


@app.route("/c/<token>", method=["GET", "HEAD"])
def click(token: str) -> Response:
    try:
        recorded = tracker().click(token, _visit())
    except BadLink as error:
        return _refused(error)
    metrics.add_metric(
        name="ClicksHuman" if recorded.machine is None else "ClicksMachine", unit=MetricUnit.Count, value=1
    )
    if recorded.location is None:  # the honeypot: a scanner; nothing to redirect to
        return _html(404, "invalid")
    return Response(status_code=302, headers={**NO_CACHE, "Location": recorded.location}, body="")


@app.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    try:
        message = tracker().peek(token, Purpose.UNSUBSCRIBE)
    except BadLink as error:
        return _refused(error)
    preferences = _url(f"/p/{key_ring().sign(Purpose.PREFERENCES, message.record.message_id)}")
    return _html(
        200, "unsubscribe", action=_url(f"/u/{token}"), preferences=preferences, pause_days=tracking_rules().pause_days
    )


@app.post("/u/<token>")
def unsubscribe(token: str) -> Response:
    form = _form()
    if form.get("List-Unsubscribe") != "One-Click":
        return _html(400, "invalid")
    try:
        recorded = tracker().unsubscribe(token, _visit())
    except BadLink as error:
        return _refused(error)
    if recorded.newly:
        metrics.add_metric(name="Unsubscribes", unit=MetricUnit.Count, value=1)
    return _html(200, "unsubscribed")


@app.get("/p/<token>")
def preferences_page(token: str) -> Response:
    try:
        message = tracker().peek(token, Purpose.PREFERENCES)
    except BadLink as error:
        return _refused(error)
    unsubscribe_token = key_ring().sign(Purpose.UNSUBSCRIBE, message.record.message_id)
    return _html(
        200,
        "preferences",
        action=_url(f"/p/{token}"),
        unsubscribe=_url(f"/u/{unsubscribe_token}"),
        pause_days=tracking_rules().pause_days,
    )


@app.post("/p/<token>")
def preferences(token: str) -> Response:
    if _form().get("action") != "pause":
        return _html(400, "invalid")
    try:
        recorded = tracker().pause(token, _visit())
    except BadLink as error:
        return _refused(error)
    return _html(200, "paused", until=recorded.location)


@app.not_found
def not_found(_: Exception) -> Response:
    return _html(404, "invalid")


def _form() -> dict[str, str]:
    """The url-encoded body, at most MAX_BODY bytes; anything else reads as an empty form."""
    try:
        body = app.current_event.decoded_body or ""
    except (ValueError, UnicodeDecodeError):
        return {}
    if len(body) > MAX_BODY:
        return {}
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=10)
    except ValueError:
        return {}
    return {name: values[0] for name, values in parsed.items() if values}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
