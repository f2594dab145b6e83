"""After any change to a profile: reclassify, emit SegmentChanged, and (re)arm its timers.

The inactivity timer is armed at the customer's next segment boundary
(:func:`retention.boundaries.next_change_at`): the moment the segment would change if no order
came, so a customer enters at_risk when the rules say so, not at the next check. Pure: returns
the new profile, the timers to arm (or kinds to disarm) and the events to publish; the caller
commits them in the same transaction as the profile so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from retention import boundaries
from retention.models.engine_events import EngineEvent, segment_changed
from retention.models.profile import CustomerProfile
from retention.models.segments import Classification, PopulationStats, SegmentDefinitions
from retention.models.timers import Timer
from retention.segments import classify

BIRTHDAY_LOCAL_TIME = time(9, 0)
INACTIVITY = "inactivity"
BIRTHDAY = "birthday"
MAX_INACTIVITY_FIRINGS = 100
"""A safety stop per order cycle: boundaries are few (a handful of rules), but statistics that
move every day could keep moving one that involves the shop's risk percentiles."""


@dataclass
class Refresh:
    profile: CustomerProfile
    timers: list[Timer] = field(default_factory=list)
    disarmed: list[str] = field(default_factory=list)
    """Timer kinds to delete: an inactivity timer armed before an order that leaves no boundary."""
    events: list[EngineEvent] = field(default_factory=list)
    changed: bool = False
    """The lifecycle, customer type or tags differ from what the profile held."""


def default_stats(at: datetime, definitions: SegmentDefinitions) -> PopulationStats:
    """Before the first daily statistics run: no RFM cut points, the configured default gap."""
    return PopulationStats(computed_at=at, median_gap_days=float(definitions.inactivity.default_gap_days))


def inactivity_timer(
    profile: CustomerProfile,
    after: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    generation: int,
    firing: int = 1,
) -> Timer | None:
    """The inactivity timer at the next segment boundary after ``after``, or ``None`` if the
    segment stays as it is without an order (a churned buyer under the shipped rules)."""
    due = boundaries.next_change_at(profile, after, stats, definitions)
    if due is None:
        return None
    return Timer(customer_id=profile.customer_id, kind=INACTIVITY, due_at=due, generation=generation, firing=firing)


BACKLOG_PAYLOAD = "backlog"
"""Payload flag of an inactivity timer held in the backlog: when released it announces the
segment the customer is in even if that is the one stored (the import stored it unannounced)."""


def overdue_timer(
    profile: CustomerProfile,
    at: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    generation: int,
) -> Timer | None:
    """For a profile that imported past orders built: the inactivity timer to hold in the backlog
    when the customer is already overdue at ``at``, else None (the usual timer is right then).

    Overdue means a segment boundary passed since the last order unannounced (a live engine
    would have told the journeys then: at_risk, lapsed, one-time buyer, churned) or the expected
    next order is already past (the next crossing, into at_risk, is near). The held timer is due
    at that first boundary; it waits for the operator's release instead of firing, so an import
    does not send every overdue customer a win-back the next morning."""
    if profile.last_order_at is None:
        return None
    due = boundaries.next_change_at(profile, profile.last_order_at, stats, definitions)
    expected = profile.segment.expected_next_order_at if profile.segment else None
    if due is None or (due > at and (expected is None or expected > at)):
        return None
    return Timer(
        customer_id=profile.customer_id,
        kind=INACTIVITY,
        due_at=due,
        generation=generation,
        payload={BACKLOG_PAYLOAD: True},
    )


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
        result.changed = True
        result.events.append(segment_changed(profile.customer_id, profile.segment, classification, at))
        updates["segment_changed_at"] = at
    if rearm_inactivity:
        timer = inactivity_timer(profile, at, stats, definitions, generation=new_version)
        if timer is not None:
            result.timers.append(timer)
        else:
            result.disarmed.append(INACTIVITY)
        updates["inactivity_firings"] = 0
    if profile.birthday and (profile.birthday_timer_at is None or profile.birthday_timer_at <= at):
        due = next_birthday_at(profile.birthday, profile.time_zone, at)
        result.timers.append(Timer(customer_id=profile.customer_id, kind=BIRTHDAY, due_at=due, generation=new_version))
        updates["birthday_timer_at"] = due
    result.profile = profile.model_copy(update=updates)
    return result
