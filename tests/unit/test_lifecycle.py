"""Reclassification and timers armed after a profile change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from factories import T0

from retention.lifecycle import BIRTHDAY, INACTIVITY, next_birthday_at, refresh
from retention.models.segments import Classification
from retention.segments import classify, load_definitions
from unit.test_segments import STATS, customer


def test_an_order_arms_inactivity_at_the_moment_the_customer_becomes_at_risk():
    # Given a loyal customer ordering every 45 days (expected gap (135 + 30) / 4 = 41.25 days)
    profile = customer(orders=4, gap_days=45)
    # When an order is applied at T0
    result = refresh(profile, T0, STATS, load_definitions(), new_version=7, rearm_inactivity=True)
    # Then the timer is due at 1.5 expected gaps, where at_risk starts, to the second
    (timer,) = [t for t in result.timers if t.kind == INACTIVITY]
    assert timer.due_at == T0 + timedelta(days=1.5 * 41.25)
    assert timer.generation == 7 and timer.firing == 1
    assert classify(profile, timer.due_at - timedelta(seconds=1), STATS).lifecycle == "loyal"
    assert classify(profile, timer.due_at, STATS).lifecycle == "at_risk"


def test_a_customer_who_is_not_risky_enough_for_at_risk_is_timed_for_lapsed():
    # Given a shop whose riskiest 30 % start at a risk this customer does not reach before lapsing
    stats = STATS.model_copy(update={"churn_risk_percentiles": [0.999] * 99})
    profile = customer(orders=4, gap_days=30)  # expected gap 30 days
    result = refresh(profile, T0, stats, load_definitions(), new_version=2, rearm_inactivity=True)
    # Then the first boundary is lapsed, at three gaps
    (timer,) = result.timers
    assert timer.due_at == T0 + timedelta(days=90)
    assert classify(profile, timer.due_at, stats).lifecycle == "lapsed"


def test_a_one_time_buyer_is_timed_for_the_tag_at_sixty_days_when_that_comes_first():
    definitions = load_definitions()
    stats = STATS.model_copy(update={"median_gap_days": 60.0})  # at_risk would start at 90 days
    result = refresh(customer(orders=1), T0, stats, definitions, new_version=2, rearm_inactivity=True)
    assert result.timers[0].due_at == T0 + timedelta(days=60)
    assert "one_time_buyer" in classify(customer(orders=1), T0 + timedelta(days=60), stats).tags


def test_a_churned_customer_has_no_boundary_left_and_the_timer_is_disarmed():
    profile = customer(orders=2)
    late = refresh(profile, T0 + timedelta(days=400), STATS, load_definitions(), 3, rearm_inactivity=True)
    assert late.profile.segment.lifecycle == "churned"
    assert late.timers == [] and late.disarmed == [INACTIVITY]


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
