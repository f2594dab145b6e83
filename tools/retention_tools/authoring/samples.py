"""Sample customers from ``templates/samples.yaml`` as real profiles, so previews take the send path."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from retention.mail.catalog import SampleCustomer, samples
from retention.models.emails import CouponOffer
from retention.models.profile import CustomerProfile, ItemSummary
from retention.models.segments import Classification


def sample_profile(sample: SampleCustomer, now: datetime) -> CustomerProfile:
    ordered = sample.order_count > 0
    return CustomerProfile(
        customer_id=sample.customer_id,
        email=sample.email,
        name=sample.name,
        locale=sample.locale,
        time_zone=sample.time_zone,
        birthday=sample.birthday,
        order_count=sample.order_count,
        total_spent=sample.total_spent,
        currency=sample.currency if ordered else None,
        categories=dict(sample.categories),
        last_items=[ItemSummary.model_validate(item) for item in sample.last_items],
        first_order_at=now - timedelta(days=400) if ordered else None,
        last_order_at=now - timedelta(days=75) if ordered else None,
        referrals=[f"{sample.customer_id}-friend-{n}" for n in range(sample.referrals)],
        segment=Classification(lifecycle=sample.lifecycle, customer_type=sample.customer_type, tags=sample.tags),
    )


def sample_coupon(now: datetime, root: Path | None = None) -> CouponOffer:
    coupon = samples(root).coupon
    return CouponOffer(coupon.code, coupon.percent_off, now + timedelta(days=coupon.valid_days))


def sample_customers(root: Path | None = None) -> list[SampleCustomer]:
    return list(samples(root).customers)


def samples_for(segment: str, root: Path | None = None) -> list[SampleCustomer]:
    """Samples whose lifecycle segment or tags include ``segment``."""
    return [s for s in sample_customers(root) if s.lifecycle == segment or segment in s.tags]
