"""Journey rules as pure functions: who is triggered, who enters, who is held out, what they get.

Hold-out and A/B assignment hash the customer id with the journey (and step): deterministic
across retries and containers, independent between journeys. A message id is a hash of
(customer, journey, cycle, step): the same on every retry, so the send record it names is the
exactly-once guarantee.
"""

from __future__ import annotations

import hashlib
import secrets

from retention.models.consent import ConsentPolicy, Purpose, marketing_refusal
from retention.models.journeys import Journey, Step, Trigger, TriggerSpec, Variant
from retention.models.messaging import NpsAnswer
from retention.models.profile import CustomerProfile

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
TRIGGER_EVENTS = {
    Trigger.CUSTOMER_INACTIVE: "CustomerInactive",
    Trigger.ORDER_PLACED: "OrderApplied",  # the engine announces an order once it has applied it
    Trigger.SEGMENT_CHANGED: "SegmentChanged",
    Trigger.TIMER_FIRED: "TimerFired",
    Trigger.CUSTOMER_REGISTERED: "CustomerRegistered",
    Trigger.NPS_ANSWERED: "NpsAnswered",
}
"""The engine event each trigger of journeys.yaml listens to."""


def _unit_interval(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_holdout(customer_id: str, journey: str, share: float) -> bool:
    """Whether this customer is in the journey's control group (gets nothing, is still measured)."""
    return _unit_interval("holdout", journey, customer_id) < share


def choose_variant(customer_id: str, journey: str, step: Step) -> Variant | None:
    """The A/B variant this customer sees at this step (None when the step has a single template)."""
    if not step.variants:
        return None
    total = sum(variant.weight for variant in step.variants)
    point = _unit_interval("variant", journey, step.id, customer_id) * total
    for variant in step.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return step.variants[-1]


def step_template(customer_id: str, journey: str, step: Step) -> tuple[str, str]:
    """(template, variant name) for this customer at this step; the variant is ``-`` without a split."""
    variant = choose_variant(customer_id, journey, step)
    return (variant.template, variant.name) if variant else (step.template or "", "-")


def message_id_for(customer_id: str, journey: str, cycle: int, step: str) -> str:
    """The id of the one email of (customer, journey, cycle, step): the same on every retry."""
    return hashlib.sha256("\x1f".join(("message", customer_id, journey, str(cycle), step)).encode()).hexdigest()[:32]


def triggered_by(journey: Journey, detail_type: str, qualifier: str | None, labels: set[str] | None) -> bool:
    """Whether an engine event starts this journey (its ``trigger`` or one of ``also_on``).
    ``qualifier`` is the timer family for TimerFired; ``labels`` the segment and tags a
    SegmentChanged moved the customer into, or the NPS group of an NpsAnswered."""
    return any(_fires(trigger, detail_type, qualifier, labels) for trigger in journey.triggers)


def _fires(trigger: TriggerSpec, detail_type: str, qualifier: str | None, labels: set[str] | None) -> bool:
    if TRIGGER_EVENTS[trigger.event] != detail_type:
        return False
    if trigger.event is Trigger.TIMER_FIRED:
        return qualifier == trigger.timer
    if trigger.event is Trigger.SEGMENT_CHANGED:
        return trigger.into_segment in (labels or set())
    if trigger.event is Trigger.NPS_ANSWERED:
        return trigger.nps_group in (labels or set())
    return True


def matches_entry(
    journey: Journey,
    profile: CustomerProfile,
    labels: set[str] | None = None,
    policy: ConsentPolicy = ConsentPolicy.EXPLICIT,
    score: NpsAnswer | None = None,
) -> bool:
    """The entry filter against the profile; ``labels`` (segment and tags named by the triggering
    event) win over the profile's, which may not show the event's change yet. A journey with a
    service step is entered without marketing consent: its marketing steps are skipped instead.
    ``score`` is the customer's latest NPS score (``exclude_nps``: a detractor is not asked to refer)."""
    entry = journey.entry
    if entry.min_orders is not None and profile.order_count < entry.min_orders:
        return False
    if score is not None and score.group in entry.exclude_nps:
        return False
    only_marketing = all(step.purpose is Purpose.MARKETING for step in journey.steps)
    if entry.requires_consent and only_marketing and consent_refusal(profile, policy) is not None:
        return False
    if entry.locales:
        language = (profile.locale or "").replace("-", "_").split("_")[0]
        if language not in entry.locales:
            return False
    if entry.segments:
        segment = profile.segment
        if labels is None:
            labels = {segment.lifecycle, *segment.tags} if segment else {"prospect"}
        if not labels & set(entry.segments):
            return False
    return True


def consent_refusal(profile: CustomerProfile, policy: ConsentPolicy) -> str | None:
    """Why marketing email must not go to this customer (None: it may), under ``policy``."""
    return marketing_refusal(profile.consent, policy, has_ordered=profile.order_count > 0)


def new_coupon_code() -> str:
    """``XXXXX-XXXXX`` from 30 unambiguous characters (49 bits): unique in practice, unguessable."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"
