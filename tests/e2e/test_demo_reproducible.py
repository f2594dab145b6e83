"""The demo is deterministic: the same seed replays to the same profiles, journeys and emails."""

from __future__ import annotations

from retention_tools.demo import run_demo


def test_the_same_seed_replays_to_the_same_result() -> None:
    first = run_demo(customers=25, seed=8, malformed=2, redeliver_share=0.2, outbox=None, days=150)
    second = run_demo(customers=25, seed=8, malformed=2, redeliver_share=0.2, outbox=None, days=150)
    assert first.summary == second.summary
    assert first.journeys == second.journeys
    assert [m.message_id for m in first.mails] == [m.message_id for m in second.mails]
    assert first.replay.dead_lettered == second.replay.dead_lettered
    assert first.emails > 0
