"""The demo end to end on the embedded AWS: reproducible, and every event accounted for."""

from __future__ import annotations

from retention.demo import format_result, run_demo
from retention.local.history import generate_history


def test_demo_is_reproducible_and_accounts_for_every_event(tmp_path):
    # Given a small seeded history with malformed events and re-sent duplicates
    first = run_demo(customers=40, seed=3, malformed=4, redeliver_share=0.1, outbox=tmp_path / "outbox")
    second = run_demo(customers=40, seed=3, malformed=4, redeliver_share=0.1, outbox=None)
    # Then both runs agree, duplicates are absorbed and malformed events are dead-lettered
    assert first.summary == second.summary
    assert first.journeys == second.journeys
    events = generate_history(customers=40, seed=3, malformed=4)
    assert first.summary.customers == sum(1 for e in events if e.detail_type == "CustomerRegistered") - _bad(
        events, "CustomerRegistered"
    )
    assert first.summary.orders == sum(1 for e in events if e.detail_type == "OrderPlaced") - _bad(
        events, "OrderPlaced"
    )
    # (a malformed event that was also re-sent is dead-lettered once per delivery)
    assert 4 <= first.replay.dead_lettered <= 4 + first.replay.redelivered
    assert first.replay.dead_lettered == second.replay.dead_lettered
    assert "repeat-purchase rate" in format_result(first)


def test_demo_journeys_send_each_email_once_within_the_rules(tmp_path):
    result = run_demo(customers=40, seed=5, malformed=0, redeliver_share=0.2, outbox=tmp_path / "outbox")
    # Emails went out through the embedded SES, every journey step at most once per customer and cycle
    assert result.emails > 20
    ids = [mail.message_id for mail in result.mails]
    assert len(ids) == len(set(ids))
    assert sum(counts.get("sent", 0) for counts in result.journeys.values()) == result.emails
    # The 80/20 rule over the whole stream, nothing dead-lettered, the outbox written
    assert result.promotion_emails <= 0.2 * result.emails
    assert result.journey_dead_letters == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == result.emails
    assert len(list((tmp_path / "outbox").glob("*.html"))) == result.emails
    # Hold-out customers entered but got nothing
    assert sum(counts.get("holdout", 0) for counts in result.journeys.values()) > 0
    assert "emails sent" in format_result(result)


def _bad(events, detail_type: str) -> int:
    from pydantic import ValidationError

    from retention.models.events import ShopEventAdapter

    bad = 0
    for event in events:
        if event.detail_type != detail_type:
            continue
        envelope = {"id": "x", "source": event.source, "time": event.time, "detail-type": event.detail_type}
        try:
            ShopEventAdapter.validate_python({**envelope, "detail": event.detail})
        except ValidationError:
            bad += 1
    return bad
