"""Frequency discipline: rolling cap, minimum gap, back-off, sunset and quiet hours (deferred, never dropped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from retention.frequency import SendHistory, earliest_send, is_sunset, minimum_gap, outside_quiet_hours
from retention.models.journeys import FrequencyRules

RULES = FrequencyRules(max_per_7_days=2, min_gap_hours=48, quiet_hours_start=21, quiet_hours_end=8)
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 13:00 in Berlin


def test_first_email_goes_now() -> None:
    assert earliest_send(NOON, SendHistory(), RULES, "Europe/Berlin") == NOON


def test_minimum_gap_defers_the_next_email() -> None:
    history = SendHistory(sent_at=[NOON - timedelta(hours=2)])
    assert earliest_send(NOON, history, RULES, "Europe/Berlin") == NOON + timedelta(hours=46)
    late = SendHistory(sent_at=[NOON - timedelta(hours=10)])  # 48 h later is 03:00 in Berlin: wait for 08:00
    assert earliest_send(NOON, late, RULES, "Europe/Berlin") == datetime(2026, 3, 12, 7, 0, tzinfo=UTC)


def test_rolling_cap_waits_for_the_oldest_email_to_leave_the_window() -> None:
    history = SendHistory(sent_at=[NOON - timedelta(days=5), NOON - timedelta(days=3)])
    assert earliest_send(NOON, history, RULES, "Europe/Berlin") == NOON + timedelta(days=2)


def test_feedback_asks_can_be_exempt_from_the_cap_but_not_from_quiet_hours() -> None:
    history = SendHistory(sent_at=[NOON - timedelta(hours=1)])
    assert earliest_send(NOON, history, RULES, "Europe/Berlin", exempt_from_cap=True) == NOON
    night = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert earliest_send(night, history, RULES, "Europe/Berlin", exempt_from_cap=True) == datetime(
        2026, 3, 11, 7, 0, tzinfo=UTC
    )


def test_quiet_hours_follow_the_customers_time_zone() -> None:
    at = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    assert outside_quiet_hours(at, "America/New_York", RULES) == at  # 19:00 there: fine
    assert outside_quiet_hours(at, "Asia/Tokyo", RULES) == at  # 08:00 next morning there: fine
    assert outside_quiet_hours(at, "Europe/Berlin", RULES) == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    early = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 06:00 in Berlin: wait until 08:00 the same day
    assert outside_quiet_hours(early, "Europe/Berlin", RULES) == datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


def test_unopened_streak_slows_down_then_sunsets() -> None:
    assert minimum_gap(SendHistory(unopened_streak=2), RULES) == timedelta(hours=48)
    assert minimum_gap(SendHistory(unopened_streak=3), RULES) == timedelta(hours=96)
    assert not is_sunset(SendHistory(unopened_streak=7), RULES)
    assert is_sunset(SendHistory(unopened_streak=8), RULES)
