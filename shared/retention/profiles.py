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

from retention.models.events import CustomerFacts, CustomerReferred, CustomerRegistered, OrderPlaced
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
    for field in ("locale", "time_zone", "birthday", "marketing_consent"):
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

    order_dates = list(profile.order_dates)
    bisect.insort(order_dates, order.placed_at)
    order_dates = order_dates[-MAX_ORDER_DATES:]

    changes: dict[str, object] = {
        "order_count": profile.order_count + 1,
        "total_spent": profile.total_spent + order.total,
        "currency": order.currency,
        "categories": categories,
        "order_dates": order_dates,
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
    """Registration sets contact facts; it never overwrites newer ones from an order."""
    changes: dict[str, object] = {"registered_at": event.registered_at, "updated_at": at}
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


def repeat_purchase_rate(order_counts: list[int]) -> Decimal:
    """Share of buying customers with two or more orders, as a percentage."""
    buyers = [count for count in order_counts if count > 0]
    if not buyers:
        return Decimal(0)
    repeaters = sum(1 for count in buyers if count >= 2)
    return (Decimal(repeaters) * 100 / len(buyers)).quantize(Decimal("0.1"))
