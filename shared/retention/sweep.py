"""The timer sweep: fire what is due, reclassify, re-arm — with work proportional to what is due.

Run every 15 minutes. It reads the sweep cursor (the last bucket fully swept), queries each
(bucket, shard) from that bucket to now, claims each due timer, reads the claimed
customers' profiles in batches of 100, publishes CustomerInactive / TimerFired (and
SegmentChanged) events, then retires or re-arms each timer together with the profile's new
segment in one transaction. An inactivity timer is due at a segment boundary and re-arms at the
next one (:mod:`retention.boundaries`, pure: no request more per timer). A missed run is caught
up by the next (the cursor stays behind); overlapping runs cannot fire a timer twice (the claim
is conditional).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from retention import lifecycle
from retention.lifecycle import INACTIVITY
from retention.models.engine_events import EngineEvent, customer_inactive, timer_fired
from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats, SegmentDefinitions
from retention.models.timers import Timer
from retention.store.customers import CustomerStore, ProfileWrite, write_profile
from retention.store.errors import ConcurrentUpdate
from retention.store.timers import TimerStore, arm_timer

FIRST_RUN_LOOKBACK = timedelta(days=14)
"""With no cursor yet (the very first run), how far back to look. Later runs start at the
cursor however far back it is: an outage costs one catch-up run more queries, never a timer."""


@dataclass
class SweepResult:
    buckets_swept: int = 0
    due: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    not_claimed: int = 0
    segment_changes: int = 0
    events: int = 0


def run_sweep(
    now: datetime,
    customers: CustomerStore,
    timers: TimerStore,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    publish: Callable[[list[EngineEvent]], object],
    token: str | None = None,
) -> SweepResult:
    token = token or uuid.uuid4().hex
    result = SweepResult()
    layout = timers.layout
    current = layout.bucket_start(now)
    cursor = timers.cursor()
    start = cursor if cursor is not None else layout.bucket_start(now - FIRST_RUN_LOOKBACK)
    claimed: list[Timer] = []
    held_back: datetime | None = None  # earliest bucket holding another sweep's live claim
    bucket_start = start
    while bucket_start <= current:
        for due in timers.due(bucket_start, now):
            result.due += 1
            if timers.claim(due.timer, token, now):
                claimed.append(due.timer)
                continue
            result.not_claimed += 1
            if due.claimed_at is not None and held_back is None:
                # Another sweep is (or was) firing it. If that sweep dies, its claim expires and
                # a later sweep must still find the timer: keep the cursor at this bucket.
                held_back = bucket_start
        result.buckets_swept += 1
        bucket_start += layout.width

    found: dict[str, CustomerProfile] = {}
    ids = list(dict.fromkeys(t.customer_id for t in claimed))
    for start_index in range(0, len(ids), 100):
        found.update(customers.get_profiles(ids[start_index : start_index + 100]))

    finishes: list[tuple[Timer, Fired, CustomerProfile | None]] = []
    events: list[EngineEvent] = []
    for timer in claimed:
        profile = found.get(timer.customer_id)
        fired = _fire(timer, profile, now, stats, definitions)
        events.extend(fired.events)
        result.fired[timer.kind.split(":")[0]] += 1
        result.segment_changes += sum(1 for e in fired.events if e.detail_type == "SegmentChanged")
        finishes.append((timer, fired, profile))
    if events:
        publish(events)
        result.events = len(events)
    for timer, fired, read in finishes:
        writes = [arm_timer(t, now, layout) for t in fired.others]
        if fired.profile is not None and read is not None:
            writes.append(write_profile(ProfileWrite(fired.profile, read.version)))
        try:
            timers.retire(timer, token, fired.successor, now, writes)
        except ConcurrentUpdate:
            if fired.profile is None:
                continue  # the claim itself was lost (taken over after its TTL): nothing of ours to retire
            # The profile moved on (an order or registration): retire the timer alone; the
            # event that moved the profile has re-armed what it needs.
            try:
                timers.retire(timer, token, fired.successor, now)
            except ConcurrentUpdate:
                continue
    timers.advance_cursor(held_back if held_back is not None else current)
    return result


@dataclass
class Fired:
    """What a due timer does: its ``successor`` (same kind; replaces the claimed item, or None to
    delete it), ``others`` to arm beside it, the profile's new state and the events to publish."""

    successor: Timer | None
    others: list[Timer]
    profile: CustomerProfile | None
    events: list[EngineEvent]


def _fire(
    timer: Timer,
    profile: CustomerProfile | None,
    now: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
) -> Fired:
    """A birthday re-arms itself for next year through :func:`lifecycle.refresh`. Inactivity is
    due at a segment boundary: it announces the segment entered (CustomerInactive) and re-arms at
    the next boundary. If the segment did not change after all (the day's statistics moved the
    boundary later), it announces nothing and re-arms at the boundary as it now stands. Other
    kinds fire once."""
    if profile is None:
        return Fired(None, [], None, [timer_fired(timer, now)])
    version = profile.version + 1
    refreshed = lifecycle.refresh(profile, now, stats, definitions, new_version=version, rearm_inactivity=False)
    events = list(refreshed.events)
    updated = refreshed.profile
    successor = next((t for t in refreshed.timers if t.kind == timer.kind), None)
    others = [t for t in refreshed.timers if t.kind != timer.kind]
    if timer.kind == INACTIVITY:
        # A timer released from the backlog announces the segment the import stored unannounced.
        if refreshed.changed or timer.payload.get(lifecycle.BACKLOG_PAYLOAD):
            events.append(
                customer_inactive(
                    profile.customer_id,
                    timer.firing,
                    profile.last_order_at,
                    profile.segment,
                    updated.segment,
                    timer.due_at,
                    now,
                )
            )
        updated = updated.model_copy(update={"inactivity_firings": timer.firing})
        if timer.firing < lifecycle.MAX_INACTIVITY_FIRINGS:
            successor = lifecycle.inactivity_timer(
                updated, now, stats, definitions, generation=version, firing=timer.firing + 1
            )
    else:
        events.append(timer_fired(timer, now))
    return Fired(successor, others, updated, events)
