"""What the dispatcher does with an event, decided by pure functions over a snapshot of what it read.

Nothing here reads or writes: each function takes the customer's snapshot (profile, contact,
journey states, coupon), the definitions and the time, and returns a decision —

* entering: :class:`Ignore` (with why), :class:`HoldOut` or :class:`Enter`;
* a step that is due: :class:`Exit`, :class:`Defer`, :class:`SkipStep` or :class:`Send`;
* a branch check: the :class:`BranchTaken` (which step next, when) from what the customer did;
* an order: the :class:`Conversion` of every journey cycle it follows and the coupon it redeems;

and the helpers that turn a decision into the state to store (:func:`advanced`,
:func:`deferred`, :func:`exited`). The dispatcher applies them through the journey store; the
unit tests read them as the specification of the journeys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from retention.frequency import earliest_send, is_sunset, outside_quiet_hours
from retention.journeys import rules
from retention.mail.addresses import deliverable_address
from retention.mail.stream import stream_allows
from retention.models.consent import ConsentPolicy, Purpose
from retention.models.emails import CouponOffer, TemplateKind
from retention.models.journeys import (
    CouponSpec,
    ExitCondition,
    FrequencyRules,
    Journey,
    JourneyFile,
    Reaction,
    Step,
)
from retention.models.messaging import (
    Attribution,
    BranchCheck,
    ContactState,
    Coupon,
    CouponStatus,
    JourneyState,
    JourneyStatus,
    LastClick,
    NpsAnswer,
    SendRecord,
    Suppression,
    Tally,
)
from retention.models.profile import CustomerProfile
from retention.models.timers import COUPON_TIMER, Timer, coupon_timer_kind, step_timer_kind

MAX_DEFERRALS = 30
ABANDONED_AFTER = timedelta(days=60)
"""An active cycle this far past its last step (a step stuck in the DLQ) no longer blocks re-entry."""


# --------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Ignore:
    """Nothing to store: a duplicate, a stale timer, a customer who does not qualify."""

    why: str


@dataclass(frozen=True)
class HoldOut:
    state: JourneyState


@dataclass(frozen=True)
class Enter:
    state: JourneyState
    first_due: datetime


@dataclass(frozen=True)
class Exit:
    reason: str
    counts: dict[str, int]
    sunset: bool = False  # also suppress the customer for good


@dataclass(frozen=True)
class Defer:
    until: datetime
    cause: str


@dataclass(frozen=True)
class SkipStep:
    """A step not sent, the journey moving past it: a promotion the 80/20 stream rule does not
    allow now, or a marketing step the customer's consent does not allow (``reason`` is counted)."""

    reason: str = "skipped_stream_rule"


@dataclass(frozen=True)
class Send:
    profile: CustomerProfile
    step: Step
    template: str
    variant: str
    kind: TemplateKind
    message_id: str
    asks_review: bool = False
    """The email asks for a review: its send starts the review-request limit's clock."""


Entry = Ignore | HoldOut | Enter
StepDecision = Exit | Defer | SkipStep | Send


# --------------------------------------------------------------------------------- entering


def decide_entry(
    name: str,
    journey: Journey,
    state: JourneyState,
    profile: CustomerProfile | None,
    coupon: Coupon | None,
    trigger_key: str,
    labels: set[str] | None,
    now: datetime,
    definitions: JourneyFile,
    policy: ConsentPolicy = ConsentPolicy.EXPLICIT,
    score: NpsAnswer | None = None,
) -> Entry:
    """Whether the event enters the customer in the journey (a new cycle), holds them out, or not.
    ``score`` is the customer's latest NPS score (the contact's), for ``exclude_nps``."""
    if trigger_key in state.recent_triggers:
        return Ignore("duplicate_trigger")
    if state.status is JourneyStatus.ACTIVE and not abandoned(journey, state, now):
        return Ignore("already_in_journey")
    if state.entered_at is not None and now < state.entered_at + timedelta(days=journey.reentry_days):
        return Ignore("reentry_too_soon")
    if profile is None or not rules.matches_entry(journey, profile, labels, policy, score):
        return Ignore("not_eligible")
    offer = None
    if journey.trigger.timer == COUPON_TIMER:
        if coupon is None or coupon.status is not CouponStatus.ISSUED or coupon.expires_at <= now:
            return Ignore("coupon_not_open")
        offer = CouponOffer(coupon.code, coupon.percent_off, coupon.expires_at)
    share = journey.holdout_share if journey.holdout_share is not None else definitions.frequency.holdout_share
    holdout = rules.in_holdout(profile.customer_id, name, share)
    entered = JourneyState(
        customer_id=profile.customer_id,
        journey=name,
        cycle=state.cycle + 1,
        status=JourneyStatus.HOLDOUT if holdout else JourneyStatus.ACTIVE,
        entered_at=now,
        trigger_key=trigger_key,
        recent_triggers=[*state.recent_triggers, trigger_key][-5:],
        coupon=offer,
        version=state.version,
    )
    if holdout:
        return HoldOut(entered)
    return Enter(entered, now + timedelta(days=journey.steps[0].delay_days))


def abandoned(journey: Journey, state: JourneyState, now: datetime) -> bool:
    horizon = timedelta(days=journey.horizon_days) + ABANDONED_AFTER
    return state.entered_at is not None and now > state.entered_at + horizon


# --------------------------------------------------------------------------------- steps


def _sunset_lifted(contact: ContactState, profile: CustomerProfile, step: Step) -> bool:
    """A sunset stops marketing email to people who stopped reading it; it never stops the
    service email an order causes, and it ends when the person orders again."""
    if contact.suppressed is not Suppression.SUNSET:
        return False
    reordered = profile.last_order_at is not None and (
        contact.suppressed_at is None or profile.last_order_at > contact.suppressed_at
    )
    return step.purpose is Purpose.SERVICE or reordered


def suppression_reason(
    profile: CustomerProfile, contact: ContactState, step: Step, definitions: JourneyFile
) -> str | None:
    """Why this customer must not get this step's email now, checked at send time (not only at entry)."""
    if contact.suppressed is not None and not _sunset_lifted(contact, profile, step):
        return contact.suppressed.value
    if not profile.email:
        return "no_address"
    if deliverable_address(profile.email) is None:
        return "undeliverable_address"
    if step.purpose is not Purpose.SERVICE and is_sunset(contact.history(profile.last_order_at), definitions.frequency):
        return Suppression.SUNSET.value
    return None


def decide_step(
    journey: Journey,
    state: JourneyState,
    profile: CustomerProfile | None,
    contact: ContactState,
    now: datetime,
    definitions: JourneyFile,
    kinds: Mapping[str, TemplateKind],
    stream_window: int,
    promotion_limit: float,
    policy: ConsentPolicy = ConsentPolicy.EXPLICIT,
) -> StepDecision:
    """What happens to the step ``state`` is at: exit, defer (never drop), skip, or send."""
    if profile is None:
        return Exit("customer_deleted", {"exited_customer_deleted": 1})
    ordered = profile.last_order_at is not None and state.entered_at is not None
    if ordered and ExitCondition.ORDERED in journey.exit_on and profile.last_order_at > state.entered_at:  # type: ignore[operator]
        return Exit("ordered", {"exited_ordered": 1})
    step = journey.steps[state.next_step]
    reason = suppression_reason(profile, contact, step, definitions)
    if reason is not None:
        sunset = reason == Suppression.SUNSET and contact.suppressed is None
        return Exit(reason, {"suppressed": 1, f"suppressed_{reason}": 1, **({"sunset": 1} if sunset else {})}, sunset)
    if contact.paused_until is not None and contact.paused_until > now:
        return Defer(contact.paused_until, "deferred_paused")
    if step.purpose is Purpose.MARKETING and (refusal := rules.consent_refusal(profile, policy)) is not None:
        return SkipStep(f"skipped_{refusal}")
    template, variant = rules.step_template(profile.customer_id, state.journey, step)
    if review_asked_recently(template, contact, now, definitions.frequency):
        return SkipStep("skipped_review_recently")
    kind = kinds[template]
    if kind is TemplateKind.PROMOTION and detractor_quiet(contact, now, definitions.frequency):
        return SkipStep("skipped_detractor")
    if not stream_allows(contact.kinds(), kind, stream_window, promotion_limit):
        return SkipStep()
    rules_of_frequency = definitions.frequency
    when = earliest_send(
        now,
        contact.history(profile.last_order_at),
        rules_of_frequency,
        profile.time_zone,
        exempt_from_cap=step.purpose is Purpose.SERVICE,
    ).replace(microsecond=0)
    if when > now:
        quiet_only = outside_quiet_hours(now, profile.time_zone, rules_of_frequency).replace(microsecond=0)
        return Defer(when, "deferred_quiet_hours" if when == quiet_only else "deferred_frequency_cap")
    message_id = rules.message_id_for(profile.customer_id, state.journey, state.cycle, step.id)
    asks_review = template in definitions.frequency.review_templates
    return Send(profile, step, template, variant, kind, message_id, asks_review)


def review_asked_recently(template: str, contact: ContactState, now: datetime, frequency: FrequencyRules) -> bool:
    """A review request within ``review_every_days`` of the last one is skipped, whichever
    journey asks: thanks for an order is service, asking for a review is not."""
    if template not in frequency.review_templates or not frequency.review_every_days:
        return False
    last = contact.last_review_request_at
    return last is not None and now - last < timedelta(days=frequency.review_every_days)


def score_is_latest(contact: ContactState, message_id: str) -> bool:
    """Whether an NpsAnswered event tells the customer's latest score: a click on an older
    survey, re-told months later, must not start a journey from an opinion since replaced."""
    return contact.nps is not None and contact.nps.message_id == message_id


def detractor_quiet(contact: ContactState, now: datetime, frequency: FrequencyRules) -> bool:
    """A customer whose latest NPS score was 0-6 gets no promotion for ``detractor_quiet_days``:
    what follows an unhappy answer is service and content, not a sale. A later, better score
    ends the pause (only the latest score counts)."""
    score = contact.nps
    if score is None or score.group != "detractor" or not frequency.detractor_quiet_days:
        return False
    return now - score.at < timedelta(days=frequency.detractor_quiet_days)


def step_timer(state: JourneyState, step_index: int, due: datetime) -> Timer:
    """The timer that fires ``step_index`` of the cycle ``state`` is in. Its firing number is
    unique per arming within the cycle (each step, each deferral of it), so a sweep holding a
    stale read of the index can never claim its successor."""
    return Timer(
        customer_id=state.customer_id,
        kind=step_timer_kind(state.journey),
        due_at=due,
        generation=state.cycle,
        firing=step_index * (MAX_DEFERRALS + 1) + state.deferrals + 1,
        payload={"cycle": state.cycle, "step": step_index, **({"check": 1} if state.branch_check else {})},
    )


def advanced(
    journey: Journey, state: JourneyState, now: datetime, sent: bool = False
) -> tuple[JourneyState, Timer | None]:
    """The journey past its current step: the next step's timer, or the cycle completed.

    A step with branches whose email was ``sent`` arms its check instead: ``check_after_days``
    later the customer's reaction picks the next step (:func:`branch_taken`). A skipped step has
    nothing to react to and goes on the plain way."""
    step = journey.steps[state.next_step]
    following = journey.following(state.next_step)
    if sent and step.branches and step.check_after_days is not None:
        check = BranchCheck(step=state.next_step, since=now)
        checking = state.model_copy(update={"next_step": following, "deferrals": 0, "branch_check": check})
        return checking, step_timer(checking, following, now + timedelta(days=step.check_after_days))
    return _moved_to(journey, state, following, _due_from_entry(journey, state, following, now), now)


def _due_from_entry(journey: Journey, state: JourneyState, index: int, now: datetime) -> datetime:
    if index >= len(journey.steps):
        return now
    return max(now, (state.entered_at or now) + timedelta(days=journey.steps[index].delay_days))


def _moved_to(
    journey: Journey, state: JourneyState, index: int, due: datetime, now: datetime, deferrals: int = 0
) -> tuple[JourneyState, Timer | None]:
    if index < len(journey.steps):
        moved = state.model_copy(update={"next_step": index, "deferrals": deferrals, "branch_check": None})
        return moved, step_timer(moved, index, due)
    completed = {"next_step": index, "status": JourneyStatus.COMPLETED, "finished_at": now, "branch_check": None}
    return state.model_copy(update=completed), None


# --------------------------------------------------------------------------------- branches


@dataclass(frozen=True)
class BranchTaken:
    """Where a branch check sends the customer: step ``target`` (``len(steps)``: the end) due at
    ``due``; ``counts`` name the path for the step's counters."""

    target: int
    due: datetime
    counts: dict[str, int]


def branch_taken(
    journey: Journey,
    state: JourneyState,
    profile: CustomerProfile | None,
    contact: ContactState,
    now: datetime,
) -> BranchTaken:
    """The first branch whose reaction the customer showed since the step's email, else the
    plain way on (the next step at its own delay from entry). Called at the check only."""
    check = state.branch_check
    if check is None:
        raise ValueError("a branch is taken only at a branch check")
    step = journey.steps[check.step]
    message_id = rules.message_id_for(state.customer_id, state.journey, state.cycle, step.id)
    for branch in step.branches:
        if reacted(branch.when, check.since, message_id, profile, contact, state, now):
            target = journey.index_of(branch.go_to)
            return BranchTaken(
                target, now + timedelta(days=branch.after_days), {"branched": 1, f"branched_to_{branch.go_to}": 1}
            )
    following = journey.following(check.step)
    return BranchTaken(following, _due_from_entry(journey, state, following, now), {"branch_default": 1})


def reacted(
    when: Reaction,
    since: datetime,
    message_id: str,
    profile: CustomerProfile | None,
    contact: ContactState,
    state: JourneyState,
    now: datetime,
) -> bool:
    """Whether the customer showed ``when`` since the email ``message_id`` went out at ``since``."""
    if when.answered is not None:
        answer = contact.last_answer
        return answer is not None and answer.message_id == message_id and answer.answer == when.answered
    if when.clicked is not None:
        click = contact.last_click
        if click is None or click.message_id != message_id:
            return False
        return when.clicked == "any" or when.clicked.lower() in (click.url or "").lower()
    if when.opened is not None:
        opened = contact.last_engaged_at is not None and contact.last_engaged_at >= since
        return opened == when.opened
    if when.ordered is not None:
        ordered = profile is not None and profile.last_order_at is not None and profile.last_order_at > since
        return ordered == when.ordered
    holds = state.coupon is not None and state.coupon.expires_at > now
    return holds == when.has_coupon


def after_branch(
    journey: Journey, state: JourneyState, taken: BranchTaken, now: datetime
) -> tuple[JourneyState, Timer | None]:
    """The journey on the path a check chose. Its step's first arming counts as the second of
    that step (deferrals 1): the check's own timer had the first number, so a sweep that read the
    check's arming can never claim the step's."""
    return _moved_to(journey, state, taken.target, taken.due, now, deferrals=1)


def deferred(state: JourneyState, until: datetime) -> tuple[JourneyState, Timer] | None:
    """The step put off until ``until`` (a new timer), or None once it was put off too often."""
    if state.deferrals >= MAX_DEFERRALS:
        return None
    moved = state.model_copy(update={"deferrals": state.deferrals + 1})
    return moved, step_timer(moved, moved.next_step, until)


def exited(state: JourneyState, reason: str, now: datetime) -> JourneyState:
    exit = {"status": JourneyStatus.EXITED, "exit_reason": reason, "finished_at": now, "branch_check": None}
    return state.model_copy(update=exit)


def offer_for(state: JourneyState, step: Step, now: datetime) -> CouponOffer | None:
    """The coupon an email shows: the one the cycle carries, or a new one when the step issues it."""
    if state.coupon is not None:
        return state.coupon
    if step.coupon is None:
        return None
    return CouponOffer(rules.new_coupon_code(), step.coupon.percent_off, now + timedelta(days=step.coupon.valid_days))


def issued_coupon(
    state: JourneyState, spec: CouponSpec, record: SendRecord, offer: CouponOffer
) -> tuple[Coupon, Timer]:
    """The coupon an email issues, stored with the reminder timer due before it runs out."""
    coupon = Coupon(
        customer_id=state.customer_id,
        code=offer.code,
        percent_off=spec.percent_off,
        issued_at=record.claimed_at,
        expires_at=record.claimed_at + timedelta(days=spec.valid_days),
        journey=state.journey,
        message_id=record.message_id,
    )
    reminder = Timer(
        customer_id=state.customer_id,
        kind=coupon_timer_kind(coupon.code),
        due_at=coupon.expires_at - timedelta(days=spec.remind_days_before),
        payload={"code": coupon.code, "journey": state.journey},
    )
    return coupon, reminder


# --------------------------------------------------------------------------------- orders


@dataclass(frozen=True)
class Conversion:
    """An order counted for the journey cycle it follows (treated or hold-out: the lift needs both)."""

    state: JourneyState
    exits: bool
    counts: dict[str, int] = field(default_factory=dict)
    attributed: bool = False  # the order is credited to this journey's email the person clicked


def conversions(
    states: Mapping[str, JourneyState],
    order_id: str,
    total: Decimal,
    placed_at: datetime,
    definitions: JourneyFile,
    credit: LastClick | None,
) -> list[Conversion]:
    """Each journey cycle the customer entered before the order counts it once (a duplicate order
    changes nothing); journeys that end on an order are exited; the email credited with the order
    (``credit``: a human click within the attribution window) gets it in its own journey."""
    found = []
    for state in states.values():
        if state.entered_at is None or placed_at < state.entered_at or order_id in state.converted_orders:
            continue
        journey = definitions.journeys.get(state.journey)
        update: dict[str, object] = {}
        if len(state.converted_orders) < 20:
            update = {
                "converted_orders": [*state.converted_orders, order_id],
                "converted_revenue": state.converted_revenue + total,
                "first_conversion_at": state.first_conversion_at or placed_at,
            }
        ends_on_order = journey is not None and ExitCondition.ORDERED in journey.exit_on
        exits = state.status is JourneyStatus.ACTIVE and ends_on_order
        if exits:
            update.update(status=JourneyStatus.EXITED, exit_reason="ordered", finished_at=placed_at)
        if not update:
            continue
        counts = {"converted_holdout" if state.holdout else "converted": 1, **({"exited_ordered": 1} if exits else {})}
        if state.first_conversion_at is None and "converted_orders" in update:  # the lift counts customers
            counts["customers_converted_holdout" if state.holdout else "customers_converted"] = 1
        attributed = credit is not None and credit.journey == state.journey and not state.holdout
        if attributed and credit is not None and "converted_orders" in update:
            credited = Attribution(
                order_id=order_id, sent_day=credit.sent_day, step=credit.step, variant=credit.variant, revenue=total
            )
            update["attributions"] = [*state.attributions, credited][-20:]
        if attributed:
            counts["attributed_orders"] = 1
        found.append(Conversion(state.model_copy(update=update), exits, counts, attributed))
    return found


@dataclass(frozen=True)
class RefundTaken:
    """A refund taken off one journey cycle that counted the order: the state to store and the
    counters to add (negative revenue on the email the order was credited to)."""

    state: JourneyState
    tallies: list[Tally]


def refunds_taken(
    states: Mapping[str, JourneyState],
    order_id: str,
    refund_key: str,
    amount: Decimal,
    order_counts: bool,
    day: date,
) -> list[RefundTaken]:
    """Each cycle that counted ``order_id`` gives back ``amount`` (never more than it counted):
    ``refunds``/``refunded_revenue`` at journey level, and ``attributed_revenue`` minus what the
    credited email had gained (``attributed_orders`` minus one when the order no longer counts)."""
    found = []
    for state in states.values():
        if order_id not in state.converted_orders or refund_key in state.refunds_counted:
            continue
        taken = min(amount, state.converted_revenue)
        counts: dict[str, int | Decimal] = {"refunds_holdout" if state.holdout else "refunds": 1}
        if taken:
            counts["refunded_revenue_holdout" if state.holdout else "refunded_revenue"] = taken
        tallies = [Tally(state.journey, day, counts)]
        attributions = list(state.attributions)
        for index, credited in enumerate(attributions):
            if credited.order_id != order_id:
                continue
            back = min(amount, credited.revenue)
            undo: dict[str, int | Decimal] = {"attributed_revenue": -back} if back else {}
            if not order_counts:
                undo["attributed_orders"] = -1
            if undo:
                tallies.append(Tally(state.journey, credited.sent_day, undo, credited.step, credited.variant))
            attributions[index] = credited.model_copy(update={"revenue": credited.revenue - back})
        update = {
            "converted_revenue": state.converted_revenue - taken,
            "attributions": attributions,
            "refunds_counted": [*state.refunds_counted, refund_key][-20:],
        }
        found.append(RefundTaken(state.model_copy(update=update), tallies))
    return found


def credited_click(contact: ContactState, placed_at: datetime, window_days: int) -> LastClick | None:
    """The email a person clicked last, if within the attribution window before the order."""
    click = contact.last_click
    if click is None or not placed_at - timedelta(days=window_days) <= click.at <= placed_at:
        return None
    return click


def redeemed_coupon(coupons: Mapping[str, Coupon], code: str | None, order_id: str, at: datetime) -> Coupon | None:
    """The engine's coupon an order used, redeemed by it (None when the code is not one still open)."""
    coupon = coupons.get(code) if code else None
    if coupon is None or coupon.status is not CouponStatus.ISSUED:
        return None
    return coupon.model_copy(update={"status": CouponStatus.REDEEMED, "redeemed_at": at, "order_id": order_id})
