"""Sending one email a decision chose: compose, claim, SES, and undo the claim if SES refuses.

Kept apart from the dispatcher because it is the one part that talks to the mail stack and SES:
the dispatcher decides, this carries out a :class:`~retention.journeys.decisions.Send`. The order
is what makes an email go out at most once: the claim transaction (send record, the contact's
recent sends, the journey moved past the step, the next timer, the counters, a coupon) commits
before SES is called; if SES refuses, :meth:`JourneyStore.release_send` undoes it, so the
event's retry decides and sends again; a container that dies between the two leaves the claim,
and the email is never sent twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from retention import published
from retention.journeys import decisions as decide
from retention.mail.catalog import Catalog
from retention.mail.compose import OutgoingEmail, compose
from retention.mail.placeholders import refuse_placeholders
from retention.mail.render import Renderer
from retention.mail.ses import RecipientRefused, SendFailed, SesSender
from retention.mail.settings import MailSettings
from retention.mail.signing import KeyRing
from retention.models.consent import Purpose
from retention.models.emails import CouponOffer, TemplateKind
from retention.models.engine_events import EngineEvent, coupon_issued
from retention.models.journeys import Journey
from retention.models.messaging import JourneyState, SendRecord, SentEntry, Snapshot, Suppression, Tally
from retention.store.errors import AlreadyApplied, ConcurrentUpdate
from retention.store.journeys import JourneyStore

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Sent:
    message_id: str
    customer_id: str
    journey: str
    step: str
    template: str
    variant: str


@dataclass
class Outcome:
    """What handling one event did, for metrics and logs (the stored counters were written with
    each change, in its transaction)."""

    counts: Counter[str] = field(default_factory=Counter)
    sent: list[Sent] = field(default_factory=list)

    def note(self, what: str, journey: str) -> None:
        self.counts[what] += 1
        self.counts[f"{what}:{journey}"] += 1


class AddressSuppressed(ConcurrentUpdate):
    """The address was suppressed (SES refused it) after the snapshot was read: like any change
    under a decision, the attempt is run again from a fresh read, which then sees the suppression."""


def send_record(
    state: JourneyState, send: decide.Send, email: OutgoingEmail, offer: CouponOffer | None, now: datetime
) -> SendRecord:
    """The record the claim creates: what the tracking API and the reports read about the email."""
    return SendRecord(
        message_id=send.message_id,
        customer_id=send.profile.customer_id,
        journey=state.journey,
        step=send.step.id,
        cycle=state.cycle,
        template=send.template,
        variant=send.variant,
        kind=send.kind,
        language=email.language,
        promotion_share=email.promotion_share,
        urls=list(email.urls),
        coupon_code=offer.code if offer else None,
        claimed_at=now,
        sent_at=now,
        templates_version=published.version(),
    )


def send_step(
    store: JourneyStore,
    mail: Mailer,
    publish: Callable[[list[EngineEvent]], object],
    journey: Journey,
    state: JourneyState,
    stored: JourneyState,
    snap: Snapshot,
    send: decide.Send,
    now: datetime,
    outcome: Outcome,
    tallies: list[Tally],
) -> None:
    """Compose, claim (one transaction), send; ``stored`` is the state as read (its version
    guards the claim), ``tallies`` ride along (an entry counted with its first email)."""
    refuse_placeholders(mail.settings)  # before anything is claimed: a placeholder sender sends nothing
    profile, contact, name, step = send.profile, snap.contact, state.journey, send.step
    offer = decide.offer_for(state, step, now)
    email = compose(
        mail.renderer,
        send.template,
        profile,
        message_id=send.message_id,
        ring=mail.ring,
        settings=mail.settings,
        now=now,
        coupon=offer,
    )
    record = send_record(state, send, email, offer, now)
    entry = SentEntry(
        message_id=send.message_id, at=now, kind=send.kind, counts_for_cap=step.purpose is not Purpose.SERVICE
    )
    moved, next_timer = decide.advanced(journey, state, now, sent=True)
    promotion = {"sent_promotion": 1} if send.kind is TemplateKind.PROMOTION else {}
    counted = [*tallies, Tally(name, now.date(), {"sent": 1, **promotion}, step.id, send.variant)]
    issued = offer is not None and state.coupon is None and step.coupon is not None
    coupon, reminder = decide.issued_coupon(state, step.coupon, record, offer) if issued else (None, None)  # type: ignore[arg-type]
    if issued:  # the cycle carries its coupon: later steps show the same code, a branch can ask for it
        moved = moved.model_copy(update={"coupon": offer})
    sends = contact.with_send(entry, now)
    try:
        review = now if send.asks_review else None
        store.claim_send(
            record,
            contact,
            sends,
            moved,
            stored.version,
            next_timer,
            counted,
            coupon,
            reminder,
            review_requested=review,
        )
    except AlreadyApplied:
        log.error("send record exists for an email not yet moved past", extra={"message_id": send.message_id})
        outcome.note("already_sent", name)
        return
    tags = {"journey": name, "step": step.id, "variant": send.variant, "message": send.message_id}
    try:
        mail.sender.send(email, tags)
    except RecipientRefused as refused:
        store.release_send(record, stored, counted, coupon, reminder)
        store.suppress(profile.customer_id, Suppression.UNDELIVERABLE, now, detail=f"SES {refused.code}")
        refusal = {"customer_id": profile.customer_id, "code": refused.code}
        log.warning("SES refused the address: suppressed", extra=refusal)
        outcome.note("ses_refused_address", name)
        raise AddressSuppressed(refused.code) from refused
    except SendFailed:
        store.release_send(record, stored, counted, coupon, reminder)
        raise
    if coupon is not None:
        publish([coupon_issued(coupon, now)])
    outcome.counts.update({"sent": 1, f"sent_{send.kind}": 1})
    outcome.sent.append(Sent(send.message_id, profile.customer_id, name, step.id, send.template, send.variant))
