"""The stored customer profile and order record: what the engine knows about a person."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

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
    marketing_consent: bool = True
    registered_at: datetime | None = None
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    order_count: int = 0
    total_spent: Decimal = Decimal(0)
    currency: CurrencyCode | None = None
    categories: dict[str, int] = Field(default_factory=dict)
    last_items: list[ItemSummary] = Field(default_factory=list)
    order_dates: list[datetime] = Field(default_factory=list)
    coupons_used: list[CouponCode] = Field(default_factory=list)
    referred_by: CustomerId | None = None
    referrals: list[CustomerId] = Field(default_factory=list)
    segment: Classification | None = None
    segment_changed_at: datetime | None = None
    inactivity_firings: int = 0
    birthday_timer_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

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
