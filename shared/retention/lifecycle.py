"""After any change to a profile: reclassify, emit SegmentChanged, and (re)arm its timers.

Pure: returns the new profile, the timers to arm and the events to publish; the caller
commits them in the same transaction as the profile so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from retention import churn
from retention.models.engine_events import EngineEvent, segment_changed
from retention.models.profile import CustomerProfile
from retention.models.segments import Classification, PopulationStats, SegmentDefinitions
from retention.models.timers import Timer
from retention.segments import classify

BIRTHDAY_LOCAL_TIME = time(9, 0)
INACTIVITY = "inactivity"
BIRTHDAY = "birthday"


@dataclass
class Refresh:
    profile: CustomerProfile
    timers: list[Timer] = field(default_factory=list)
    events: list[EngineEvent] = field(default_factory=list)


def default_stats(at: datetime, definitions: SegmentDefinitions) -> PopulationStats:
    """Before the first daily statistics run: no RFM cut points, the configured default gap."""
    return PopulationStats(computed_at=at, median_gap_days=float(definitions.inactivity.default_gap_days))


def inactivity_gap_days(profile: CustomerProfile, stats: PopulationStats, definitions: SegmentDefinitions) -> float:
    settings = definitions.inactivity
    gap = churn.expected_gap_days(profile, stats.median_gap_days)
    return max(float(settings.floor_days), min(float(settings.ceiling_days), gap))


def next_birthday_at(birthday: date, zone: str | None, after: datetime) -> datetime:
    """The next birthday at 09:00 in the customer's zone (UTC if unknown), strictly after ``after``."""
    tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
    local_after = after.astimezone(tz)
    for year in (local_after.year, local_after.year + 1, local_after.year + 2):
        day = birthday.day if not (birthday.month == 2 and birthday.day == 29) else 28
        candidate = datetime.combine(date(year, birthday.month, day), BIRTHDAY_LOCAL_TIME, tzinfo=tz)
        if candidate > local_after:
            return candidate.astimezone(after.tzinfo)
    raise AssertionError("unreachable: a birthday occurs within two years")


def _changed(before: Classification | None, after: Classification) -> bool:
    if before is None:
        return True
    return (before.lifecycle, before.customer_type, before.tags) != (after.lifecycle, after.customer_type, after.tags)


def refresh(
    profile: CustomerProfile,
    at: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    new_version: int,
    rearm_inactivity: bool,
) -> Refresh:
    """Reclassify ``profile`` at ``at``; ``new_version`` becomes the generation of re-armed timers."""
    classification = classify(profile, at, stats, definitions)
    result = Refresh(profile)
    updates: dict[str, object] = {"segment": classification}
    if _changed(profile.segment, classification):
        result.events.append(segment_changed(profile.customer_id, profile.segment, classification, at))
        updates["segment_changed_at"] = at
    if rearm_inactivity and profile.last_order_at is not None:
        gap = inactivity_gap_days(profile, stats, definitions)
        due = churn.days_after(profile.last_order_at, gap)
        if due is not None:  # None only past datetime's range: nothing to wake up for
            result.timers.append(
                Timer(customer_id=profile.customer_id, kind=INACTIVITY, due_at=due, generation=new_version)
            )
        updates["inactivity_firings"] = 0
    if profile.birthday and (profile.birthday_timer_at is None or profile.birthday_timer_at <= at):
        due = next_birthday_at(profile.birthday, profile.time_zone, at)
        result.timers.append(Timer(customer_id=profile.customer_id, kind=BIRTHDAY, due_at=due, generation=new_version))
        updates["birthday_timer_at"] = due
    result.profile = profile.model_copy(update=updates)
    return result
