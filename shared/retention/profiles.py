"""How shop events change a customer profile: pure functions, no AWS.

Events may arrive late and out of order (SQS, retries, backfills), so every rule is
written to be order-independent where it can be: first/last order are min/max, the
"latest" facts (email, name, last items) only change when the event is the newest seen.
Idempotency is not handled here: the store applies each event at most once.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from decimal import Decimal

from retention.models.consent import ConsentEvidence, ConsentPolicy, ConsentState
from retention.models.events import (
    CustomerFacts,
    CustomerReferred,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
)
from retention.models.profile import (
    MAX_COUPONS,
    MAX_LAST_ITEMS,
    MAX_ORDER_DATES,
    MAX_REFERRALS,
    CustomerProfile,
    ItemSummary,
    OrderRecord,
)


class CurrencyMismatch(ValueError):
    """An order in a currency other than the profile's: totals would be meaningless."""


def new_profile(customer_id: str, at: datetime) -> CustomerProfile:
    return CustomerProfile(customer_id=customer_id, created_at=at, updated_at=at)


def _apply_facts(profile: CustomerProfile, facts: CustomerFacts) -> dict[str, object]:
    changes: dict[str, object] = {}
    for field in ("locale", "time_zone", "birthday"):
        value = getattr(facts, field)
        if value is not None:
            changes[field] = value
    return changes


def apply_order(profile: CustomerProfile, order: OrderPlaced, at: datetime) -> CustomerProfile:
    """The profile after ``order``; ``at`` is when the engine applied it."""
    if profile.currency is not None and profile.currency != order.currency:
        raise CurrencyMismatch(
            f"order {order.order_id} is in {order.currency} but customer {order.customer_id} buys in {profile.currency}"
        )
    is_latest = profile.last_order_at is None or order.placed_at >= profile.last_order_at
    categories = dict(profile.categories)
    for category in sorted({item.category for item in order.items}):
        categories[category] = categories.get(category, 0) + 1

    order_dates, order_totals = list(profile.order_dates), aligned_totals(profile)
    position = bisect.bisect_right(order_dates, order.placed_at)
    order_dates.insert(position, order.placed_at)
    order_totals.insert(position, order.total)
    order_dates, order_totals = order_dates[-MAX_ORDER_DATES:], order_totals[-MAX_ORDER_DATES:]

    changes: dict[str, object] = {
        "order_count": profile.order_count + 1,
        "total_spent": profile.total_spent + order.total,
        "currency": order.currency,
        "categories": categories,
        "order_dates": order_dates,
        "order_totals": order_totals,
        "first_order_at": min(filter(None, (profile.first_order_at, order.placed_at))),
        "last_order_at": max(filter(None, (profile.last_order_at, order.placed_at))),
        "updated_at": at,
    }
    if order.coupon_code:
        changes["coupons_used"] = [*profile.coupons_used, order.coupon_code][-MAX_COUPONS:]
    if is_latest:
        changes["email"] = order.email
        if order.name:
            changes["name"] = order.name
        changes["last_items"] = [
            ItemSummary(sku=i.sku, name=i.name, category=i.category, price=i.price, qty=i.qty)
            for i in order.items[:MAX_LAST_ITEMS]
        ]
        changes.update(_apply_facts(profile, order))
    elif profile.email is None:
        changes["email"] = order.email
    return profile.model_copy(update=changes)


def order_record(order: OrderPlaced, at: datetime) -> OrderRecord:
    return OrderRecord(
        customer_id=order.customer_id,
        order_id=order.order_id,
        placed_at=order.placed_at,
        currency=order.currency,
        total=order.total,
        categories=sorted({item.category for item in order.items}),
        coupon_code=order.coupon_code,
        applied_at=at,
    )


def apply_registration(profile: CustomerProfile, event: CustomerRegistered, at: datetime) -> CustomerProfile:
    """Registration sets contact facts; it never overwrites newer ones from an order. It dates the
    facts (``facts_updated_at``) like an update does, so the same registration delivered again
    is recognised as changing nothing."""
    changes: dict[str, object] = {"registered_at": event.registered_at, "updated_at": at}
    if profile.facts_updated_at is None or event.registered_at > profile.facts_updated_at:
        changes["facts_updated_at"] = event.registered_at
    newer_than_orders = profile.last_order_at is None or event.registered_at >= profile.last_order_at
    if profile.email is None or newer_than_orders:
        changes["email"] = event.email
    if event.name and (not profile.name or newer_than_orders):
        changes["name"] = event.name
    changes.update(_apply_facts(profile, event))
    return profile.model_copy(update=changes)


def apply_referral_to_referrer(profile: CustomerProfile, event: CustomerReferred, at: datetime) -> CustomerProfile:
    if event.referred_id in profile.referrals:
        return profile
    referrals = [*profile.referrals, event.referred_id][-MAX_REFERRALS:]
    return profile.model_copy(update={"referrals": referrals, "updated_at": at})


def apply_referral_to_referred(profile: CustomerProfile, event: CustomerReferred, at: datetime) -> CustomerProfile:
    if profile.referred_by is not None:
        return profile
    return profile.model_copy(update={"referred_by": event.referrer_id, "updated_at": at})


# ------------------------------------------------------------------ consent


def consent_evidence(
    facts: CustomerFacts, source_event: str, occurred_at: datetime, policy: ConsentPolicy
) -> ConsentEvidence | None:
    """The evidence an event carries (None when it says nothing about consent), dated when the
    customer gave or withdrew it (``consent_at``), else when the event happened."""
    if facts.marketing_consent is None:
        return None
    # A consent dated after the event that reports it is a shop's clock or mapping error; dated
    # in the future it would outrank every later statement, so the event's own time is used.
    given = facts.consent_at if facts.consent_at is not None and facts.consent_at <= occurred_at else occurred_at
    return ConsentEvidence(
        state=ConsentState.GRANTED if facts.marketing_consent else ConsentState.WITHDRAWN,
        at=given,
        source_event=source_event,
        source=facts.consent_source,
        policy=policy,
    )


def record_consent(profile: CustomerProfile, evidence: ConsentEvidence | None) -> CustomerProfile:
    """The profile with ``evidence`` if it is the newest statement (late events never undo a newer one)."""
    if evidence is None:
        return profile
    current = profile.consent
    if current.at is not None and evidence.at is not None and evidence.at < current.at:
        return profile
    return profile.model_copy(update={"consent": evidence})


# ------------------------------------------------------------------ updates without an order


def apply_update(profile: CustomerProfile, update: CustomerUpdated, at: datetime) -> CustomerProfile:
    """Contact facts from a ``CustomerUpdated``; one older than the newest applied changes nothing
    (consent is dated on its own and goes through :func:`record_consent`). Absent fields stay."""
    if profile.facts_updated_at is not None and update.updated_at < profile.facts_updated_at:
        return profile
    changes: dict[str, object] = {"facts_updated_at": update.updated_at, "updated_at": at}
    if update.email is not None:
        changes["email"] = update.email
    if update.name is not None:
        changes["name"] = update.name
    changes.update(_apply_facts(profile, update))
    return profile.model_copy(update=changes)


def apply_reregistration(profile: CustomerProfile, event: CustomerRegistered, at: datetime) -> CustomerProfile:
    """A second registration of a known customer: its facts, unless an order or update is newer."""
    newest = max(filter(None, (profile.last_order_at, profile.facts_updated_at)), default=None)
    if newest is not None and event.registered_at < newest:
        return profile
    changes: dict[str, object] = {"email": event.email, "updated_at": at, "facts_updated_at": event.registered_at}
    if event.name:
        changes["name"] = event.name
    changes.update(_apply_facts(profile, event))
    return profile.model_copy(update=changes)


# ------------------------------------------------------------------ refunds and cancellations


def aligned_totals(profile: CustomerProfile) -> list[Decimal]:
    """``order_totals``, one per entry of ``order_dates``. A profile stored before totals were kept
    (or otherwise out of step) counts each of its kept orders at its average order value: the
    best the profile knows, and never a value from after those orders."""
    if len(profile.order_totals) == len(profile.order_dates):
        return list(profile.order_totals)
    return [profile.average_order_value] * len(profile.order_dates)


def _position_of(record: OrderRecord, order_dates: list[datetime], order_totals: list[Decimal]) -> int | None:
    """Where ``record`` sits in the kept orders: the entry at its time, preferring one worth what
    the record still is (two orders placed in the same second are told apart by their value);
    ``None`` once it has aged out of the last :data:`MAX_ORDER_DATES`."""
    at_time = [i for i, placed_at in enumerate(order_dates) if placed_at == record.placed_at]
    same_value = [i for i in at_time if order_totals[i] == record.remaining]
    return (same_value or at_time or [None])[0]


def _uncount(profile: CustomerProfile, record: OrderRecord) -> dict[str, object]:
    """The profile fields without ``record`` as an order (cancelled or fully refunded)."""
    categories = dict(profile.categories)
    for category in record.categories:
        if categories.get(category, 0) > 1:
            categories[category] -= 1
        else:
            categories.pop(category, None)
    order_dates, order_totals = list(profile.order_dates), aligned_totals(profile)
    position = _position_of(record, order_dates, order_totals)
    if position is not None:
        del order_dates[position], order_totals[position]
    count = max(0, profile.order_count - 1)
    changes: dict[str, object] = {
        "order_count": count,
        "categories": categories,
        "order_dates": order_dates,
        "order_totals": order_totals,
    }
    if count == 0:
        changes |= {"first_order_at": None, "last_order_at": None}
    else:
        if record.placed_at == profile.last_order_at and order_dates:
            changes["last_order_at"] = order_dates[-1]
        if record.placed_at == profile.first_order_at and order_dates and len(order_dates) == count:
            changes["first_order_at"] = order_dates[0]
    return changes


def apply_refund(
    profile: CustomerProfile, record: OrderRecord, amount: Decimal, at: datetime
) -> tuple[CustomerProfile, OrderRecord, Decimal]:
    """The profile and order after refunding ``amount``, capped at what the order is still worth.

    Returns the amount actually taken off (0 when the order is cancelled or already refunded in
    full). The refund that empties the order makes it stop counting as an order."""
    applied = min(amount, record.remaining)
    if applied <= 0:
        return profile, record, Decimal(0)
    refunded = record.model_copy(update={"refunded": record.refunded + applied})
    changes: dict[str, object] = {
        "total_spent": max(Decimal(0), profile.total_spent - applied),
        "refunded_total": profile.refunded_total + applied,
        "refunds": profile.refunds + 1,
        "updated_at": at,
    }
    if record.counts and not refunded.counts:
        changes |= _uncount(profile, record)
    else:
        order_totals = aligned_totals(profile)
        position = _position_of(record, profile.order_dates, order_totals)
        if position is not None:
            order_totals[position] = max(Decimal(0), order_totals[position] - applied)
            changes["order_totals"] = order_totals
    return profile.model_copy(update=changes), refunded, applied


def apply_cancellation(
    profile: CustomerProfile, record: OrderRecord, cancelled_at: datetime, at: datetime
) -> tuple[CustomerProfile, OrderRecord, Decimal]:
    """The profile and order after cancelling it: what it was still worth comes off the spend and
    it stops counting as an order. Returns the amount taken off."""
    if record.cancelled_at is not None:
        return profile, record, Decimal(0)
    taken = record.remaining
    cancelled = record.model_copy(update={"cancelled_at": cancelled_at})
    changes: dict[str, object] = {
        "total_spent": max(Decimal(0), profile.total_spent - taken),
        "cancelled_orders": profile.cancelled_orders + 1,
        "updated_at": at,
    }
    if record.counts:
        changes |= _uncount(profile, record)
    return profile.model_copy(update=changes), cancelled, taken


def repeat_purchase_rate(order_counts: list[int]) -> Decimal:
    """Share of buying customers with two or more orders, as a percentage."""
    buyers = [count for count in order_counts if count > 0]
    if not buyers:
        return Decimal(0)
    repeaters = sum(1 for count in buyers if count >= 2)
    return (Decimal(repeaters) * 100 / len(buyers)).quantize(Decimal("0.1"))
