"""The demo end to end on the embedded AWS: reproducible, and every event accounted for."""

from __future__ import annotations

from retention.demo import format_result, run_demo
from retention.local.history import generate_history


def test_demo_is_reproducible_and_accounts_for_every_event():
    # Given a small seeded history with malformed events and re-sent duplicates
    first = run_demo(customers=60, seed=3, malformed=4, redeliver_share=0.1)
    second = run_demo(customers=60, seed=3, malformed=4, redeliver_share=0.1)
    # Then both runs agree, duplicates are absorbed and malformed events are dead-lettered
    assert first.summary == second.summary
    events = generate_history(customers=60, seed=3, malformed=4)
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
