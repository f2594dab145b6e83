"""The journey dispatcher: read a snapshot, decide (journeys/decisions.py), commit through the store.

An engine event is handled in a few hops:

* an order (``OrderApplied``) — one Query, one transaction: every journey cycle the customer
  entered before it counts the conversion (treated and hold-out), journeys that end on an order
  are exited, the email the person clicked within the attribution window is credited, the
  coupon it used is redeemed;
* an event that triggers journeys — one BatchGetItem, then per journey one transaction: held
  out, entered (the first step's timer armed), or entered and its first email claimed at once;
* a step's timer (``TimerFired journey:<name>``) — one BatchGetItem, one transaction: exit,
  defer (quiet hours, cap, pause: a new timer, never dropped), skip (80/20 stream rule), or the
  email claimed with the journey moved past it. The email goes to SES after its claim
  (journeys/sending.py); if SES refuses, the claim is released and the event retried, so each
  (customer, journey, cycle, step) is emailed at most once however often the event is
  delivered. If SES refuses the address for good, the address is suppressed as undeliverable
  and the step decided again from a fresh read: the journey exits on the suppression.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from retention.journeys import decisions as decide
from retention.journeys.rules import step_template, triggered_by
from retention.journeys.sending import Mailer, Outcome, send_step
from retention.models.consent import ConsentPolicy
from retention.models.engine_events import (
    EngineEvent,
    JourneyEvent,
    NpsAnsweredEvent,
    OrderAppliedEvent,
    RefundAppliedEvent,
    TimerFiredEvent,
)
from retention.models.journeys import Journey, JourneyFile
from retention.models.messaging import JourneyState, JourneyStatus, Snapshot, Tally
from retention.models.timers import COUPON_TIMER, JOURNEY_TIMER
from retention.models.tracking import TrackingRules
from retention.store.errors import ConcurrentUpdate
from retention.store.journeys import JourneyStore

log = logging.getLogger(__name__)
ATTEMPTS = 4


class Dispatcher:
    def __init__(
        self,
        store: JourneyStore,
        definitions: JourneyFile,
        mailer: Mailer,
        publish: Callable[[list[EngineEvent]], object],
        tracking: TrackingRules,
        policy: ConsentPolicy = ConsentPolicy.EXPLICIT,
    ) -> None:
        self.store = store
        self.definitions = definitions
        self.mailer = mailer
        self.publish = publish
        self.tracking = tracking
        self.policy = policy
        self.kinds = {name: entry.kind for name, entry in mailer.catalog.templates.items()}

    def handle(self, event: JourneyEvent, now: datetime) -> Outcome:
        outcome = Outcome()
        if isinstance(event, TimerFiredEvent) and event.timer_family == JOURNEY_TIMER:
            self._retrying(lambda: self._step_due(event, now, outcome))
            return outcome
        if isinstance(event, OrderAppliedEvent):
            self._retrying(lambda: self._order(event, outcome))
        if isinstance(event, RefundAppliedEvent):
            self._retrying(lambda: self._refund(event, outcome))
            return outcome
        if event.historical:  # an imported past order: nobody is thanked or welcomed for it
            outcome.note("historical", event.detail_type)
            return outcome
        qualifier = event.timer_family if isinstance(event, TimerFiredEvent) else None
        for name, journey in self.definitions.journeys.items():
            if triggered_by(journey, event.detail_type, qualifier, event.labels):
                self._retrying(lambda name=name, journey=journey: self._enter(name, journey, event, now, outcome))
        return outcome

    @staticmethod
    def _retrying(attempt: Callable[[], None]) -> None:
        """Run a read-decide-commit attempt again from a fresh read when what it read moved on."""
        for number in range(ATTEMPTS):
            try:
                attempt()
                return
            except ConcurrentUpdate:
                if number == ATTEMPTS - 1:
                    raise

    # ------------------------------------------------------------------ orders
    def _order(self, event: OrderAppliedEvent, outcome: Outcome) -> None:
        order = event.detail
        snap = self.store.order_snapshot(order.customer_id)
        credit = decide.credited_click(snap.contact, order.placed_at, self.tracking.attribution_window_days)
        found = decide.conversions(snap.states, order.order_id, order.total, order.placed_at, self.definitions, credit)
        redeemed = decide.redeemed_coupon(snap.coupons, order.coupon_code, order.order_id, order.placed_at)
        if not found and redeemed is None:
            return
        tallies = [Tally(c.state.journey, order.placed_at.date(), c.counts) for c in found if self._defined(c.state)]
        if credit is not None and any(c.attributed for c in found):
            attributed = {"attributed_orders": 1, "attributed_revenue": order.total}
            tallies.append(Tally(credit.journey, credit.sent_day, attributed, credit.step, credit.variant))
        moves = [(c.state, c.state.version, c.exits) for c in found]
        self.store.convert(moves, tallies, redeemed, order.placed_at)
        for conversion in found:
            outcome.counts.update(conversion.counts)
            outcome.counts["attributed_orders"] += int(conversion.attributed)
        outcome.counts["coupon_redeemed"] += int(redeemed is not None)

    def _refund(self, event: RefundAppliedEvent, outcome: Outcome) -> None:
        """Take a refund off every journey cycle that counted the order, and off the revenue of
        the email it was credited to: reports show what the shop kept, exactly."""
        refund = event.detail
        snap = self.store.order_snapshot(refund.customer_id)
        taken = decide.refunds_taken(
            snap.states,
            refund.order_id,
            event.trigger_key,
            refund.amount,
            refund.order_counts,
            refund.refunded_at.date(),
        )
        if not taken:
            return
        moves = [(t.state, snap.states[t.state.journey].version, False) for t in taken]
        self.store.convert(moves, [tally for t in taken for tally in t.tallies], None, refund.refunded_at)
        outcome.counts["refunds"] += len(taken)

    # ------------------------------------------------------------------ entering
    def _enter(self, name: str, journey: Journey, event: JourneyEvent, now: datetime, outcome: Outcome) -> None:
        code = str(event.detail.payload.get("code", "")) or None if _coupon_timer(event) else None
        snap = self.store.snapshot(event.customer_id, [name], code)
        stored = snap.states[name]
        coupon = snap.coupons.get(code) if code else None
        if isinstance(event, NpsAnsweredEvent) and not decide.score_is_latest(snap.contact, event.detail.message_id):
            outcome.note("stale_score", name)
            return
        entry = decide.decide_entry(
            name,
            journey,
            stored,
            snap.profile,
            coupon,
            event.trigger_key,
            event.labels,
            now,
            self.definitions,
            self.policy,
            snap.contact.nps,
        )
        match entry:
            case decide.Ignore(why=why):
                outcome.note(why, name)
            case decide.HoldOut(state=state):
                self.store.move(state, stored.version, None, [Tally(name, now.date(), {"holdout": 1})], now)
                outcome.counts["holdout"] += 1
            case decide.Enter(state=state, first_due=first_due):
                entered = Tally(name, now.date(), {"entered": 1})
                outcome.counts["entered"] += 1
                if first_due > now:
                    self.store.move(state, stored.version, decide.step_timer(state, 0, first_due), [entered], now)
                else:
                    self._step(journey, state, stored, snap, now, outcome, [entered])

    # ------------------------------------------------------------------ steps
    def _step_due(self, event: TimerFiredEvent, now: datetime, outcome: Outcome) -> None:
        name = event.detail.kind.split(":", 1)[1] if ":" in event.detail.kind else ""
        journey = self.definitions.journeys.get(name)
        if journey is None:
            log.warning("timer for a journey no longer defined", extra={"journey": name[:40]})
            outcome.note("unknown_journey", name or "-")
            return
        snap = self.store.snapshot(event.customer_id, [name])
        state, payload = snap.states[name], event.detail.payload
        current = state.status is JourneyStatus.ACTIVE and state.cycle == _number(payload, "cycle")
        checking = state.branch_check is not None
        if not current or state.next_step != _number(payload, "step") or checking != ("check" in payload):
            outcome.note("stale_timer", name)
            return
        if checking:
            self._branch(journey, state, snap, now, outcome)
            return
        self._step(journey, state, state, snap, now, outcome, [])

    def _branch(self, journey: Journey, state: JourneyState, snap: Snapshot, now: datetime, outcome: Outcome) -> None:
        """A branch check: the customer's reaction picks the next step, decided at once when it is due."""
        taken = decide.branch_taken(journey, state, snap.profile, snap.contact, now)
        moved, timer = decide.after_branch(journey, state, taken, now)
        branching = journey.steps[state.branch_check.step]  # type: ignore[union-attr]
        variant = step_template(state.customer_id, state.journey, branching)[1]  # the A/B side they saw
        tallies = [Tally(state.journey, now.date(), taken.counts, branching.id, variant)]
        outcome.counts.update(taken.counts)
        if timer is None or timer.due_at > now:
            self.store.move(moved, state.version, timer, tallies, now, disarm=timer is None)
        else:
            self._step(journey, moved, state, snap, now, outcome, tallies)

    def _step(
        self,
        journey: Journey,
        state: JourneyState,
        stored: JourneyState,
        snap: Snapshot,
        now: datetime,
        outcome: Outcome,
        tallies: list[Tally],
    ) -> None:
        """Decide the step ``state`` is at and commit it; ``stored`` is the state as read (its
        version guards the write), ``tallies`` ride along (an entry counted with its first step)."""
        mail = self.mailer
        window, limit = mail.catalog.settings.stream_window, mail.settings.promotion_share_limit
        decision = decide.decide_step(
            journey, state, snap.profile, snap.contact, now, self.definitions, self.kinds, window, limit, self.policy
        )
        day, name = now.date(), state.journey
        if isinstance(decision, decide.Defer):
            moved = decide.deferred(state, decision.until)
            if moved is not None:
                self.store.move(
                    moved[0], stored.version, moved[1], [*tallies, Tally(name, day, {decision.cause: 1})], now
                )
                outcome.counts[decision.cause] += 1
                return
            decision = decide.Exit("deferred_too_often", {"exited_deferred_too_often": 1})
        match decision:
            case decide.Exit(reason=reason, counts=counts, sunset=sunset):
                exited, counted = decide.exited(state, reason, now), [*tallies, Tally(name, day, counts)]
                if sunset:
                    self.store.sunset(exited, stored.version, counted, now)
                else:
                    self.store.move(exited, stored.version, None, counted, now, disarm=True)
                outcome.counts.update(counts)
            case decide.SkipStep(reason=reason):
                moved, timer = decide.advanced(journey, state, now)
                skipped = [*tallies, Tally(name, day, {reason: 1})]
                self.store.move(moved, stored.version, timer, skipped, now, disarm=timer is None)
                outcome.counts[reason] += 1
            case decide.Send():
                send_step(
                    self.store, self.mailer, self.publish, journey, state, stored, snap, decision, now, outcome, tallies
                )

    def _defined(self, state: JourneyState) -> bool:
        return state.journey in self.definitions.journeys


def _coupon_timer(event: JourneyEvent) -> bool:
    return isinstance(event, TimerFiredEvent) and event.timer_family == COUPON_TIMER


def _number(payload: dict[str, object], name: str) -> int | None:
    """Timer payload numbers come back from DynamoDB as Decimal and from JSON as text."""
    try:
        return int(str(payload.get(name)))
    except ValueError:
        return None
