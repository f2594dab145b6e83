"""Journey definitions as marketers write them in ``templates/journeys.yaml``, validated strictly."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retention.models.consent import Purpose

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Trigger(StrEnum):
    CUSTOMER_INACTIVE = "CustomerInactive"
    ORDER_PLACED = "OrderPlaced"
    SEGMENT_CHANGED = "SegmentChanged"
    TIMER_FIRED = "TimerFired"
    CUSTOMER_REGISTERED = "CustomerRegistered"


class ExitCondition(StrEnum):
    ORDERED = "ordered"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TriggerSpec(_Strict):
    event: Trigger
    into_segment: str | None = Field(default=None, description="SegmentChanged: the lifecycle segment entered")
    timer: Literal["birthday", "coupon_expiry"] | None = Field(default=None, description="TimerFired: which timer")

    @model_validator(mode="after")
    def _qualifiers_match_the_event(self) -> TriggerSpec:
        if self.event is Trigger.SEGMENT_CHANGED and not self.into_segment:
            raise ValueError("a SegmentChanged trigger needs into_segment")
        if self.event is Trigger.TIMER_FIRED and not self.timer:
            raise ValueError("a TimerFired trigger needs timer (birthday or coupon_expiry)")
        if self.into_segment and self.event is not Trigger.SEGMENT_CHANGED:
            raise ValueError("into_segment only applies to SegmentChanged")
        if self.timer and self.event is not Trigger.TIMER_FIRED:
            raise ValueError("timer only applies to TimerFired")
        return self


class EntryFilter(_Strict):
    segments: list[str] = Field(default_factory=list, description="lifecycle segments or tags; empty = everyone")
    locales: list[str] = Field(default_factory=list, description="language codes; empty = every language")
    requires_consent: bool = Field(
        default=True,
        description="journeys whose every step is marketing: enter only customers whose consent allows it",
    )


class Variant(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")]
    template: Name
    weight: Annotated[int, Field(ge=1, le=1000)] = 1


class CouponSpec(_Strict):
    """A delayed discount: a unique code valid for ``valid_days``, reminded ``remind_days_before`` expiry."""

    percent_off: Annotated[int, Field(ge=1, le=90)]
    valid_days: Annotated[int, Field(ge=1, le=365)]
    remind_days_before: Annotated[int, Field(ge=0, le=60)] = 7

    @model_validator(mode="after")
    def _reminder_inside_validity(self) -> CouponSpec:
        if self.remind_days_before >= self.valid_days:
            raise ValueError("remind_days_before must be shorter than valid_days")
        return self


class Step(_Strict):
    id: Name
    delay_days: Annotated[float, Field(ge=0, le=365)] = 0
    template: Name | None = None
    variants: list[Variant] = Field(default_factory=list)
    coupon: CouponSpec | None = None
    purpose: Purpose = Field(
        default=Purpose.MARKETING,
        description="service (an order's thanks and how-to) or marketing (needs consent); unsure = marketing",
    )

    @model_validator(mode="after")
    def _one_template_source(self) -> Step:
        if bool(self.template) == bool(self.variants):
            raise ValueError("give either template or variants (an A/B split), not both and not neither")
        return self

    @property
    def templates(self) -> list[str]:
        return [self.template] if self.template else [v.template for v in self.variants]


class Journey(_Strict):
    description: Annotated[str, Field(min_length=1, max_length=300)]
    trigger: TriggerSpec
    entry: EntryFilter = EntryFilter()
    steps: Annotated[list[Step], Field(min_length=1, max_length=10)]
    exit_on: list[ExitCondition] = Field(default_factory=lambda: [ExitCondition.UNSUBSCRIBED, ExitCondition.BOUNCED])
    holdout_share: Annotated[float, Field(ge=0, le=0.5)] | None = None
    reentry_days: Annotated[int, Field(ge=0, le=3650)] = 90

    @model_validator(mode="after")
    def _steps_are_distinct_and_ordered(self) -> Journey:
        ids = [step.id for step in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique within a journey")
        delays = [step.delay_days for step in self.steps]
        if delays != sorted(delays):
            raise ValueError("step delays are counted from entry and must not decrease")
        return self


class FrequencyRules(_Strict):
    max_per_7_days: Annotated[int, Field(ge=1, le=20)] = 2
    min_gap_hours: Annotated[int, Field(ge=0, le=24 * 14)] = 48
    slow_down_after_unopened: Annotated[int, Field(ge=1, le=50)] = 3
    slow_down_factor: Annotated[float, Field(ge=1, le=10)] = 2.0
    # at most 12: the streak is read from the contact's recent sends, which keep the last 12
    sunset_after_unopened: Annotated[int, Field(ge=2, le=12)] = 8
    quiet_hours_start: Annotated[int, Field(ge=0, le=23)] = 21
    quiet_hours_end: Annotated[int, Field(ge=0, le=23)] = 8
    default_time_zone: str = "Europe/Berlin"
    holdout_share: Annotated[float, Field(ge=0, le=0.5)] = 0.10
    review_templates: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: ["review_request"], description="templates that ask for a review"
    )
    review_every_days: Annotated[int, Field(ge=0, le=730)] = 90
    """At most one review request per customer in this many days (0: no limit): nine review
    requests in a year is how a shop teaches its best customers to ignore it."""

    @model_validator(mode="after")
    def _sunset_after_slow_down(self) -> FrequencyRules:
        if self.sunset_after_unopened <= self.slow_down_after_unopened:
            raise ValueError("sunset_after_unopened must be larger than slow_down_after_unopened")
        return self


class JourneyFile(_Strict):
    frequency: FrequencyRules = FrequencyRules()
    journeys: Annotated[dict[Name, Journey], Field(min_length=1)]
