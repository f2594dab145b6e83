"""Journeys: which customer gets which sequence, decided by pure functions over the definitions.

``templates/journeys.yaml`` is validated on its own (shape) and against the rest of
``templates/`` (every template exists in emails.yaml, a coupon step for a template that needs
one, segments that segments.yaml defines), so a marketer's typo fails ``retention journeys lint``
and the deployment, never a send. Hold-out and A/B assignment hash the customer id with the
journey (and step): deterministic across retries and containers, independent between journeys.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from retention.mail import catalog as email_files
from retention.mail.catalog import CatalogError, load_yaml
from retention.models.journeys import Journey, JourneyFile, Step, Trigger, Variant
from retention.models.profile import CustomerProfile
from retention.paths import templates_dir
from retention.segments import load_definitions


class JourneyError(ValueError):
    """journeys.yaml is invalid; the message names the journey, the step and the problem."""


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
    """Whether an engine event starts this journey. ``qualifier`` is the timer family for
    TimerFired; ``labels`` the segment and tags a SegmentChanged moved the customer into."""
    trigger = journey.trigger
    if trigger.event.value != detail_type:
        return False
    if trigger.event is Trigger.TIMER_FIRED:
        return qualifier == trigger.timer
    if trigger.event is Trigger.SEGMENT_CHANGED:
        return trigger.into_segment in (labels or set())
    return True


def matches_entry(journey: Journey, profile: CustomerProfile, labels: set[str] | None = None) -> bool:
    """The entry filter against the profile; ``labels`` (segment and tags named by the triggering
    event) win over the profile's, which may not show the event's change yet."""
    entry = journey.entry
    if entry.requires_consent and not profile.marketing_consent:
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


def validate(definitions: JourneyFile, root: Path) -> None:
    """Cross-file checks; raises :class:`JourneyError` listing every problem."""
    problems: list[str] = []
    catalog = email_files.catalog(root)
    segments = load_definitions(root / "segments.yaml")
    known_segments = {rule.name for rule in segments.lifecycle} | {rule.name for rule in segments.tags}
    for name, journey in definitions.journeys.items():
        for segment in [
            *journey.entry.segments,
            *([journey.trigger.into_segment] if journey.trigger.into_segment else []),
        ]:
            if segment not in known_segments:
                problems.append(f"{name}: segment {segment!r} is not defined in segments.yaml")
        for step in journey.steps:
            for template in step.templates:
                entry = catalog.templates.get(template)
                if entry is None:
                    problems.append(f"{name}.{step.id}: template {template!r} is not listed in emails.yaml")
                elif "coupon" in entry.requires and step.coupon is None and journey.trigger.timer != "coupon_expiry":
                    problems.append(f"{name}.{step.id}: template {template!r} shows a coupon; add coupon: to the step")
    if problems:
        raise JourneyError("journeys.yaml: " + "; ".join(problems))


def parse_journeys(root: Path | None = None) -> JourneyFile:
    root = root or templates_dir()
    try:
        definitions = load_yaml(root / "journeys.yaml", JourneyFile)
    except CatalogError as error:
        raise JourneyError(str(error)) from error
    validate(definitions, root)
    return definitions


@cache
def load_journeys() -> JourneyFile:
    """The journey definitions, validated once per container."""
    return parse_journeys()
