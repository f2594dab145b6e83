"""Frequency discipline, as pure functions: how soon may this customer get another marketing email?

The answer is a time, never a refusal: an email that may not go now is deferred to the
earliest moment that respects the rolling 7-day cap, the minimum gap (stretched after a run of
unopened emails) and the customer's quiet hours. Only sunset (too many unopened in a row)
stops marketing email altogether.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from retention.models.journeys import FrequencyRules
from retention.models.messaging import SendHistory

WEEK = timedelta(days=7)


def is_sunset(history: SendHistory, rules: FrequencyRules) -> bool:
    return history.unopened_streak >= rules.sunset_after_unopened


def minimum_gap(history: SendHistory, rules: FrequencyRules) -> timedelta:
    gap = timedelta(hours=rules.min_gap_hours)
    if history.unopened_streak >= rules.slow_down_after_unopened:
        gap *= rules.slow_down_factor
    return gap


def _zone(name: str | None, rules: FrequencyRules) -> ZoneInfo:
    return ZoneInfo(name or rules.default_time_zone)


def outside_quiet_hours(at: datetime, zone_name: str | None, rules: FrequencyRules) -> datetime:
    """``at`` itself, or the end of the quiet hours it falls in (customer's local time), in UTC."""
    zone = _zone(zone_name, rules)
    local = at.astimezone(zone)
    start, end = rules.quiet_hours_start, rules.quiet_hours_end
    hour = local.hour
    quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if start == end or not quiet:
        return at
    wake_day = local.date() if hour < end else local.date() + timedelta(days=1)
    wake = datetime.combine(wake_day, time(end), tzinfo=zone)
    return wake.astimezone(at.tzinfo)


def earliest_send(
    now: datetime,
    history: SendHistory,
    rules: FrequencyRules,
    time_zone: str | None,
    *,
    exempt_from_cap: bool = False,
) -> datetime:
    """The earliest time at or after ``now`` this email may be sent (quiet hours always apply)."""
    candidate = now
    sent = sorted(history.sent_at)
    if not exempt_from_cap and sent:
        candidate = max(candidate, sent[-1] + minimum_gap(history, rules))
        for _ in range(len(sent) + 1):
            in_window = [moment for moment in sent if moment > candidate - WEEK]
            if len(in_window) < rules.max_per_7_days:
                break
            candidate = in_window[0] + WEEK  # when the oldest of the window drops out
    return outside_quiet_hours(candidate, time_zone, rules)
