"""Journey definitions as marketers write them in ``templates/journeys.yaml``, validated strictly."""

from __future__ import annotations

from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from retention.models.consent import Purpose
from retention.nps import NpsGroup

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
END = "end"
"""The target of a branch or ``then:`` that finishes the journey."""
Days = Annotated[float, Field(ge=0, le=365)]


class Trigger(StrEnum):
    CUSTOMER_INACTIVE = "CustomerInactive"
    ORDER_PLACED = "OrderPlaced"
    SEGMENT_CHANGED = "SegmentChanged"
    TIMER_FIRED = "TimerFired"
    CUSTOMER_REGISTERED = "CustomerRegistered"
    NPS_ANSWERED = "NpsAnswered"


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
    nps_group: NpsGroup | None = Field(
        default=None, description="NpsAnswered: the score's group (promoter 9-10, passive 7-8, detractor 0-6)"
    )

    @model_validator(mode="after")
    def _qualifiers_match_the_event(self) -> TriggerSpec:
        if self.event is Trigger.NPS_ANSWERED and not self.nps_group:
            raise ValueError("an NpsAnswered trigger needs nps_group (promoter, passive or detractor)")
        if self.nps_group and self.event is not Trigger.NPS_ANSWERED:
            raise ValueError("nps_group only applies to NpsAnswered")
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
    min_orders: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="enter only customers with at least this many orders (counting the triggering one)"
    )
    exclude_nps: list[NpsGroup] = Field(
        default_factory=list,
        description="keep out customers whose latest NPS score is in these groups (detractor: not asked to refer)",
    )
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


class Reaction(_Strict):
    """What the customer did since a step's email went out; a branch names exactly one.

    Read from what the engine already keeps for the customer (the contact's engagement summary,
    the profile, the journey's own coupon), so checking a branch costs no extra request: ``opened``
    and ``clicked`` are a person's opens and clicks (machine ones are filtered out by tracking),
    ``clicked`` and ``answered`` look at this step's email only.
    """

    opened: bool | None = Field(default=None, description="true: opened any of the shop's emails since; false: did not")
    clicked: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="'any' link of this email, or text the clicked link's address contains"
    )
    answered: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = Field(
        default=None, description="the one-click answer given to this email (one of its template's answers)"
    )
    ordered: bool | None = Field(default=None, description="true: ordered since the email; false: did not")
    has_coupon: bool | None = Field(default=None, description="true: holds this journey's coupon, not yet expired")

    @model_validator(mode="after")
    def _exactly_one(self) -> Reaction:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a branch's `when` names exactly one reaction: opened, clicked, answered, ordered or has_coupon"
            )
        return self

    def describe(self) -> str:
        """The reaction in a marketer's words, for ``journeys show`` and the diagram."""
        if self.answered is not None:
            return f"answered {self.answered}"
        if self.clicked is not None:
            return "clicked a link" if self.clicked == "any" else f"clicked {self.clicked}"
        for name, yes, no in (
            ("opened", "opened", "did not open"),
            ("ordered", "ordered", "did not order"),
            ("has_coupon", "holds the coupon", "has no coupon"),
        ):
            value = getattr(self, name)
            if value is not None:
                return yes if value else no
        return ""


class Branch(_Strict):
    """``when`` the customer reacted so, go to step ``go_to`` (or ``end``) ``after_days`` later."""

    when: Reaction
    go_to: Name
    after_days: Annotated[float, Field(ge=0, le=60)] = 0


class Step(_Strict):
    id: Name
    delay_days: Days = 0
    template: Name | None = None
    variants: list[Variant] = Field(default_factory=list)
    coupon: CouponSpec | None = None
    purpose: Purpose = Field(
        default=Purpose.MARKETING,
        description="service (an order's thanks and how-to) or marketing (needs consent); unsure = marketing",
    )
    check_after_days: Annotated[float, Field(gt=0, le=60)] | None = Field(
        default=None, description="with branches: how long after this email to look at what the customer did"
    )
    branches: Annotated[list[Branch], Field(max_length=6)] = Field(
        default_factory=list, description="checked in order at check_after_days; the first that matches decides"
    )
    then: Name | None = Field(default=None, description="the step after this one (or end); default: the next listed")

    @model_validator(mode="after")
    def _one_template_source(self) -> Step:
        if bool(self.template) == bool(self.variants):
            raise ValueError("give either template or variants (an A/B split), not both and not neither")
        if self.branches and self.check_after_days is None:
            raise ValueError("a step with branches needs check_after_days: when to look at what the customer did")
        if self.check_after_days is not None and not self.branches:
            raise ValueError("check_after_days only applies to a step with branches")
        return self

    @property
    def templates(self) -> list[str]:
        return [self.template] if self.template else [v.template for v in self.variants]


class Journey(_Strict):
    description: Annotated[str, Field(min_length=1, max_length=300)]
    trigger: TriggerSpec
    also_on: Annotated[list[TriggerSpec], Field(max_length=5)] = Field(
        default_factory=list, description="more triggers that start the same journey (one cycle, one re-entry clock)"
    )
    entry: EntryFilter = EntryFilter()
    steps: Annotated[list[Step], Field(min_length=1, max_length=10)]
    exit_on: list[ExitCondition] = Field(default_factory=lambda: [ExitCondition.UNSUBSCRIBED, ExitCondition.BOUNCED])
    holdout_share: Annotated[float, Field(ge=0, le=0.5)] | None = None
    reentry_days: Annotated[int, Field(ge=0, le=3650)] = 90

    @property
    def triggers(self) -> list[TriggerSpec]:
        """Every event that starts the journey: ``trigger`` and then ``also_on``."""
        return [self.trigger, *self.also_on]

    @model_validator(mode="after")
    def _also_on_starts_no_timer(self) -> Journey:
        # a timer's journey reads the timer's payload (the coupon of a coupon reminder): it has one trigger
        if self.also_on and any(spec.event is Trigger.TIMER_FIRED for spec in self.triggers):
            raise ValueError("also_on: a journey started by a timer has that one trigger; give the other a journey")
        return self

    @model_validator(mode="after")
    def _steps_are_distinct_and_ordered(self) -> Journey:
        ids = [step.id for step in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique within a journey")
        if END in ids:
            raise ValueError(f"{END!r} ends a journey; it cannot be a step's id")
        problems = [problem for index in range(len(self.steps)) for problem in self._path_problems(index)]
        if not problems:  # a misspelt target leaves its step unreached: one mistake, one message
            reached = self._reachable()
            problems = [f"step {step.id} is never reached" for i, step in enumerate(self.steps) if i not in reached]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _path_problems(self, index: int) -> list[str]:
        """Targets that exist and lie ahead (so every path reaches an end: no loops), and delays
        that do not decrease along a step's plain (unbranched) way on."""
        step, ids = self.steps[index], [step.id for step in self.steps]
        problems = []
        targets = [("then", step.then)] if step.then else []
        targets += [("go_to", branch.go_to) for branch in step.branches]
        for setting, target in targets:
            if target == END:
                continue
            if target not in ids:
                guess = get_close_matches(target, [*ids, END], n=1)
                hint = f" (did you mean {guess[0]!r}?)" if guess else ""
                problems.append(f"step {step.id}: {setting} {target!r} is not a step of this journey{hint}")
            elif ids.index(target) <= index:
                problems.append(f"step {step.id}: {setting} {target!r} goes back; a journey only moves forward")
        following = self.following(index)
        if following < len(self.steps) and following > index and self.steps[following].delay_days < step.delay_days:
            later = self.steps[following]
            problems.append(
                f"step {later.id} (day {later.delay_days:g}) comes after {step.id} (day {step.delay_days:g}): "
                "delays are counted from entry and must not decrease"
            )
        return problems

    def _reachable(self) -> set[int]:
        seen, todo = set(), [0]
        while todo:
            index = todo.pop()
            if index in seen or index >= len(self.steps):
                continue
            seen.add(index)
            step = self.steps[index]
            todo += [self.following(index), *(self.index_of(branch.go_to) for branch in step.branches)]
        return seen

    def index_of(self, step_id: str) -> int:
        """A step's position; ``end`` (or a name that is no step) is ``len(steps)``: the journey is over."""
        return next((i for i, step in enumerate(self.steps) if step.id == step_id), len(self.steps))

    def following(self, index: int) -> int:
        """The step after ``index`` when no branch says otherwise: its ``then``, or the next listed."""
        then = self.steps[index].then
        return self.index_of(then) if then else index + 1

    @property
    def horizon_days(self) -> float:
        """The longest a cycle can run: the last delay plus every wait a branch may add."""
        waits = [
            (step.check_after_days or 0) + max((b.after_days for b in step.branches), default=0) for step in self.steps
        ]
        return max(step.delay_days for step in self.steps) + sum(waits)


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
    detractor_quiet_days: Annotated[int, Field(ge=0, le=730)] = 90
    """After an NPS score of 0-6, no promotional email for this many days (0: no pause): an
    unhappy customer hears the shop's answer, not its sale."""

    @model_validator(mode="after")
    def _sunset_after_slow_down(self) -> FrequencyRules:
        if self.sunset_after_unopened <= self.slow_down_after_unopened:
            raise ValueError("sunset_after_unopened must be larger than slow_down_after_unopened")
        return self


class JourneyFile(_Strict):
    frequency: FrequencyRules = FrequencyRules()
    journeys: Annotated[dict[Name, Journey], Field(min_length=1)]
