"""Apply one shop event to the customer store exactly once.

Read the profiles involved, compute their new state with the pure rules in
:mod:`retention.profiles`, and commit marker + profiles in one transaction. A lost
optimistic lock (two events for one customer in flight) re-reads and retries; a
duplicate delivery is recognised by its marker and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from retention import clock, profiles
from retention.models.events import (
    CustomerReferredEvent,
    CustomerRegisteredEvent,
    OrderPlacedEvent,
    ShopEvent,
)
from retention.models.profile import CustomerProfile
from retention.store.customers import CustomerStore, Marker, ProfileWrite
from retention.store.errors import AlreadyApplied, ConcurrentUpdate

MAX_ATTEMPTS = 6


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


class RetriesExhausted(RuntimeError):
    """The profile kept changing under us; the message is retried by SQS later."""


def apply_shop_event(event: ShopEvent, store: CustomerStore) -> Outcome:
    """Apply ``event`` once. Returns whether it changed anything or was a duplicate."""
    for _ in range(MAX_ATTEMPTS):
        try:
            _attempt(event, store)
        except AlreadyApplied:
            return Outcome.DUPLICATE
        except ConcurrentUpdate:
            continue
        return Outcome.APPLIED
    raise RetriesExhausted(f"{event.detail_type} {event.id}: profile changed {MAX_ATTEMPTS} times during apply")


def _attempt(event: ShopEvent, store: CustomerStore) -> None:
    at = clock.now()
    match event:
        case OrderPlacedEvent(detail=order):
            profile = store.get_profile(order.customer_id)
            updated = profiles.apply_order(_or_new(profile, order.customer_id, at), order, at)
            store.apply(Marker.for_order(profiles.order_record(order, at)), [_write(updated, profile)])
        case CustomerRegisteredEvent(detail=registration):
            profile = store.get_profile(registration.customer_id)
            updated = profiles.apply_registration(_or_new(profile, registration.customer_id, at), registration, at)
            marker = Marker(registration.customer_id, "EVENT#REGISTERED", {"type": "registered", "at": at})
            store.apply(marker, [_write(updated, profile)])
        case CustomerReferredEvent(detail=referral):
            found = store.get_profiles([referral.referrer_id, referral.referred_id])
            writes = [
                _changed(found.get(cid), cid, at, rule)
                for cid, rule in (
                    (referral.referrer_id, lambda p: profiles.apply_referral_to_referrer(p, referral, at)),
                    (referral.referred_id, lambda p: profiles.apply_referral_to_referred(p, referral, at)),
                )
            ]
            marker = Marker(
                referral.referrer_id,
                f"REFERRAL#{referral.referred_id}",
                {"type": "referral", "referred_id": referral.referred_id, "referred_at": referral.referred_at},
            )
            store.apply(marker, writes)
        case _:  # pragma: no cover - the discriminated union admits nothing else
            raise TypeError(f"unsupported event {type(event).__name__}")


def _or_new(profile: CustomerProfile | None, customer_id: str, at: datetime) -> CustomerProfile:
    return profile if profile is not None else profiles.new_profile(customer_id, at)


def _write(updated: CustomerProfile, read: CustomerProfile | None) -> ProfileWrite:
    return ProfileWrite(updated, read.version if read is not None else 0)


def _changed(
    read: CustomerProfile | None,
    customer_id: str,
    at: datetime,
    rule: Callable[[CustomerProfile], CustomerProfile],
) -> ProfileWrite:
    return _write(rule(_or_new(read, customer_id, at)), read)
