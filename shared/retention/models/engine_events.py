"""The engine's own events, as the journey dispatcher receives them (EventBridge via SQS).

The ingest and the sweep publish these with source ``retention.engine``. They are still
validated like any input: a message that does not parse fails alone and ends in the
dispatcher's dead-letter queue. Each event names a *trigger key*, a natural identity that
stays the same when the event is delivered or re-published twice, so entering a journey is
idempotent even though EventBridge gives a re-published event a new id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from retention.models.types import CouponCode, CurrencyCode, CustomerId, Money, OrderId, UtcDatetime

ENGINE_SOURCE = "retention.engine"

TimerKind = Annotated[str, Field(pattern=r"^[a-z_]+(:[A-Za-z0-9_.\-]+)?$", max_length=80)]
Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    customer_id: CustomerId


class InactiveDetail(_Detail):
    firing: Annotated[int, Field(ge=1, le=100)] = 1
    last_order_at: UtcDatetime | None = None
    lifecycle: Label | None = None
    fired_at: UtcDatetime


class SegmentChangedDetail(_Detail):
    from_lifecycle: Label | None = None
    to_lifecycle: Label
    tags: list[Label] = Field(default_factory=list, max_length=40)
    changed_at: UtcDatetime


class TimerFiredDetail(_Detail):
    kind: TimerKind
    due_at: UtcDatetime
    payload: dict[str, Any] = Field(default_factory=dict)
    fired_at: UtcDatetime


class OrderAppliedDetail(_Detail):
    order_id: OrderId
    placed_at: UtcDatetime
    currency: CurrencyCode
    total: Money
    coupon_code: CouponCode | None = None


class RegisteredDetail(_Detail):
    registered_at: UtcDatetime


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=128)]
    source: Literal["retention.engine"]
    time: UtcDatetime

    @property
    def customer_id(self) -> str:
        return self.detail.customer_id  # type: ignore[attr-defined]


class CustomerInactiveEvent(_Envelope):
    detail_type: Literal["CustomerInactive"] = Field(alias="detail-type")
    detail: InactiveDetail

    @property
    def trigger_key(self) -> str:
        return f"inactive:{self.detail.last_order_at}:{self.detail.firing}"

    @property
    def labels(self) -> set[str] | None:
        return {self.detail.lifecycle} if self.detail.lifecycle else None


class SegmentChangedEvent(_Envelope):
    detail_type: Literal["SegmentChanged"] = Field(alias="detail-type")
    detail: SegmentChangedDetail

    @property
    def trigger_key(self) -> str:
        return f"segment:{self.detail.to_lifecycle}:{self.detail.changed_at.isoformat()}"

    @property
    def labels(self) -> set[str] | None:
        return {self.detail.to_lifecycle, *self.detail.tags}


class TimerFiredEvent(_Envelope):
    detail_type: Literal["TimerFired"] = Field(alias="detail-type")
    detail: TimerFiredDetail

    @property
    def timer_family(self) -> str:
        return self.detail.kind.split(":", 1)[0]

    @property
    def trigger_key(self) -> str:
        return f"timer:{self.detail.kind}:{self.detail.due_at.isoformat()}"

    @property
    def labels(self) -> set[str] | None:
        return None


class OrderAppliedEvent(_Envelope):
    """An order the ingest has applied to the profile (published after its commit)."""

    detail_type: Literal["OrderPlaced"] = Field(alias="detail-type")
    detail: OrderAppliedDetail

    @property
    def trigger_key(self) -> str:
        return f"order:{self.detail.order_id}"

    @property
    def labels(self) -> set[str] | None:
        return None


class RegisteredEvent(_Envelope):
    detail_type: Literal["CustomerRegistered"] = Field(alias="detail-type")
    detail: RegisteredDetail

    @property
    def trigger_key(self) -> str:
        return "registered"

    @property
    def labels(self) -> set[str] | None:
        return None


JourneyEvent = Annotated[
    CustomerInactiveEvent | SegmentChangedEvent | TimerFiredEvent | OrderAppliedEvent | RegisteredEvent,
    Field(discriminator="detail_type"),
]
"""Any event the journey queue carries, told apart by its ``detail-type``."""

JourneyEventAdapter: TypeAdapter[JourneyEvent] = TypeAdapter(JourneyEvent)

JOURNEY_DETAIL_TYPES = ("CustomerInactive", "SegmentChanged", "TimerFired", "OrderPlaced", "CustomerRegistered")


def event_time(value: datetime) -> datetime:
    """Whole seconds: trigger keys and timer due times compare as text."""
    return value.replace(microsecond=0)
