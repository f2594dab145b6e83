"""Apply one shop event to the customer store exactly once.

Read the profiles involved, compute their new state with the pure rules in
:mod:`retention.profiles`, and commit marker + profiles in one transaction. A lost
optimistic lock (two events for one customer in flight) re-reads and retries; a
duplicate delivery is recognised by its marker and changes nothing. An event dated further
ahead of the engine's clock than the allowed skew, or before 1970, is refused before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from retention import clock, profiles, published
from retention.lifecycle import INACTIVITY, default_stats, overdue_timer, refresh
from retention.models.engine_events import EngineEvent, as_historical, order_applied, registered
from retention.models.events import (
    CustomerReferredEvent,
    CustomerRegisteredEvent,
    OrderPlacedEvent,
    ShopEvent,
)
from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats, SegmentDefinitions
from retention.segments import load_definitions
from retention.store.customers import CustomerStore, Marker, ProfileWrite
from retention.store.errors import AlreadyApplied, ConcurrentUpdate
from retention.store.timers import arm_timer, disarm_timer, hold_timer

Publisher = Callable[[list[EngineEvent]], object]

MAX_ATTEMPTS = 6
DEFAULT_CLOCK_SKEW = timedelta(days=1)
"""The default of the ``MAX_CLOCK_SKEW_SECONDS`` setting (retention.settings)."""
EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)
"""No shop event is older than this (the oldest public order logs, CDNOW's, are from 1997)."""


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


class ImplausibleDate(ValueError):
    """A shop event dated beyond the allowed clock skew, or before :data:`EARLIEST_EVENT`.

    Applied, an order dated 2100 would stay the customer's latest for 74 years and freeze their
    email and name (only a newer order updates them); one dated year 1 would make every gap and
    tenure absurd. The shop must resend it correctly dated."""


class RetriesExhausted(RuntimeError):
    """The profile kept changing under us; the message is retried by SQS later."""


def apply_shop_event(
    event: ShopEvent,
    store: CustomerStore,
    publish: Publisher | None = None,
    max_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Outcome:
    """Apply ``event`` once, then publish the SegmentChanged events it caused.

    Returns whether it changed anything or was a duplicate. Events are published only after
    the commit, so a rolled-back attempt never announces a segment the store does not hold.
    Raises :class:`ImplausibleDate` for an event dated more than ``max_skew`` after now.
    """
    refuse_implausible_date(event, clock.now(), max_skew)
    for _ in range(MAX_ATTEMPTS):
        try:
            events = _attempt(event, store)
        except AlreadyApplied:
            # The first delivery may have committed and then failed to publish: publish what its
            # marker recorded again (consumers are idempotent), so no event is ever lost.
            if publish is not None:
                recorded = store.marker_outbox(_marker(event, clock.now()))
                if recorded:
                    publish(recorded)
            return Outcome.DUPLICATE
        except ConcurrentUpdate:
            continue
        if events and publish is not None:
            publish(events)
        return Outcome.APPLIED
    raise RetriesExhausted(f"{event.detail_type} {event.id}: profile changed {MAX_ATTEMPTS} times during apply")


def occurred_at(event: ShopEvent) -> tuple[str, datetime]:
    """The field that dates what happened (the order, the registration, the referral) and its value."""
    match event:
        case OrderPlacedEvent(detail=order):
            return "placed_at", order.placed_at
        case CustomerRegisteredEvent(detail=registration):
            return "registered_at", registration.registered_at
        case CustomerReferredEvent(detail=referral):
            return "referred_at", referral.referred_at
    raise TypeError(type(event).__name__)  # pragma: no cover


def refuse_implausible_date(event: ShopEvent, now: datetime, max_skew: timedelta) -> None:
    field, at = occurred_at(event)
    if at > now + max_skew:
        raise ImplausibleDate(
            f"detail.{field} {at.isoformat()} is more than {_span(max_skew)} ahead of the engine's clock "
            f"({now.isoformat()})"
        )
    if at < EARLIEST_EVENT:
        raise ImplausibleDate(f"detail.{field} {at.isoformat()} is before {EARLIEST_EVENT.date().isoformat()}")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _attempt(event: ShopEvent, store: CustomerStore) -> list[EngineEvent]:
    published.refresh()
    at = clock.now()
    definitions = load_definitions()
    stats = store.population_stats() or default_stats(at, definitions)
    match event:
        case OrderPlacedEvent(detail=order):
            profile = store.get_profile(order.customer_id)
            updated = profiles.apply_order(_or_new(profile, order.customer_id, at), order, at)
            record = profiles.order_record(order, at)
            applied = order_applied(
                order.customer_id, order.order_id, order.placed_at, order.currency, order.total, order.coupon_code, at
            )
            marker = Marker.for_order(record)
            return _commit(
                store,
                marker,
                [(updated, profile)],
                at,
                stats,
                definitions,
                rearm=True,
                announce=[applied],
                historical=order.historical,
            )
        case CustomerRegisteredEvent(detail=registration):
            profile = store.get_profile(registration.customer_id)
            updated = profiles.apply_registration(_or_new(profile, registration.customer_id, at), registration, at)
            marker = Marker.for_registration(registration.customer_id, at)
            announced = registered(registration.customer_id, registration.registered_at, at)
            return _commit(
                store, marker, [(updated, profile)], at, stats, definitions, rearm=False, announce=[announced]
            )
        case CustomerReferredEvent(detail=referral):
            found = store.get_profiles([referral.referrer_id, referral.referred_id])
            referrer, referred = found.get(referral.referrer_id), found.get(referral.referred_id)
            changes = [
                (
                    profiles.apply_referral_to_referrer(_or_new(referrer, referral.referrer_id, at), referral, at),
                    referrer,
                ),
                (
                    profiles.apply_referral_to_referred(_or_new(referred, referral.referred_id, at), referral, at),
                    referred,
                ),
            ]
            marker = Marker.for_referral(referral.referrer_id, referral.referred_id, referral.referred_at)
            return _commit(store, marker, changes, at, stats, definitions, rearm=False)
        case _:  # pragma: no cover - the discriminated union admits nothing else
            raise TypeError(f"unsupported event {type(event).__name__}")


def _commit(
    store: CustomerStore,
    marker: Marker,
    changes: list[tuple[CustomerProfile, CustomerProfile | None]],
    at: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    rearm: bool,
    announce: list[EngineEvent] | None = None,
    historical: bool = False,
) -> list[EngineEvent]:
    """Reclassify each changed profile and commit marker, profiles and timers in one transaction.

    The events to publish are stored on the marker too (its outbox), so a duplicate delivery
    can publish them again if the first delivery died between commit and publish. A
    ``historical`` change (an imported past order) marks its events historical (they start no
    journey) and holds an already overdue inactivity timer in the backlog."""
    writes: list[ProfileWrite] = []
    timers = []
    events: list[EngineEvent] = []
    for updated, read in changes:
        read_version = read.version if read is not None else 0
        result = refresh(updated, at, stats, definitions, new_version=read_version + 1, rearm_inactivity=rearm)
        writes.append(ProfileWrite(result.profile, read_version))
        held = overdue_timer(result.profile, at, stats, definitions, read_version + 1) if historical else None
        if held is not None:
            timers.append(hold_timer(held))
        timers.extend(arm_timer(t, at) for t in result.timers if held is None or t.kind != INACTIVITY)
        timers.extend(disarm_timer(updated.customer_id, k) for k in result.disarmed if held is None or k != INACTIVITY)
        events.extend(result.events)
    events.extend(announce or [])
    if historical:
        events = [as_historical(event) for event in events]
    store.apply(marker.with_outbox(events), writes, timers)
    return events


def _marker(event: ShopEvent, at: datetime) -> Marker:
    """The marker an event's first delivery created (its key: what a duplicate looks up)."""
    match event:
        case OrderPlacedEvent(detail=order):
            return Marker.for_order(profiles.order_record(order, at))
        case CustomerRegisteredEvent(detail=registration):
            return Marker.for_registration(registration.customer_id, at)
        case CustomerReferredEvent(detail=referral):
            return Marker.for_referral(referral.referrer_id, referral.referred_id, referral.referred_at)
    raise TypeError(type(event).__name__)  # pragma: no cover


def _or_new(profile: CustomerProfile | None, customer_id: str, at: datetime) -> CustomerProfile:
    return profile if profile is not None else profiles.new_profile(customer_id, at)
