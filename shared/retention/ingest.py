"""Apply one shop event to the customer store exactly once.

Read the profiles involved, compute their new state with the pure rules in
:mod:`retention.profiles`, and commit marker + profiles in one transaction. A lost
optimistic lock (two events for one customer in flight) re-reads and retries; a
duplicate delivery is recognised by its marker and changes nothing. An event dated further
ahead of the engine's clock than the allowed skew, or before 1970, is refused before anything is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from retention import clock, profiles, published
from retention.lifecycle import INACTIVITY, default_stats, overdue_timer, refresh
from retention.models.consent import ConsentEvidence, ConsentPolicy
from retention.models.engine_events import EngineEvent, as_historical, order_applied, refund_applied, registered
from retention.models.events import (
    CustomerDeletedEvent,
    CustomerReferredEvent,
    CustomerRegistered,
    CustomerRegisteredEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
    OrderCancelled,
    OrderCancelledEvent,
    OrderPlacedEvent,
    OrderRefunded,
    OrderRefundedEvent,
    ShopEvent,
)
from retention.models.profile import CustomerProfile, OrderRecord
from retention.models.segments import PopulationStats, SegmentDefinitions
from retention.segments import load_definitions
from retention.store.customers import CustomerStore, Marker, ProfileWrite, write_order
from retention.store.errors import AlreadyApplied, ConcurrentUpdate
from retention.store.timers import arm_timer, disarm_timer, hold_timer
from retention.store.transaction import Write
from retention.validation import NotYet

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


class OrderNotYetSeen(NotYet):
    """A refund or cancellation for an order the engine has not applied (yet): events overtake
    each other, so the message is retried, and after the queue's retries it waits in the
    dead-letter queue with this reason in the log. It is never dropped."""


Eraser = Callable[[str], object]
"""Erases everything stored about one customer (retention.forget, bound to its store)."""


def apply_shop_event(
    event: ShopEvent,
    store: CustomerStore,
    publish: Publisher | None = None,
    max_skew: timedelta = DEFAULT_CLOCK_SKEW,
    policy: ConsentPolicy = ConsentPolicy.EXPLICIT,
    erase: Eraser | None = None,
) -> Outcome:
    """Apply ``event`` once, then publish the SegmentChanged events it caused.

    Returns whether it changed anything or was a duplicate. Events are published only after
    the commit, so a rolled-back attempt never announces a segment the store does not hold.
    Raises :class:`ImplausibleDate` for an event dated more than ``max_skew`` after now.
    """
    refuse_implausible_date(event, clock.now(), max_skew)
    if isinstance(event, CustomerDeletedEvent):
        if erase is None:
            raise TypeError("CustomerDeleted needs an eraser")
        erase(event.detail.customer_id)  # erasing twice erases nothing more: idempotent as it is
        return Outcome.APPLIED
    for _ in range(MAX_ATTEMPTS):
        try:
            events = _attempt(event, store, policy)
        except AlreadyApplied:
            # The first delivery may have committed and then failed to publish: publish what its
            # marker recorded again (consumers are idempotent), so no event is ever lost.
            if publish is not None:
                recorded = store.marker_outbox(_marker(event, clock.now()))
                if recorded:
                    publish(recorded)
            if isinstance(event, CustomerRegisteredEvent):
                # A known customer registering again (new address, new consent) is applied as an
                # update, never dropped as a duplicate; the same facts twice are a duplicate.
                return _retrying(event, lambda: _reregister(event.detail, store, policy), publish)
            return Outcome.DUPLICATE
        except ConcurrentUpdate:
            continue
        if events and publish is not None:
            publish(events)
        return Outcome.APPLIED
    raise RetriesExhausted(f"{event.detail_type} {event.id}: profile changed {MAX_ATTEMPTS} times during apply")


def _retrying(event: ShopEvent, attempt: Callable[[], list[EngineEvent]], publish: Publisher | None) -> Outcome:
    for _ in range(MAX_ATTEMPTS):
        try:
            events = attempt()
        except AlreadyApplied:
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
        case OrderRefundedEvent(detail=refund):
            return "refunded_at", refund.refunded_at
        case OrderCancelledEvent(detail=cancellation):
            return "cancelled_at", cancellation.cancelled_at
        case CustomerUpdatedEvent(detail=update):
            return "updated_at", update.updated_at
        case CustomerDeletedEvent(detail=deletion):
            return "deleted_at", deletion.deleted_at
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


def _attempt(event: ShopEvent, store: CustomerStore, policy: ConsentPolicy) -> list[EngineEvent]:
    published.refresh()
    at = clock.now()
    definitions = load_definitions()
    stats = store.population_stats() or default_stats(at, definitions)
    match event:
        case OrderPlacedEvent(detail=order):
            profile = store.get_profile(order.customer_id)
            updated = profiles.apply_order(_or_new(profile, order.customer_id, at), order, at)
            evidence = profiles.consent_evidence(order, f"OrderPlaced:{order.order_id}", order.placed_at, policy)
            updated = profiles.record_consent(updated, evidence)
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
            updated = profiles.record_consent(updated, _registration_consent(registration, policy))
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
        case OrderRefundedEvent(detail=refund):
            return _refund(store, refund, at, stats, definitions)
        case OrderCancelledEvent(detail=cancellation):
            return _cancel(store, cancellation, at, stats, definitions)
        case CustomerUpdatedEvent(detail=update):
            return _update(store, update, at, stats, definitions, policy)
        case _:  # pragma: no cover - the discriminated union admits nothing else
            raise TypeError(f"unsupported event {type(event).__name__}")


def _registration_consent(registration: CustomerRegistered, policy: ConsentPolicy) -> ConsentEvidence | None:
    source = f"CustomerRegistered:{registration.customer_id}"
    return profiles.consent_evidence(registration, source, registration.registered_at, policy)


def _update_key(update: CustomerUpdated) -> str:
    return update.update_id or update.updated_at.isoformat()


def _update(
    store: CustomerStore,
    update: CustomerUpdated,
    at: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    policy: ConsentPolicy,
) -> list[EngineEvent]:
    """New e-mail, name, locale, time zone, birthday or consent, without an order."""
    profile = store.get_profile(update.customer_id)
    updated = profiles.apply_update(_or_new(profile, update.customer_id, at), update, at)
    evidence = profiles.consent_evidence(update, f"CustomerUpdated:{_update_key(update)}", update.updated_at, policy)
    updated = profiles.record_consent(updated, evidence)
    marker = Marker.for_update(update.customer_id, _update_key(update))
    return _commit(store, marker, [(updated, profile)], at, stats, definitions, rearm=False)


def _reregister(registration: CustomerRegistered, store: CustomerStore, policy: ConsentPolicy) -> list[EngineEvent]:
    published.refresh()
    at = clock.now()
    definitions = load_definitions()
    stats = store.population_stats() or default_stats(at, definitions)
    profile = store.get_profile(registration.customer_id)
    updated = profiles.apply_reregistration(_or_new(profile, registration.customer_id, at), registration, at)
    updated = profiles.record_consent(updated, _registration_consent(registration, policy))
    if profile is not None and _same(updated, profile):
        raise AlreadyApplied(f"registration of {registration.customer_id} changes nothing")
    facts = json.dumps(registration.model_dump(mode="json"), sort_keys=True)
    marker = Marker.for_update(
        registration.customer_id, f"registered:{hashlib.sha256(facts.encode()).hexdigest()[:32]}"
    )
    return _commit(store, marker, [(updated, profile)], at, stats, definitions, rearm=False)


def _same(updated: CustomerProfile, profile: CustomerProfile) -> bool:
    """Whether an update changes nothing but the time it was applied (a redelivered registration)."""
    ignored = {"updated_at", "version"}
    return updated.model_dump(exclude=ignored) == profile.model_dump(exclude=ignored)


def _applied_order(
    store: CustomerStore, customer_id: str, order_id: str, what: str
) -> tuple[CustomerProfile, OrderRecord]:
    """The profile, then the order record (in that order: a change committed between the two
    reads moves the profile's version, so the commit fails and the attempt starts again)."""
    profile = store.get_profile(customer_id)
    record = store.get_order(customer_id, order_id) if profile is not None else None
    if profile is None or record is None:
        raise OrderNotYetSeen(
            f"{what} for order {order_id} of customer {customer_id}, which the engine has not applied yet"
        )
    return profile, record


def _refund(
    store: CustomerStore, refund: OrderRefunded, at: datetime, stats: PopulationStats, definitions: SegmentDefinitions
) -> list[EngineEvent]:
    profile, record = _applied_order(store, refund.customer_id, refund.order_id, f"refund {refund.refund_id}")
    if record.currency != refund.currency:
        raise profiles.CurrencyMismatch(
            f"refund {refund.refund_id} is in {refund.currency} but order {refund.order_id} was in {record.currency}"
        )
    updated, changed, applied = profiles.apply_refund(profile, record, refund.amount, at)
    marker = Marker.for_refund(refund.customer_id, refund.order_id, refund.refund_id, applied)
    announce = [_refund_event(changed, refund.refund_id, applied, refund.refunded_at, at)] if applied else []
    return _commit(
        store,
        marker,
        [(updated, profile)],
        at,
        stats,
        definitions,
        rearm=not changed.counts,
        announce=announce,
        also=[write_order(changed)] if applied else [],
    )


def _cancel(
    store: CustomerStore,
    cancellation: OrderCancelled,
    at: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
) -> list[EngineEvent]:
    profile, record = _applied_order(store, cancellation.customer_id, cancellation.order_id, "cancellation")
    updated, changed, taken = profiles.apply_cancellation(profile, record, cancellation.cancelled_at, at)
    marker = Marker.for_cancellation(cancellation.customer_id, cancellation.order_id, cancellation.cancelled_at)
    announce = [_refund_event(changed, "cancelled", taken, cancellation.cancelled_at, at)] if taken else []
    also = [write_order(changed)] if changed is not record else []
    return _commit(
        store, marker, [(updated, profile)], at, stats, definitions, rearm=True, announce=announce, also=also
    )


def _refund_event(record: OrderRecord, refund_id: str, amount: Decimal, when: datetime, at: datetime) -> EngineEvent:
    return refund_applied(
        record.customer_id, record.order_id, refund_id, record.currency, amount, when, record.counts, at
    )


def _commit(
    store: CustomerStore,
    marker: Marker,
    changes: list[tuple[CustomerProfile, CustomerProfile | None]],
    at: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    rearm: bool,
    announce: list[EngineEvent] | None = None,
    also: Sequence[Write] = (),
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
    store.apply(marker.with_outbox(events), writes, [*timers, *also])
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
        case OrderRefundedEvent(detail=refund):
            return Marker.for_refund(refund.customer_id, refund.order_id, refund.refund_id, None)
        case OrderCancelledEvent(detail=cancellation):
            return Marker.for_cancellation(cancellation.customer_id, cancellation.order_id, None)
        case CustomerUpdatedEvent(detail=update):
            return Marker.for_update(update.customer_id, _update_key(update))
    raise TypeError(type(event).__name__)  # pragma: no cover


def _or_new(profile: CustomerProfile | None, customer_id: str, at: datetime) -> CustomerProfile:
    return profile if profile is not None else profiles.new_profile(customer_id, at)
