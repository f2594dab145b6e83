"""Shop events as they arrive on the bus: the only shapes the ingest path accepts.

Source and detail-type are documented in the README. Every field is validated; unknown
fields are ignored (shops add fields over time), but wrong types or values fail the one
message with a reason that names the field, never the whole batch.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from retention.models.types import (
    Category,
    CouponCode,
    CurrencyCode,
    CustomerId,
    Email,
    Identifier,
    Locale,
    Money,
    OrderId,
    PersonName,
    ProductName,
    Quantity,
    ShortText,
    Sku,
    TimeZoneName,
    UtcDatetime,
)


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class LineItem(_Detail):
    sku: Sku
    name: ProductName = ""
    category: Category
    price: Money
    qty: Quantity


class CustomerFacts(_Detail):
    """Optional facts about the customer a shop may send with any event."""

    locale: Locale | None = None
    time_zone: TimeZoneName | None = None
    birthday: date | None = None
    marketing_consent: bool | None = None
    """True: the customer opted in to marketing e-mail; False: opted out or withdrew; absent: unknown."""
    consent_at: UtcDatetime | None = None
    """When the customer gave or withdrew consent, if the shop knows (else the event's time is used)."""
    consent_source: ShortText | None = None
    """How consent was collected, as evidence: "checkout checkbox", "newsletter form", "support ticket"."""


class OrderPlaced(CustomerFacts):
    order_id: OrderId
    customer_id: CustomerId
    email: Email
    name: PersonName = ""
    placed_at: UtcDatetime
    currency: CurrencyCode
    total: Money
    items: Annotated[list[LineItem], Field(min_length=1, max_length=200)]
    coupon_code: CouponCode | None = None
    historical: bool = False
    """A past order imported by ``retention import``: it updates the profile, segment and timers
    but starts no order-triggered journey (nobody is thanked for a year-old order)."""

    @model_validator(mode="after")
    def _total_is_plausible(self) -> OrderPlaced:
        # Discounts and shipping make total differ from the item sum, but never by more than
        # the whole basket plus a generous shipping allowance: a wildly wrong total is a bug upstream.
        basket = sum((item.price * item.qty for item in self.items), Decimal(0))
        if self.total > basket * 2 + Decimal(1000):
            raise ValueError(f"total {self.total} is implausible for a basket worth {basket}")
        return self


class RefundedItem(_Detail):
    sku: Sku
    qty: Quantity


class OrderRefunded(_Detail):
    """Money given back for an order, in full or in part. ``refund_id`` makes it idempotent:
    a shop can refund one order several times, and each refund arrives at least once."""

    refund_id: Identifier
    order_id: OrderId
    customer_id: CustomerId
    refunded_at: UtcDatetime
    currency: CurrencyCode
    amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
    items: Annotated[list[RefundedItem], Field(max_length=200)] = []
    reason: ShortText = ""


class OrderCancelled(_Detail):
    """An order that will not be fulfilled: it stops counting as an order at all."""

    order_id: OrderId
    customer_id: CustomerId
    cancelled_at: UtcDatetime
    reason: ShortText = ""


class CustomerUpdated(CustomerFacts):
    """A change to a known customer that arrives without an order (new e-mail, consent given or
    withdrawn, locale...). Updates are ordered by ``updated_at``: one older than the last applied
    update changes nothing; ``update_id`` (or, without it, ``updated_at``) makes a redelivery a no-op.
    Fields left out are left unchanged."""

    customer_id: CustomerId
    updated_at: UtcDatetime
    update_id: Identifier | None = None
    email: Email | None = None
    name: PersonName | None = None


class CustomerDeleted(_Detail):
    """The shop asks for the customer's erasure (the same erasure ``retention customers forget`` does)."""

    customer_id: CustomerId
    deleted_at: UtcDatetime


class CustomerRegistered(CustomerFacts):
    customer_id: CustomerId
    email: Email
    name: PersonName = ""
    registered_at: UtcDatetime


class CustomerReferred(_Detail):
    referrer_id: CustomerId
    referred_id: CustomerId
    referred_at: UtcDatetime

    @model_validator(mode="after")
    def _not_self(self) -> CustomerReferred:
        if self.referrer_id == self.referred_id:
            raise ValueError("a customer cannot refer themselves")
        return self


class _Envelope(BaseModel):
    """The EventBridge fields the engine relies on; ``account``/``region`` are optional because
    replays and some producers (and moto) omit them, and nothing here depends on them."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=128)]
    source: Annotated[str, Field(min_length=1, max_length=256)]
    time: UtcDatetime
    account: str | None = None
    region: str | None = None


class OrderPlacedEvent(_Envelope):
    detail_type: Literal["OrderPlaced"] = Field(alias="detail-type")
    detail: OrderPlaced


class CustomerRegisteredEvent(_Envelope):
    detail_type: Literal["CustomerRegistered"] = Field(alias="detail-type")
    detail: CustomerRegistered


class OrderRefundedEvent(_Envelope):
    detail_type: Literal["OrderRefunded"] = Field(alias="detail-type")
    detail: OrderRefunded


class OrderCancelledEvent(_Envelope):
    detail_type: Literal["OrderCancelled"] = Field(alias="detail-type")
    detail: OrderCancelled


class CustomerUpdatedEvent(_Envelope):
    detail_type: Literal["CustomerUpdated"] = Field(alias="detail-type")
    detail: CustomerUpdated


class CustomerDeletedEvent(_Envelope):
    detail_type: Literal["CustomerDeleted"] = Field(alias="detail-type")
    detail: CustomerDeleted


class CustomerReferredEvent(_Envelope):
    detail_type: Literal["CustomerReferred"] = Field(alias="detail-type")
    detail: CustomerReferred


ShopEvent = Annotated[
    OrderPlacedEvent
    | CustomerRegisteredEvent
    | CustomerReferredEvent
    | OrderRefundedEvent
    | OrderCancelledEvent
    | CustomerUpdatedEvent
    | CustomerDeletedEvent,
    Field(discriminator="detail_type"),
]
"""Any event the ingest queue carries, told apart by its EventBridge ``detail-type``."""

ShopEventAdapter: TypeAdapter[ShopEvent] = TypeAdapter(ShopEvent)

SHOP_DETAIL_TYPES = (
    "OrderPlaced",
    "CustomerRegistered",
    "CustomerReferred",
    "OrderRefunded",
    "OrderCancelled",
    "CustomerUpdated",
    "CustomerDeleted",
)
