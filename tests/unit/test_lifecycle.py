"""Reclassification and timers armed after a profile change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from factories import T0

from retention.lifecycle import BIRTHDAY, INACTIVITY, next_birthday_at, refresh
from retention.models.segments import Classification
from retention.segments import load_definitions
from unit.test_segments import STATS, customer


def test_an_order_arms_inactivity_at_the_customers_own_reorder_date():
    profile = customer(orders=4, gap_days=45)
    result = refresh(profile, T0, STATS, load_definitions(), new_version=7, rearm_inactivity=True)
    (timer,) = [t for t in result.timers if t.kind == INACTIVITY]
    assert timer.due_at == T0 + timedelta(days=(135 + 30) / 4)
    assert timer.generation == 7


def test_inactivity_delay_is_clamped_to_floor_and_ceiling():
    definitions = load_definitions()
    fast = refresh(
        customer(orders=6, gap_days=2), T0, STATS.model_copy(update={"median_gap_days": 2}), definitions, 2, True
    )
    slow = refresh(customer(orders=2, gap_days=400), T0, STATS, definitions, 2, True)
    assert fast.timers[0].due_at == T0 + timedelta(days=definitions.inactivity.floor_days)
    assert slow.timers[0].due_at == T0 + timedelta(days=definitions.inactivity.ceiling_days)


def test_segment_change_emits_one_event_and_no_change_emits_none():
    first = refresh(customer(orders=1), T0, STATS, load_definitions(), 2, True)
    assert [e.detail_type for e in first.events] == ["SegmentChanged"]
    assert first.events[0].detail.to_lifecycle == "new"
    again = refresh(first.profile, T0, STATS, load_definitions(), 3, True)
    assert again.events == []


def test_segment_change_names_both_sides():
    profile = customer(orders=2).model_copy(
        update={"segment": Classification(lifecycle="new", customer_type="satisfied")}
    )
    result = refresh(profile, T0, STATS, load_definitions(), 2, False)
    assert result.events[0].detail.from_lifecycle == "new"
    assert result.events[0].detail.to_lifecycle == "active"


def test_birthday_timer_is_nine_in_the_morning_local_time_and_armed_once():
    profile = customer(orders=1, birthday=date(1990, 3, 5), time_zone="Asia/Baku")
    result = refresh(profile, T0, STATS, load_definitions(), 2, False)
    (timer,) = [t for t in result.timers if t.kind == BIRTHDAY]
    assert timer.due_at == datetime(2026, 3, 5, 5, 0, tzinfo=UTC)  # 09:00 in Baku (UTC+4)
    assert refresh(result.profile, T0, STATS, load_definitions(), 3, False).timers == []


def test_leap_day_birthdays_are_celebrated_on_the_28th():
    due = next_birthday_at(date(2000, 2, 29), None, datetime(2026, 1, 1, tzinfo=UTC))
    assert due == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
