"""Loading ``templates/journeys.yaml`` and validating it against the rest of ``templates/``.

The file is validated on its own (shape, models/journeys.py) and against the other files
(every template exists in emails.yaml, a coupon step for a template that needs one, segments
that segments.yaml defines), so a marketer's typo fails ``retention journeys lint`` and the
deployment, never a send.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from retention.config_files import CatalogError, load_yaml
from retention.mail import catalog as email_files
from retention.models.journeys import JourneyFile, Step
from retention.nps import NPS_GROUPS
from retention.paths import templates_dir
from retention.segments import load_definitions


class JourneyError(ValueError):
    """journeys.yaml is invalid; the message names the journey, the step and the problem."""


def validate(definitions: JourneyFile, root: Path) -> None:
    """Cross-file checks; raises :class:`JourneyError` listing every problem."""
    problems: list[str] = []
    catalog = email_files.catalog(root)
    segments = load_definitions(root / "segments.yaml")
    known_segments = {rule.name for rule in segments.lifecycle} | {rule.name for rule in segments.tags}
    for name, journey in definitions.journeys.items():
        scored = {trigger.nps_group for trigger in journey.triggers if trigger.nps_group}
        for segment in journey.entry.segments:  # an NpsAnswered names its group, which entry may list
            if segment not in known_segments and segment not in scored:
                hint = " (an NPS group: add an NpsAnswered trigger for it)" if segment in NPS_GROUPS else ""
                problems.append(f"{name}: segment {segment!r} is not defined in segments.yaml{hint}")
        for segment in (trigger.into_segment for trigger in journey.triggers if trigger.into_segment):
            if segment not in known_segments:
                problems.append(f"{name}: segment {segment!r} is not defined in segments.yaml")
        if journey.entry.segments:  # the event's group replaces the profile's segments at entry
            for group in sorted(scored - set(journey.entry.segments)):
                problems.append(
                    f"{name}: the NpsAnswered trigger for {group!r} can never enter: add {group} to entry.segments"
                )
        for step in journey.steps:
            for template in step.templates:
                entry = catalog.templates.get(template)
                if entry is None:
                    problems.append(f"{name}.{step.id}: template {template!r} is not listed in emails.yaml")
                elif "coupon" in entry.requires and step.coupon is None and journey.trigger.timer != "coupon_expiry":
                    problems.append(f"{name}.{step.id}: template {template!r} shows a coupon; add coupon: to the step")
            problems += _answer_problems(name, step, catalog)
    for template in definitions.frequency.review_templates:
        if template not in catalog.templates:
            problems.append(f"frequency: template {template!r} is not listed in emails.yaml")
    if problems:
        raise JourneyError("journeys.yaml: " + "; ".join(problems))


def _answer_problems(journey: str, step: Step, catalog: email_files.Catalog) -> list[str]:
    """A branch on an answer the step's email does not offer would never be taken: every
    template of the step (each A/B variant) must have it among its ``answers``."""
    problems = []
    for branch in step.branches:
        answer = branch.when.answered
        if answer is None:
            continue
        for template in step.templates:
            entry = catalog.templates.get(template)
            offered = list(entry.answers) if entry is not None else []
            if entry is not None and answer not in offered:
                known = ", ".join(offered) or "none: it asks no question"
                problems.append(f"{journey}.{step.id}: answer {answer!r} is not an answer of {template} ({known})")
    return problems


def parse_journeys(root: Path | None = None) -> JourneyFile:
    root = root or templates_dir()
    try:
        definitions = load_yaml(root / "journeys.yaml", JourneyFile)
    except CatalogError as error:
        raise JourneyError(str(error)) from error
    validate(definitions, root)
    return definitions


def load_journeys(root: Path | None = None) -> JourneyFile:
    """The journey definitions, validated once per container and templates version."""
    return _journeys_in(root or templates_dir())


@lru_cache(maxsize=4)
def _journeys_in(root: Path) -> JourneyFile:
    return parse_journeys(root)
