"""The stored customer profile and order record: what the engine knows about a person."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retention.models.consent import ConsentEvidence, ConsentState
from retention.models.segments import Classification
from retention.models.types import CouponCode, CurrencyCode, CustomerId, Money, OrderId

MAX_ORDER_DATES = 50
"""Enough purchase history for inter-purchase gaps; bounded so the item stays small (< 4 KB)."""
MAX_LAST_ITEMS = 10
MAX_REFERRALS = 200
MAX_COUPONS = 20


class ItemSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str
    name: str = ""
    category: str
    price: Money
    qty: int


class CustomerProfile(BaseModel):
    """One customer's profile. ``version`` guards every write (optimistic locking)."""

    model_config = ConfigDict(validate_assignment=False)

    customer_id: CustomerId
    email: str | None = None
    name: str = ""
    locale: str | None = None
    time_zone: str | None = None
    birthday: date | None = None
    consent: ConsentEvidence = Field(default_factory=ConsentEvidence)
    """Marketing consent with its evidence; unknown until the shop says (never assumed)."""
    facts_updated_at: datetime | None = None
    """When the newest applied ``CustomerUpdated`` happened: an older update changes nothing."""
    registered_at: datetime | None = None
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    order_count: int = 0
    total_spent: Decimal = Decimal(0)
    currency: CurrencyCode | None = None
    categories: dict[str, int] = Field(default_factory=dict)
    last_items: list[ItemSummary] = Field(default_factory=list)
    order_dates: list[datetime] = Field(default_factory=list)
    order_totals: list[Decimal] = Field(default_factory=list)
    """What each order in ``order_dates`` is still worth (after refunds), position for position:
    the churn refit needs the average order value *as it was* on a past day. A profile stored
    before totals were kept has none; its next order fills the older positions with its average
    order value (:func:`retention.profiles.aligned_totals`)."""
    coupons_used: list[CouponCode] = Field(default_factory=list)
    referred_by: CustomerId | None = None
    referrals: list[CustomerId] = Field(default_factory=list)
    segment: Classification | None = None
    segment_changed_at: datetime | None = None
    refunded_total: Decimal = Decimal(0)
    refunds: int = 0
    cancelled_orders: int = 0
    inactivity_firings: int = 0
    birthday_timer_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    @model_validator(mode="before")
    @classmethod
    def _consent_from_flag(cls, data: Any) -> Any:
        """``marketing_consent=True/False`` (a builder's shorthand) as evidence: granted/withdrawn."""
        if isinstance(data, dict) and "marketing_consent" in data:
            data = dict(data)
            flag = data.pop("marketing_consent")
            if "consent" not in data and flag is not None:
                state = ConsentState.GRANTED if flag else ConsentState.WITHDRAWN
                data["consent"] = ConsentEvidence(state=state, source="marketing_consent")
        return data

    @property
    def marketing_consent(self) -> bool | None:
        """True: opted in; False: withdrew; None: unknown."""
        return {ConsentState.GRANTED: True, ConsentState.WITHDRAWN: False}.get(self.consent.state)

    @property
    def first_name(self) -> str:
        """The first word of the name, or empty: templates supply their own fallback."""
        return self.name.split()[0] if self.name.strip() else ""

    @property
    def average_order_value(self) -> Decimal:
        if self.order_count == 0:
            return Decimal(0)
        return (self.total_spent / self.order_count).quantize(Decimal("0.01"))

    @property
    def referral_count(self) -> int:
        return len(self.referrals)


class OrderRecord(BaseModel):
    """One applied order. Its key doubles as the idempotency marker of the order."""

    model_config = ConfigDict(frozen=True)

    customer_id: CustomerId
    order_id: OrderId
    placed_at: datetime
    currency: CurrencyCode
    total: Money
    categories: list[str]
    coupon_code: CouponCode | None = None
    applied_at: datetime
    refunded: Decimal = Decimal(0)
    """Money given back so far (never more than ``total``)."""
    cancelled_at: datetime | None = None

    @property
    def remaining(self) -> Decimal:
        """What the order is still worth: what a refund can still give back."""
        return Decimal(0) if self.cancelled_at is not None else max(Decimal(0), self.total - self.refunded)

    @property
    def counts(self) -> bool:
        """A cancelled or fully refunded order no longer counts as an order."""
        return self.remaining > 0
