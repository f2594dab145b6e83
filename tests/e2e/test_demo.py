"""The demo end to end on the embedded AWS: reproducible, and every event accounted for.

A simulated year costs about a minute of emulator requests, so one year-long run is shared by
the assertions about it; reproducibility is checked on two shorter runs in
test_demo_reproducible.py (a file of its own, so the parallel workers split the two).
"""

from __future__ import annotations

import pytest
from factories import shop_event_is_valid

from retention import nps
from retention_tools.demo import DemoResult, format_result, run_demo
from retention_tools.local.history import generate_history
from retention_tools.summary import feedback_answers

SEED, CUSTOMERS, MALFORMED = 3, 40, 4


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> DemoResult:
    outbox = tmp_path_factory.mktemp("outbox")
    report = tmp_path_factory.mktemp("reports") / "report.html"
    return run_demo(
        customers=CUSTOMERS, seed=SEED, malformed=MALFORMED, redeliver_share=0.1, outbox=outbox, report_path=report
    )


def test_every_shop_event_is_applied_once_or_dead_lettered(year: DemoResult) -> None:
    events = generate_history(customers=CUSTOMERS, seed=SEED, malformed=MALFORMED)
    bad = [e for e in events if not shop_event_is_valid(e)]
    assert len(bad) == MALFORMED
    # Duplicates are absorbed: one profile per customer registered or ordering, one count per order
    known = {
        e.detail["customer_id"]
        for e in events
        if e.detail_type in ("CustomerRegistered", "OrderPlaced") and shop_event_is_valid(e)
    }
    assert year.summary.customers == len(known)
    # ... less the cancelled and fully refunded ones, plus those the simulated audience placed after clicking an email
    totals = {e.detail["order_id"]: e.detail["total"] for e in events if e.detail_type == "OrderPlaced"}
    voided = _good(events, "OrderCancelled") + sum(
        1
        for e in events
        if e.detail_type == "OrderRefunded"
        and shop_event_is_valid(e)
        and totals[e.detail["order_id"]] == e.detail["amount"]
    )
    assert voided > 0
    follow_ups = year.audience.get("follow_up_orders_published", 0)
    assert year.summary.orders == _good(events, "OrderPlaced") - voided + follow_ups
    # The shop's changes were applied and the summary shows them
    changes = year.shop_events
    assert changes["partial refunds"] and changes["cancellations"] and changes["consent withdrawals"]
    assert changes["e-mail changes"]
    assert year.summary.refunds == _good(events, "OrderRefunded")
    assert year.summary.consent["withdrawn"] > 0 and year.summary.consent["granted"] > year.summary.consent["unknown"]
    text = format_result(year)
    assert "refunds applied" in text and "consent withdrawals" in text and "e-mail changes" in text
    # Malformed events are dead-lettered (a malformed event that was also re-sent, once per delivery)
    assert MALFORMED <= year.replay.dead_lettered <= MALFORMED + year.replay.redelivered
    assert "repeat-purchase rate" in format_result(year)


def test_journeys_send_each_email_once_within_the_rules(year: DemoResult) -> None:
    # Emails went out through the embedded SES, every journey step at most once per customer and cycle
    assert year.emails > 20
    ids = [mail.message_id for mail in year.mails]
    assert len(ids) == len(set(ids))
    assert sum(counts.get("sent", 0) for counts in year.journeys.values()) == year.emails
    # The 80/20 rule over the whole stream, nothing dead-lettered, the outbox written
    assert year.promotion_emails <= 0.2 * year.emails
    assert year.journey_dead_letters == 0
    assert year.outbox is not None
    assert len(list(year.outbox.glob("*.eml"))) == year.emails
    assert len(list(year.outbox.glob("*.html"))) == year.emails
    # Hold-out customers entered but got nothing
    assert sum(counts.get("holdout", 0) for counts in year.journeys.values()) > 0
    assert "emails sent" in format_result(year)


def _good(events, detail_type: str) -> int:
    return sum(1 for e in events if e.detail_type == detail_type and shop_event_is_valid(e))


def test_the_audience_goes_through_tracking_and_the_report_sees_through_machines(year: DemoResult) -> None:
    did = year.audience
    assert did["human_opens"] > 0 and did["proxy_opens"] > 0 and did["human_clicks"] > 0
    assert did.get("http_500", 0) == 0  # every tracking request answered, none crashed
    assert year.ses_dead_letters == 0
    report = year.report
    assert report is not None
    overall = report.overall
    # Every proxy open was stored and kept out of the human figures
    assert overall["opens_machine"] >= did["proxy_opens"]
    assert overall["unique_opens_human"] < overall["unique_opens"]
    assert overall["delivered"] + overall["bounced"] == year.emails
    assert overall["attributed_orders"] <= did.get("orders_after_click", 0) + overall["unique_clicks_human"]
    assert year.report_path is not None and "<svg" in year.report_path.read_text(encoding="utf-8")


def test_the_audience_answers_feedback_once_per_email_and_the_summary_and_report_show_it(year: DemoResult) -> None:
    did = year.audience
    asked = sum(1 for mail in year.mails if mail.template == "winback_feedback")
    assert asked > 0 and did.get("feedback_answers", 0) > 0
    answers = feedback_answers(year.journeys)
    # Every person's answer counted once: their repeated clicks and the filters' fetches are not
    assert sum(answers.values()) == did["feedback_answers"] <= asked
    assert set(answers) <= {"price", "taste", "delivery", "elsewhere", "stock"}
    report = year.report
    assert report is not None
    scores = feedback_answers(year.journeys, scores=True)
    answered = sum(step.total for journey in report.journeys for step in journey.feedback)
    assert answered == sum(answers.values()) + sum(scores.values())
    shown = format_result(year)
    assert f"feedback answers       {sum(answers.values()):,} (" in shown
    assert "Feedback answers (one-click" in shown and "winback.feedback" in shown


def test_the_audience_scores_the_nps_survey_and_the_summary_and_report_show_the_nps(year: DemoResult) -> None:
    surveyed = [mail for mail in year.mails if mail.template == "nps_survey"]
    scores = feedback_answers(year.journeys, scores=True)
    # Customers with three orders were asked; some scored, each once per email
    assert surveyed and 0 < sum(scores.values()) == year.audience["nps_scores"] <= len(surveyed)
    summary = nps.summarise(scores)
    shown = format_result(year)
    assert f"net promoter score     {summary.score:+.0f} (95 % interval" in shown
    assert "Net Promoter Score" in shown and "nps.survey" in shown
    # And a German customer's survey is in German, everyone else's in English (the layout's
    # language is the customer's locale; the question must follow it)
    german = [mail for mail in surveyed if '<html lang="de">' in mail.html()]
    assert german and all("Würden Sie uns weiterempfehlen?" in mail.html() for mail in german)
    others = [mail for mail in surveyed if mail not in german]
    assert others and all("Would you recommend us?" in mail.html() for mail in others)
