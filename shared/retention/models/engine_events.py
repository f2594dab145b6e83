"""The engine's own events: built here by every producer, validated here by every consumer.

The ingest, the sweep and the dispatcher publish these with source ``retention.engine``; the
journey dispatcher receives them through EventBridge and SQS. One model per detail is used on
both sides: a producer builds the detail through the model (so it can only publish what the
consumer accepts), a consumer validates what arrives with the same model (a message that does
not parse fails alone and ends in the dispatcher's dead-letter queue). Each event names a
*trigger key*, a natural identity that stays the same when the event is delivered or
re-published twice, so entering a journey is idempotent although EventBridge gives a
re-published event a new id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from retention.models.types import CouponCode, CurrencyCode, CustomerId, Money, OrderId, UtcDatetime
from retention.nps import NpsGroup, group_of

if TYPE_CHECKING:
    from retention.models.messaging import Coupon
    from retention.models.segments import Classification
    from retention.models.timers import Timer

ENGINE_SOURCE = "retention.engine"

TimerKind = Annotated[str, Field(pattern=r"^[a-z_]+(:[A-Za-z0-9_.\-]+)?$", max_length=80)]
Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    customer_id: CustomerId


class InactiveDetail(_Detail):
    """A customer crossed a segment boundary without ordering: ``lifecycle`` is the segment they
    are in now, ``entered`` what they newly entered (the lifecycle if it changed, new tags),
    ``boundary_at`` when the rules say they crossed (the sweep fires within one interval of it)."""

    firing: Annotated[int, Field(ge=1, le=100)] = 1
    last_order_at: UtcDatetime | None = None
    days_since_last_order: float | None = None
    expected_next_order_at: UtcDatetime | None = None
    lifecycle: Label | None = None
    from_lifecycle: Label | None = None
    entered: list[Label] = Field(default_factory=list, max_length=41)
    churn_risk: float | None = None
    boundary_at: UtcDatetime | None = None
    fired_at: UtcDatetime


class SegmentChangedDetail(_Detail):
    from_lifecycle: Label | None = None
    to_lifecycle: Label
    customer_type: str | None = None
    tags: list[Label] = Field(default_factory=list, max_length=40)
    rfm: str = ""
    churn_risk: float | None = None
    changed_at: UtcDatetime
    historical: bool = False
    """Caused by an imported past order (``retention import``): it starts no journey."""


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
    historical: bool = False
    """An imported past order (``retention import``): it counts as a conversion but starts no journey."""


class RegisteredDetail(_Detail):
    registered_at: UtcDatetime


class RefundAppliedDetail(_Detail):
    """Money the ingest took off an order (a refund, or what a cancellation voided): journeys
    that counted the order as a conversion take it off their revenue, exactly."""

    order_id: OrderId
    refund_id: Annotated[str, Field(min_length=1, max_length=80)]
    """The shop's refund id, or ``cancelled`` for a cancellation: a redelivery changes nothing."""
    currency: CurrencyCode
    amount: Money
    refunded_at: UtcDatetime
    order_counts: bool
    """Whether the order still counts as an order afterwards (False: cancelled or fully refunded)."""


class CustomerUnsubscribedDetail(_Detail):
    """For the shop: mirror the unsubscribe (the customer used the link in an email)."""

    unsubscribed_at: UtcDatetime
    journey: str | None = None
    message_id: str | None = None


SuppressedReason = Literal["bounced", "complained"]


class CustomerSuppressedDetail(_Detail):
    """For the shop: the engine will not email this customer any more (``bounced``, ``complained``)."""

    reason: SuppressedReason
    suppressed_at: UtcDatetime
    message_id: str | None = None


class NpsAnsweredDetail(_Detail):
    """A person's score on an NPS survey (their first answer to that email): promoters may be
    invited to refer friends (a journey's ``also_on``), detractors get no promotion for a while."""

    score: Annotated[int, Field(ge=0, le=10)]
    group: NpsGroup
    message_id: Annotated[str, Field(min_length=1, max_length=64)]
    journey: Label
    answered_at: UtcDatetime

    @model_validator(mode="after")
    def _group_of_the_score(self) -> NpsAnsweredDetail:
        # the group is what a journey's entry sees: it must be the score's, never a producer's say-so
        if self.group != group_of(self.score):
            raise ValueError(f"a score of {self.score} is a {group_of(self.score)}, not a {self.group}")
        return self


class CouponIssuedDetail(_Detail):
    """For the shop: register this code so it is accepted at checkout."""

    code: CouponCode
    percent_off: int
    expires_at: UtcDatetime
    journey: str
    message_id: str


@dataclass(frozen=True)
class EngineEvent:
    """One event to publish: its detail-type, its typed detail and when it happened."""

    detail_type: str
    detail: BaseModel
    time: datetime

    def detail_json(self) -> dict[str, Any]:
        return self.detail.model_dump(mode="json")

    def as_outbox(self) -> dict[str, Any]:
        """The form a marker stores it in, to publish it again after a lost publish."""
        return {"detail_type": self.detail_type, "detail": self.detail_json(), "time": self.time.isoformat()}


DETAILS: dict[str, type[_Detail]] = {
    "CustomerInactive": InactiveDetail,
    "SegmentChanged": SegmentChangedDetail,
    "TimerFired": TimerFiredDetail,
    "OrderApplied": OrderAppliedDetail,
    "CustomerRegistered": RegisteredDetail,
    "CouponIssued": CouponIssuedDetail,
    "RefundApplied": RefundAppliedDetail,
    "CustomerUnsubscribed": CustomerUnsubscribedDetail,
    "CustomerSuppressed": CustomerSuppressedDetail,
    "NpsAnswered": NpsAnsweredDetail,
}


def as_historical(event: EngineEvent) -> EngineEvent:
    """``event`` marked as caused by an imported past order, if its detail can say so."""
    if "historical" not in type(event.detail).model_fields:
        return event
    return EngineEvent(event.detail_type, event.detail.model_copy(update={"historical": True}), event.time)


def engine_event_from_outbox(entry: dict[str, Any]) -> EngineEvent:
    detail_type = str(entry["detail_type"])
    detail = DETAILS[detail_type].model_validate(entry["detail"])
    return EngineEvent(detail_type, detail, datetime.fromisoformat(str(entry["time"])))


# ---------------------------------------------------------------------------------- producers


def segment_changed(
    customer_id: str, before: Classification | None, after: Classification, at: datetime
) -> EngineEvent:
    detail = SegmentChangedDetail(
        customer_id=customer_id,
        from_lifecycle=before.lifecycle if before else None,
        to_lifecycle=after.lifecycle,
        customer_type=after.customer_type,
        tags=after.tags,
        rfm=after.rfm,
        churn_risk=after.churn_risk,
        changed_at=at,
    )
    return EngineEvent("SegmentChanged", detail, at)


def customer_inactive(
    customer_id: str,
    firing: int,
    last_order_at: datetime | None,
    before: Classification | None,
    segment: Classification | None,
    boundary_at: datetime | None,
    at: datetime,
) -> EngineEvent:
    days = round(max(0.0, (at - last_order_at).total_seconds() / 86400), 1) if last_order_at else None
    entered: list[str] = []
    if segment is not None:
        if before is None or before.lifecycle != segment.lifecycle:
            entered.append(segment.lifecycle)
        entered += [tag for tag in segment.tags if before is None or tag not in before.tags]
    detail = InactiveDetail(
        customer_id=customer_id,
        firing=firing,
        last_order_at=last_order_at,
        days_since_last_order=days,
        expected_next_order_at=segment.expected_next_order_at if segment else None,
        lifecycle=segment.lifecycle if segment else None,
        from_lifecycle=before.lifecycle if before else None,
        entered=entered,
        churn_risk=segment.churn_risk if segment else None,
        boundary_at=boundary_at,
        fired_at=at,
    )
    return EngineEvent("CustomerInactive", detail, at)


def timer_fired(timer: Timer, at: datetime) -> EngineEvent:
    detail = TimerFiredDetail(
        customer_id=timer.customer_id, kind=timer.kind, due_at=timer.due_at, payload=timer.payload, fired_at=at
    )
    return EngineEvent("TimerFired", detail, at)


def order_applied(
    customer_id: str,
    order_id: str,
    placed_at: datetime,
    currency: str,
    total: Decimal,
    coupon_code: str | None,
    at: datetime,
) -> EngineEvent:
    detail = OrderAppliedDetail(
        customer_id=customer_id,
        order_id=order_id,
        placed_at=placed_at,
        currency=currency,
        total=total,
        coupon_code=coupon_code,
    )
    return EngineEvent("OrderApplied", detail, at)


def registered(customer_id: str, registered_at: datetime, at: datetime) -> EngineEvent:
    return EngineEvent("CustomerRegistered", RegisteredDetail(customer_id=customer_id, registered_at=registered_at), at)


def refund_applied(
    customer_id: str,
    order_id: str,
    refund_id: str,
    currency: str,
    amount: Decimal,
    refunded_at: datetime,
    order_counts: bool,
    at: datetime,
) -> EngineEvent:
    detail = RefundAppliedDetail(
        customer_id=customer_id,
        order_id=order_id,
        refund_id=refund_id,
        currency=currency,
        amount=amount,
        refunded_at=refunded_at,
        order_counts=order_counts,
    )
    return EngineEvent("RefundApplied", detail, at)


def customer_unsubscribed(customer_id: str, at: datetime, journey: str | None, message_id: str | None) -> EngineEvent:
    detail = CustomerUnsubscribedDetail(
        customer_id=customer_id, unsubscribed_at=at, journey=journey, message_id=message_id
    )
    return EngineEvent("CustomerUnsubscribed", detail, at)


def customer_suppressed(
    customer_id: str, reason: SuppressedReason, at: datetime, message_id: str | None
) -> EngineEvent:
    detail = CustomerSuppressedDetail(customer_id=customer_id, reason=reason, suppressed_at=at, message_id=message_id)
    return EngineEvent("CustomerSuppressed", detail, at)


def nps_answered(customer_id: str, score: int, message_id: str, journey: str, at: datetime) -> EngineEvent:
    """The tracking API's news of a person's score; the group is derived here, never given."""
    detail = NpsAnsweredDetail(
        customer_id=customer_id,
        score=score,
        group=group_of(score),
        message_id=message_id,
        journey=journey,
        answered_at=at,
    )
    return EngineEvent("NpsAnswered", detail, event_time(at))


def coupon_issued(coupon: Coupon, at: datetime) -> EngineEvent:
    detail = CouponIssuedDetail(
        customer_id=coupon.customer_id,
        code=coupon.code,
        percent_off=coupon.percent_off,
        expires_at=coupon.expires_at,
        journey=coupon.journey,
        message_id=coupon.message_id,
    )
    return EngineEvent("CouponIssued", detail, at)


# ---------------------------------------------------------------------------------- consumers


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=128)]
    source: Literal["retention.engine"]
    time: UtcDatetime

    @property
    def customer_id(self) -> str:
        return self.detail.customer_id  # type: ignore[attr-defined]

    @property
    def historical(self) -> bool:
        """Caused by an imported past order: the dispatcher enters no journey for it."""
        return bool(getattr(self.detail, "historical", False))


class CustomerInactiveEvent(_Envelope):
    detail_type: Literal["CustomerInactive"] = Field(alias="detail-type")
    detail: InactiveDetail

    @property
    def trigger_key(self) -> str:
        return f"inactive:{self.detail.last_order_at}:{self.detail.firing}"

    @property
    def labels(self) -> set[str] | None:
        """The lifecycle the customer is in and the tags just entered (a journey may start on
        ``one_time_buyer``)."""
        return {self.detail.lifecycle, *self.detail.entered} if self.detail.lifecycle else None


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

    detail_type: Literal["OrderApplied"] = Field(alias="detail-type")
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


class RefundAppliedEvent(_Envelope):
    """Money taken off an applied order (published after the ingest's commit)."""

    detail_type: Literal["RefundApplied"] = Field(alias="detail-type")
    detail: RefundAppliedDetail

    @property
    def trigger_key(self) -> str:
        return f"refund:{self.detail.order_id}:{self.detail.refund_id}"

    @property
    def labels(self) -> set[str] | None:
        return None


class NpsAnsweredEvent(_Envelope):
    """A person scored an NPS survey (published by the tracking API)."""

    detail_type: Literal["NpsAnswered"] = Field(alias="detail-type")
    detail: NpsAnsweredDetail

    @property
    def trigger_key(self) -> str:
        return f"nps:{self.detail.message_id}"

    @property
    def labels(self) -> set[str] | None:
        """The score's group (``promoter``): what a journey's entry segments may name."""
        return {self.detail.group}


JourneyEvent = Annotated[
    CustomerInactiveEvent
    | SegmentChangedEvent
    | TimerFiredEvent
    | OrderAppliedEvent
    | RegisteredEvent
    | RefundAppliedEvent
    | NpsAnsweredEvent,
    Field(discriminator="detail_type"),
]
"""Any event the journey queue carries, told apart by its ``detail-type``."""

JourneyEventAdapter: TypeAdapter[JourneyEvent] = TypeAdapter(JourneyEvent)

JOURNEY_DETAIL_TYPES = (
    "CustomerInactive",
    "SegmentChanged",
    "TimerFired",
    "OrderApplied",
    "CustomerRegistered",
    "RefundApplied",
    "NpsAnswered",
)


def event_time(value: datetime) -> datetime:
    """Whole seconds: trigger keys and timer due times compare as text."""
    return value.replace(microsecond=0)
