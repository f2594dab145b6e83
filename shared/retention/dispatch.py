"""The journey dispatcher: engine events in, journey states advanced, emails sent exactly once.

One event is handled in three moves, each a few DynamoDB requests:

* an order (``OrderPlaced`` from the ingest) counts as a conversion on every journey the
  customer entered before it (treated *and* hold-out: that is what lift is measured on),
  exits the journeys that end on an order and redeems the coupon it carries;
* an event that triggers journeys enters the customer (entry filter, re-entry delay,
  deterministic hold-out) and arms the first step's timer, sending it at once when it is due;
* a step's timer (``TimerFired`` of kind ``journey:<name>``) sends that step — unless the
  customer ordered, is suppressed, paused or sunset; quiet hours and the frequency cap defer
  it (a new timer), never drop it; a promotion over the 80/20 stream limit is skipped.

Sending is claim → SES → finish. The claim creates the send record under a deterministic
message id only if absent, so however often an event is delivered, each (customer, journey,
cycle, step) is emailed at most once. If SES refuses, the claim is released and the event
retried. If a container dies between SES and finish, the claim stays ``sending``; a retry
after ``CLAIM_LEASE`` treats it as sent rather than risk a second email.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from retention import journeys as rules_of
from retention.frequency import earliest_send, is_sunset, outside_quiet_hours
from retention.mail.catalog import Catalog, TemplateKind
from retention.mail.compose import compose, deliverable_address
from retention.mail.context import CouponOffer
from retention.mail.render import Renderer
from retention.mail.ses import SendFailed, SesSender
from retention.mail.settings import MailSettings
from retention.mail.signing import KeyRing
from retention.mail.stream import stream_allows
from retention.models.engine_events import (
    CustomerInactiveEvent,
    JourneyEvent,
    OrderAppliedEvent,
    TimerFiredEvent,
)
from retention.models.journeys import ExitCondition, Journey, JourneyFile, Step
from retention.models.messaging import (
    ContactState,
    Coupon,
    JourneyState,
    JourneyStatus,
    SendRecord,
    SendStatus,
    SentEntry,
    Suppression,
)
from retention.models.profile import CustomerProfile
from retention.models.timers import Timer
from retention.models.tracking import Engagement, TrackingRules
from retention.store.bus import EngineEvent
from retention.store.counters import JOURNEY_LEVEL, CounterStore, counter_update
from retention.store.errors import ConcurrentUpdate
from retention.store.messaging import MessagingStore, Snapshot, coupon_sk
from retention.store.timers import TimerLayout, timer_put, timer_sort_key
from retention.store.tracking import engagement
from retention.tracking.machine import tracking_rules

log = logging.getLogger(__name__)

JOURNEY_TIMER = "journey"
COUPON_TIMER = "coupon_expiry"
CLAIM_LEASE = timedelta(minutes=5)
MAX_DEFERRALS = 30
ATTEMPTS = 4
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


class SendInFlight(RuntimeError):
    """Another container holds a fresh claim on this email; the event is retried later."""


@dataclass(frozen=True)
class Mailer:
    """What sending needs, built once per container."""

    renderer: Renderer
    ring: KeyRing
    settings: MailSettings
    sender: SesSender

    @property
    def catalog(self) -> Catalog:
        return self.renderer.catalog


@dataclass
class Sent:
    message_id: str
    customer_id: str
    journey: str
    step: str
    template: str
    variant: str


@dataclass
class Outcome:
    """What handling one event did: totals for metrics and logs, and per (journey, step, variant)
    for the stored counters the reports read."""

    counts: Counter[str] = field(default_factory=Counter)
    groups: dict[tuple[str, str, str], Counter[str]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def add(self, what: str, journey: str, step: str = JOURNEY_LEVEL, variant: str = JOURNEY_LEVEL) -> None:
        """Count for metrics and for the stored counters (flushed after the event)."""
        self.counts[what] += 1
        self.groups.setdefault((journey, step, variant), Counter())[what] += 1

    def note(self, what: str, journey: str) -> None:
        """Count for metrics and logs only: no-ops (duplicates, stale timers) cost no write."""
        self.counts[what] += 1
        self.counts[f"{what}:{journey}"] += 1

    def stored(self, what: str) -> None:
        """Count for metrics; the stored counter was written inside the caller's transaction."""
        self.counts[what] += 1


def new_coupon_code() -> str:
    """``XXXXX-XXXXX`` from 30 unambiguous characters (49 bits): unique in practice, unguessable."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def suppression_reason(
    profile: CustomerProfile, contact: ContactState, journey: Journey, definitions: JourneyFile
) -> str | None:
    """Why this customer must not get this email now, checked at send time (not only at entry)."""
    if contact.suppressed is not None:
        return contact.suppressed.value
    if journey.entry.requires_consent and not profile.marketing_consent:
        return "no_consent"
    if not profile.email:
        return "no_address"
    if deliverable_address(profile.email) is None:
        return "undeliverable_address"
    if is_sunset(contact.history(), definitions.frequency):
        return Suppression.SUNSET.value
    return None


class Dispatcher:
    def __init__(
        self,
        store: MessagingStore,
        definitions: JourneyFile,
        mailer: Mailer,
        publish: Callable[[list[EngineEvent]], object],
        layout: TimerLayout | None = None,
        tracking: TrackingRules | None = None,
    ) -> None:
        self.store = store
        self.tracking = tracking or tracking_rules()
        self.definitions = definitions
        self.mailer = mailer
        self.publish = publish
        self.layout = layout or TimerLayout.from_settings()
        self.counters = CounterStore(store.table_name)

    # ------------------------------------------------------------------ entry points
    def handle(self, event: JourneyEvent, now: datetime) -> Outcome:
        outcome = Outcome()
        if isinstance(event, TimerFiredEvent) and event.timer_family == JOURNEY_TIMER:
            self._step_due(event, now, outcome)
            self._count(outcome, now)
            return outcome
        if isinstance(event, OrderAppliedEvent):
            self._order(event, outcome)
        qualifier = event.timer_family if isinstance(event, TimerFiredEvent) else None
        entering = [
            name
            for name, journey in self.definitions.journeys.items()
            if rules_of.triggered_by(journey, event.detail_type, qualifier, event.labels)
        ]
        if entering:
            self._enter(event, entering, now, outcome)
        self._count(outcome, now)
        return outcome

    def _count(self, outcome: Outcome, now: datetime) -> None:
        """One atomic ADD per (journey, step, variant) touched: usually one request per event."""
        for (journey, step, variant), counts in outcome.groups.items():
            if journey in self.definitions.journeys:
                self.counters.add(journey, now.date(), step, variant, dict(counts))

    # ------------------------------------------------------------------ orders
    def _order(self, event: OrderAppliedEvent, outcome: Outcome) -> None:
        order = event.detail
        contact, states = self.store.customer_journeys(order.customer_id)
        credit = self._credited(contact, order.placed_at)
        for state in states:
            for _ in range(ATTEMPTS):
                try:
                    credited = credit if credit is not None and credit.journey == state.journey else None
                    self._convert(state, order.order_id, order.total, order.placed_at, outcome, credited)
                    break
                except ConcurrentUpdate:
                    state = next(s for s in self.store.journey_states(order.customer_id) if s.journey == state.journey)
        if order.coupon_code and self.store.redeem_coupon(
            order.customer_id, order.coupon_code, order.order_id, order.placed_at
        ):
            self.store.transact(
                [self.store.delete_item(order.customer_id, timer_sort_key(_coupon_kind(order.coupon_code)))]
            )
            outcome.counts["coupon_redeemed"] += 1

    def _credited(self, contact: ContactState, placed_at: datetime) -> Engagement | None:
        """The email whose human click came last within the attribution window before the order.

        Read from the recent sends' engagement markers (one BatchGetItem, only for customers
        who were emailed recently); an order with no such click is credited to no email.
        """
        if not contact.sends:
            return None
        window = timedelta(days=self.tracking.attribution_window_days)
        found = engagement(self.store.table_name, [e.message_id for e in contact.sends])
        clicked = [
            e
            for e in found.values()
            if e.last_human_click_at is not None and placed_at - window <= e.last_human_click_at <= placed_at
        ]
        return max(clicked, key=lambda e: e.last_human_click_at, default=None)  # type: ignore[arg-type,return-value]

    def _with_engagement(self, contact: ContactState) -> ContactState:
        """The unopened streak, counted back from the newest recent send to the last one a human
        opened or clicked (the markers the tracking API writes; one BatchGetItem)."""
        if not contact.sends:
            return contact
        found = engagement(self.store.table_name, [e.message_id for e in contact.sends])
        streak = 0
        for entry in sorted(contact.sends, key=lambda e: e.at, reverse=True):
            seen = found.get(entry.message_id)
            if seen is not None and seen.engaged:
                break
            streak += 1
        return contact.model_copy(update={"unopened_streak": streak})

    def _convert(
        self,
        state: JourneyState,
        order_id: str,
        total: object,
        placed_at: datetime,
        outcome: Outcome,
        credit: Engagement | None = None,
    ) -> None:
        """Count the order for the cycle it follows (once per order) and exit journeys that end on one;
        the email credited with it (a human click within the window) gets the order and its revenue."""
        if state.entered_at is None or placed_at < state.entered_at or order_id in state.converted_orders:
            return
        journey = self.definitions.journeys.get(state.journey)
        update: dict[str, object] = {}
        if len(state.converted_orders) < 20:
            update = {
                "converted_orders": [*state.converted_orders, order_id],
                "converted_revenue": state.converted_revenue + total,  # type: ignore[operator]
                "first_conversion_at": state.first_conversion_at or placed_at,
            }
        items = []
        exits = (
            state.status is JourneyStatus.ACTIVE and journey is not None and ExitCondition.ORDERED in journey.exit_on
        )
        if exits:
            update.update(status=JourneyStatus.EXITED, exit_reason="ordered", finished_at=placed_at)
            items.append(self.store.delete_item(state.customer_id, timer_sort_key(_step_kind(state.journey))))
        if not update:
            return
        counts = {"converted_holdout" if state.holdout else "converted": 1, **({"exited_ordered": 1} if exits else {})}
        if state.first_conversion_at is None and "converted_orders" in update:  # the lift counts customers
            counts["customers_converted_holdout" if state.holdout else "customers_converted"] = 1
        if state.journey in self.definitions.journeys:
            items.append(self._counter(state.journey, placed_at, counts))
            if credit is not None and credit.sent_at is not None and not state.holdout:
                attributed = {"attributed_orders": 1, "attributed_revenue": total}
                day = credit.sent_at.date()
                table = self.store.table_name
                update_item = counter_update(table, credit.journey, day, credit.step, credit.variant, attributed)  # type: ignore[arg-type]
                items.append({"Update": update_item})
                counts.update(attributed_orders=1)
        self.store.transact([self.store.state_put(state.model_copy(update=update), state.version), *items])
        for what in counts:
            outcome.stored(what)

    # ------------------------------------------------------------------ entering
    def _enter(self, event: JourneyEvent, names: list[str], now: datetime, outcome: Outcome) -> None:
        coupon_code = None
        if isinstance(event, TimerFiredEvent) and event.timer_family == COUPON_TIMER:
            coupon_code = str(event.detail.payload.get("code", "")) or None
        snap = self.store.snapshot(event.customer_id, names, coupon_code)
        for name in names:
            for attempt in range(ATTEMPTS):
                try:
                    self._enter_one(name, event, snap, now, outcome)
                    break
                except ConcurrentUpdate:
                    if attempt == ATTEMPTS - 1:
                        raise
                    snap = self.store.snapshot(event.customer_id, names, coupon_code)

    def _enter_one(self, name: str, event: JourneyEvent, snap: Snapshot, now: datetime, outcome: Outcome) -> None:
        journey = self.definitions.journeys[name]
        state = snap.states[name]
        profile = snap.profile
        key = event.trigger_key
        if key in state.recent_triggers:
            outcome.note("duplicate_trigger", name)
            return
        if state.status is JourneyStatus.ACTIVE and not self._abandoned(journey, state, now):
            outcome.note("already_in_journey", name)
            return
        if state.entered_at is not None and now < state.entered_at + timedelta(days=journey.reentry_days):
            outcome.note("reentry_too_soon", name)
            return
        if profile is None or not rules_of.matches_entry(journey, profile, event.labels):
            outcome.note("not_eligible", name)
            return
        offer = None
        if journey.trigger.timer == COUPON_TIMER:
            coupon = snap.coupon
            if coupon is None or coupon.status != "issued" or coupon.expires_at <= now:
                outcome.note("coupon_not_open", name)
                return
            offer = CouponOffer(coupon.code, coupon.percent_off, coupon.expires_at)
        holdout = rules_of.in_holdout(
            profile.customer_id,
            name,
            journey.holdout_share if journey.holdout_share is not None else self.definitions.frequency.holdout_share,
        )
        entered = JourneyState(
            customer_id=profile.customer_id,
            journey=name,
            cycle=state.cycle + 1,
            status=JourneyStatus.HOLDOUT if holdout else JourneyStatus.ACTIVE,
            entered_at=now,
            trigger_key=key,
            recent_triggers=[*state.recent_triggers, key][-5:],
            coupon=offer,
        )
        if holdout:
            self.store.transact(
                [self.store.state_put(entered, state.version), self._counter(name, now, {"holdout": 1})]
            )
            outcome.stored("holdout")
            return
        # The first step's timer is armed with the state, so a failure below is retried by the sweep.
        first_due = now + timedelta(days=journey.steps[0].delay_days)
        self.store.transact(
            [
                self.store.state_put(entered, state.version),
                self._step_timer(entered, 0, first_due, now),
                self._counter(name, now, {"entered": 1}),
            ]
        )
        outcome.stored("entered")
        if first_due <= now:
            entered = entered.model_copy(update={"version": state.version + 1})
            self._attempt_step(journey, entered, profile, snap.contact, now, outcome)

    @staticmethod
    def _abandoned(journey: Journey, state: JourneyState, now: datetime) -> bool:
        """An active cycle far past its last step (a step stuck in the DLQ) no longer blocks re-entry."""
        horizon = timedelta(days=journey.steps[-1].delay_days + 60)
        return state.entered_at is not None and now > state.entered_at + horizon

    # ------------------------------------------------------------------ steps
    def _step_due(self, event: TimerFiredEvent, now: datetime, outcome: Outcome) -> None:
        name = event.detail.kind.split(":", 1)[1] if ":" in event.detail.kind else ""
        journey = self.definitions.journeys.get(name)
        if journey is None:
            log.warning("timer for a journey no longer defined", extra={"journey": name[:40]})
            outcome.note("unknown_journey", name or "-")
            return
        payload = event.detail.payload
        for attempt in range(ATTEMPTS):
            snap = self.store.snapshot(event.customer_id, [name])
            state = snap.states[name]
            if (
                state.status is not JourneyStatus.ACTIVE
                or state.cycle != _whole_number(payload.get("cycle"))
                or state.next_step != _whole_number(payload.get("step"))
            ):
                outcome.note("stale_timer", name)
                return
            try:
                self._attempt_step(journey, state, snap.profile, snap.contact, now, outcome)
                return
            except ConcurrentUpdate:
                if attempt == ATTEMPTS - 1:
                    raise

    def _attempt_step(
        self,
        journey: Journey,
        state: JourneyState,
        profile: CustomerProfile | None,
        contact: ContactState,
        now: datetime,
        outcome: Outcome,
    ) -> None:
        name = state.journey
        step = journey.steps[state.next_step]
        rules = self.definitions.frequency
        if profile is None:
            self._exit(state, "customer_deleted", now)
            outcome.add("exited_customer_deleted", name)
            return
        ordered = profile.last_order_at is not None and state.entered_at is not None
        if ordered and ExitCondition.ORDERED in journey.exit_on and profile.last_order_at > state.entered_at:  # type: ignore[operator]
            self._exit(state, "ordered", now)
            outcome.add("exited_ordered", name)
            return
        contact = self._with_engagement(contact)
        reason = suppression_reason(profile, contact, journey, self.definitions)
        if reason is not None:
            if reason == Suppression.SUNSET and contact.suppressed is None:
                self.store.suppress(profile.customer_id, Suppression.SUNSET, now)
                outcome.add("sunset", name)
            self._exit(state, reason, now)
            outcome.add("suppressed", name)
            outcome.add(f"suppressed_{reason}", name)
            return
        if contact.paused_until is not None and contact.paused_until > now:
            self._defer(state, contact.paused_until, now, "deferred_paused", outcome)
            return
        template, variant = rules_of.step_template(profile.customer_id, name, step)
        kind = self.mailer.catalog.templates[template].kind
        window = self.mailer.catalog.settings.stream_window
        if not stream_allows(contact.kinds(), kind, window, self.mailer.settings.promotion_share_limit):
            self._advance(journey, state, now, [])
            outcome.add("skipped_stream_rule", name)
            return
        when = earliest_send(
            now, contact.history(), rules, profile.time_zone, exempt_from_cap=journey.transactional
        ).replace(microsecond=0)
        if when > now:
            quiet_only = outside_quiet_hours(now, profile.time_zone, rules).replace(microsecond=0)
            cause = "deferred_quiet_hours" if when == quiet_only else "deferred_frequency_cap"
            self._defer(state, when, now, cause, outcome)
            return
        self._send(journey, step, state, profile, contact, template, variant, kind, now, outcome)

    def _send(
        self,
        journey: Journey,
        step: Step,
        state: JourneyState,
        profile: CustomerProfile,
        contact: ContactState,
        template: str,
        variant: str,
        kind: object,
        now: datetime,
        outcome: Outcome,
    ) -> None:
        name = state.journey
        message_id = rules_of.message_id_for(profile.customer_id, name, state.cycle, step.id)
        offer = state.coupon
        if offer is None and step.coupon is not None:
            offer = CouponOffer(
                new_coupon_code(), step.coupon.percent_off, now + timedelta(days=step.coupon.valid_days)
            )
        mailer = self.mailer
        email = compose(
            mailer.renderer,
            template,
            profile,
            message_id=message_id,
            ring=mailer.ring,
            settings=mailer.settings,
            now=now,
            coupon=offer,
        )
        record = SendRecord(
            message_id=message_id,
            customer_id=profile.customer_id,
            journey=name,
            step=step.id,
            cycle=state.cycle,
            template=template,
            variant=variant,
            kind=kind,  # type: ignore[arg-type]
            language=email.language,
            promotion_share=email.promotion_share,
            urls=list(email.urls),
            coupon_code=offer.code if offer else None,
            claimed_at=now,
        )
        entry = SentEntry(message_id=message_id, at=now, kind=kind, counts_for_cap=not journey.transactional)  # type: ignore[arg-type]
        claimed_contact = contact.model_copy(
            update={"sends": contact.with_send(entry, now), "unopened_streak": contact.unopened_streak + 1}
        )
        try:
            self.store.transact(
                [self.store.send_claim(record), self.store.contact_put(claimed_contact, contact.version)]
            )
        except ConcurrentUpdate as conflict:
            if not conflict.reasons or conflict.reasons[0] != "ConditionalCheckFailed":
                raise  # the contact changed (another email, an unsubscribe): decide again from fresh state
            existing = self.store.send_record(message_id)
            if existing is None:
                raise
            if existing.status is SendStatus.SENDING and now - existing.claimed_at < CLAIM_LEASE:
                raise SendInFlight(message_id) from conflict
            if existing.status is SendStatus.SENDING:
                log.error("send outcome unknown; treated as sent", extra={"message_id": message_id})
                outcome.add("uncertain_send", name, step.id, variant)
            outcome.add("already_sent", name, step.id, variant)
            self._finish(journey, step, state, existing, now, fresh=False)
            return
        tags = {"journey": name, "step": step.id, "variant": variant, "message": message_id}
        try:
            ses_id = mailer.sender.send(email, tags)
        except SendFailed:
            self.store.release_claim(record, claimed_contact)
            raise
        done = record.model_copy(update={"status": SendStatus.SENT, "sent_at": now, "ses_message_id": ses_id})
        self._finish(journey, step, state, done, now, fresh=True)
        outcome.stored("sent")
        outcome.counts[f"sent_{kind}"] += 1
        outcome.sent.append(Sent(message_id, profile.customer_id, name, step.id, template, variant))

    def _finish(
        self, journey: Journey, step: Step, state: JourneyState, record: SendRecord, now: datetime, fresh: bool
    ) -> None:
        """Mark the record sent, count it and move the journey on; the coupon the email showed is
        stored with its reminder. A record found already sent (a retry) is not counted twice."""
        done = [self.store.send_done(record)]
        if fresh:
            counts = {"sent": 1, **({"sent_promotion": 1} if record.kind is TemplateKind.PROMOTION else {})}
            done.append(self._counter(state.journey, now, counts, step.id, record.variant))
        try:
            self._advance(journey, state, now, done)
        except ConcurrentUpdate:
            self.store.transact(done)  # the journey moved on meanwhile (an order): the send still counts
        if record.coupon_code and step.coupon is not None and state.coupon is None:
            self._store_coupon(journey, step, state, record, now, announce=fresh)

    def _store_coupon(
        self, journey: Journey, step: Step, state: JourneyState, record: SendRecord, now: datetime, announce: bool
    ) -> None:
        spec = step.coupon
        if spec is None or not record.coupon_code:
            return
        coupon = Coupon(
            customer_id=state.customer_id,
            code=record.coupon_code,
            percent_off=spec.percent_off,
            issued_at=record.claimed_at,
            expires_at=record.claimed_at + timedelta(days=spec.valid_days),
            journey=state.journey,
            message_id=record.message_id,
        )
        reminder = Timer(
            customer_id=state.customer_id,
            kind=_coupon_kind(coupon.code),
            due_at=coupon.expires_at - timedelta(days=spec.remind_days_before),
            payload={"code": coupon.code, "journey": state.journey},
        )
        try:
            self.store.transact(
                [self.store.coupon_put(coupon), timer_put(self.store.table_name, reminder, now, self.layout)]
            )
        except ConcurrentUpdate:
            return  # stored by an earlier attempt
        if announce:
            detail = {
                "customer_id": coupon.customer_id,
                "code": coupon.code,
                "percent_off": coupon.percent_off,
                "expires_at": coupon.expires_at,
                "journey": coupon.journey,
                "message_id": coupon.message_id,
            }
            self.publish([EngineEvent("CouponIssued", detail, now)])

    # ------------------------------------------------------------------ state moves
    def _counter(
        self,
        journey: str,
        now: datetime,
        counts: dict[str, int],
        step: str = JOURNEY_LEVEL,
        variant: str = JOURNEY_LEVEL,
    ) -> dict:
        return {"Update": counter_update(self.store.table_name, journey, now.date(), step, variant, counts)}

    def _step_timer(self, state: JourneyState, step_index: int, due: datetime, now: datetime) -> dict:
        timer = Timer(
            customer_id=state.customer_id,
            kind=_step_kind(state.journey),
            due_at=due,
            generation=state.cycle,
            firing=step_arming(step_index, state.deferrals),
            payload={"cycle": state.cycle, "step": step_index},
        )
        return timer_put(self.store.table_name, timer, now, self.layout)

    def _advance(self, journey: Journey, state: JourneyState, now: datetime, with_items: list[dict]) -> None:
        following = state.next_step + 1
        if following < len(journey.steps):
            entered = state.entered_at or now
            due = max(now, entered + timedelta(days=journey.steps[following].delay_days))
            moved = state.model_copy(update={"next_step": following, "deferrals": 0})
            timer = self._step_timer(moved, following, due, now)
        else:
            moved = state.model_copy(
                update={"next_step": following, "status": JourneyStatus.COMPLETED, "finished_at": now}
            )
            timer = self.store.delete_item(state.customer_id, timer_sort_key(_step_kind(state.journey)))
        self.store.transact([*with_items, self.store.state_put(moved, state.version), timer])

    def _defer(self, state: JourneyState, until: datetime, now: datetime, cause: str, outcome: Outcome) -> None:
        if state.deferrals >= MAX_DEFERRALS:
            self._exit(state, "deferred_too_often", now)
            outcome.add("exited_deferred_too_often", state.journey)
            return
        moved = state.model_copy(update={"deferrals": state.deferrals + 1})
        self.store.transact(
            [
                self.store.state_put(moved, state.version),
                self._step_timer(moved, state.next_step, until, now),
                self._counter(state.journey, now, {cause: 1}),
            ]
        )
        outcome.stored(cause)

    def _exit(self, state: JourneyState, reason: str, now: datetime) -> None:
        moved = state.model_copy(update={"status": JourneyStatus.EXITED, "exit_reason": reason, "finished_at": now})
        self.store.transact(
            [
                self.store.state_put(moved, state.version),
                self.store.delete_item(state.customer_id, timer_sort_key(_step_kind(state.journey))),
            ]
        )


def step_arming(step_index: int, deferrals: int) -> int:
    """The firing number of a step timer: unique per arming within a cycle (each step, each
    deferral of it), so a sweep holding a stale read of the index can never claim its successor."""
    return step_index * (MAX_DEFERRALS + 1) + deferrals + 1


def _whole_number(value: object) -> int | None:
    """Timer payload numbers come back from DynamoDB as Decimal and from JSON as text."""
    try:
        return int(str(value))
    except ValueError:
        return None


def _step_kind(journey: str) -> str:
    return f"{JOURNEY_TIMER}:{journey}"


def _coupon_kind(code: str) -> str:
    return f"{COUPON_TIMER}:{code}"


__all__ = ["CustomerInactiveEvent", "Dispatcher", "Mailer", "Outcome", "SendInFlight", "coupon_sk"]
