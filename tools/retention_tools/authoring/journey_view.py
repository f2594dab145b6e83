"""What a journey does, drawn for a marketer: ``retention journeys show NAME`` and the gallery's Journeys page.

One reading of ``templates/journeys.yaml`` (through the engine's own loader, so what is drawn is
what runs) becomes a :class:`JourneyPicture`: the trigger and who may enter, each step's day and
gap, its template or A/B split with each variant's share, the languages each template is written
in (``emails/<name>.<lang>.html``), its branches (what the customer did → which step), the
hold-out share and the exits. The picture is printed as
text or drawn as inline SVG (no JavaScript, no CDN: the page works offline), every step linking
to its email in the gallery.
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from pathlib import Path

from retention.mail import catalog as files
from retention.models.journeys import Journey, JourneyFile, TriggerSpec
from retention.paths import templates_dir


@dataclass(frozen=True)
class TemplateUse:
    """One template a step sends: its A/B variant (``""`` without a split), share of the step's
    customers, the languages it is written in and a sample customer for its preview."""

    template: str
    variant: str
    share: float
    languages: tuple[str, ...]
    sample: str | None
    samples_by_language: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BranchPicture:
    """One branch of a step: the reaction in words, the step it leads to (``end``) and when."""

    reaction: str
    target: str
    after_days: float


@dataclass(frozen=True)
class StepPicture:
    id: str
    day: float
    gap: float
    uses: tuple[TemplateUse, ...]
    coupon: str
    purpose: str
    branches: tuple[BranchPicture, ...] = ()
    check_after_days: float | None = None
    then: str = ""
    """The step that follows when no branch says otherwise (``end`` after the last)."""
    by_branch_only: bool = False
    """Reached only through a branch (its day is the branch's, not ``delay_days``)."""


@dataclass(frozen=True)
class JourneyPicture:
    name: str
    description: str
    trigger: str
    entry: str
    holdout_share: float
    steps: tuple[StepPicture, ...]
    exits: tuple[str, ...]
    reentry_days: int


def _language(locale: str | None, default: str) -> str:
    return (locale or default).replace("-", "_").split("_")[0].lower()


def template_languages(template: str, root: Path) -> tuple[str, ...]:
    """The languages ``template`` is written in: the default for ``emails/<name>.html``, then one per
    ``emails/<name>.<lang>.html`` file."""
    default = _language(None, files.catalog(root).settings.default_locale)
    found = [default] if (root / "emails" / f"{template}.html").exists() else []
    for path in sorted((root / "emails").glob(f"{template}.*.html")):
        language = path.name[len(template) + 1 : -len(".html")]
        if "." not in language and language not in found:
            found.append(language)
    return tuple(found)


def _trigger(journey: Journey) -> str:
    """``SegmentChanged into loyal or NpsAnswered (promoter)``: every trigger of the journey."""
    return " or ".join(trigger_text(spec) for spec in journey.triggers)


def trigger_text(spec: TriggerSpec) -> str:
    """One trigger as a marketer reads it: ``SegmentChanged into loyal``, ``TimerFired (birthday)``."""
    if spec.into_segment:
        return f"{spec.event.value} into {spec.into_segment}"
    detail = spec.timer or spec.nps_group
    return f"{spec.event.value} ({detail})" if detail else spec.event.value


def _entry(journey: Journey) -> str:
    entry = journey.entry
    parts = [f"segments {', '.join(entry.segments)}" if entry.segments else "everyone"]
    if entry.locales:
        parts.append(f"languages {', '.join(entry.locales)}")
    if entry.min_orders:
        parts.append(f"at least {entry.min_orders} orders")
    if entry.exclude_nps:
        parts.append(f"not NPS {', '.join(f'{group}s' for group in entry.exclude_nps)}")
    parts.append("with marketing consent" if entry.requires_consent else "consent not required")
    return "; ".join(parts)


def picture(name: str, definitions: JourneyFile, root: Path | None = None) -> JourneyPicture:
    """Everything the diagram and the text show about journey ``name``."""
    root = root or templates_dir()
    journey = definitions.journeys[name]
    samples = files.samples(root).customers
    default = files.catalog(root).settings.default_locale
    wanted = set(journey.entry.segments) | {spec.into_segment for spec in journey.triggers if spec.into_segment}
    fitting = [s for s in samples if not wanted or s.lifecycle in wanted or wanted & set(s.tags)] or list(samples)
    steps, previous = [], 0.0
    plain = _plainly_reached(journey)
    for index, step in enumerate(journey.steps):
        total = sum(v.weight for v in step.variants)
        pairs = [(v.template, v.name, v.weight / total) for v in step.variants] or [(step.template or "", "", 1.0)]
        uses = []
        for template, variant, share in pairs:
            languages = template_languages(template, root)
            by_language = []
            for language in languages:
                match = next((s for s in fitting if _language(s.locale, default) == language), None)
                match = match or next((s for s in samples if _language(s.locale, default) == language), None)
                if match is not None:
                    by_language.append((language, match.customer_id))
            first = by_language[0][1] if by_language else (fitting[0].customer_id if fitting else None)
            uses.append(TemplateUse(template, variant, share, languages, first, tuple(by_language)))
        coupon = f"coupon {step.coupon.percent_off} % for {step.coupon.valid_days} days" if step.coupon else ""
        purpose = str(getattr(step, "purpose", "") or "")
        following = journey.following(index)
        steps.append(
            StepPicture(
                step.id,
                step.delay_days,
                step.delay_days - previous,
                tuple(uses),
                coupon,
                purpose,
                tuple(BranchPicture(b.when.describe(), b.go_to, b.after_days) for b in step.branches),
                step.check_after_days,
                journey.steps[following].id if following < len(journey.steps) else "end",
                index not in plain,
            )
        )
        if index in plain:
            previous = step.delay_days
    holdout = journey.holdout_share if journey.holdout_share is not None else definitions.frequency.holdout_share
    return JourneyPicture(
        name=name,
        description=journey.description,
        trigger=_trigger(journey),
        entry=_entry(journey),
        holdout_share=holdout,
        steps=tuple(steps),
        exits=tuple(condition.value for condition in journey.exit_on),
        reentry_days=journey.reentry_days,
    )


def _plainly_reached(journey: Journey) -> set[int]:
    """The steps on some path without a branch: their day is their ``delay_days`` from entry."""
    reached, index = set(), 0
    while index < len(journey.steps) and index not in reached:
        reached.add(index)
        index = journey.following(index)
    return reached


def _jump_lines(shown: JourneyPicture, index: int) -> list[str]:
    """What comes after step ``index`` in words, when it is not simply the next one listed."""
    step = shown.steps[index]
    listed = shown.steps[index + 1].id if index + 1 < len(shown.steps) else "end"
    if not step.branches:
        return [] if step.then == listed else [f"then → {step.then}"]
    return branch_lines(step)


def _last_steps(shown: JourneyPicture) -> list[str]:
    ends = [step.id for step in shown.steps if step.then == "end" or any(b.target == "end" for b in step.branches)]
    return ends or [shown.steps[-1].id]


def branch_lines(step: StepPicture) -> list[str]:
    """A step's branches in words: ``answered price → incentive (at once)``…, then the plain way."""
    lines = [f"after {_days(step.check_after_days or 0)}, the first that matches:"]
    for branch in step.branches:
        when = "at once" if not branch.after_days else f"{_days(branch.after_days)} later"
        lines.append(f"  {branch.reaction} → {branch.target} ({when})")
    lines.append(f"  otherwise → {step.then}" + ("" if step.then == "end" else " (at its day)"))
    return lines


def _days(value: float) -> str:
    return f"{value:g} d"


def _share(value: float) -> str:
    return f"{value * 100:.0f} %"


def as_text(shown: JourneyPicture) -> str:
    """The journey as ``retention journeys show`` prints it."""
    lines = [
        f"{shown.name}: {shown.description}",
        f"  trigger   {shown.trigger}",
        f"  entry     {shown.entry}",
        f"  hold-out  {_share(shown.holdout_share)} of entrants get nothing (the control group for lift)",
    ]
    for number, step in enumerate(shown.steps, 1):
        when = f"day {step.day:g}" + (f" (+{_days(step.gap)} after the previous step)" if number > 1 else "")
        if step.by_branch_only:
            when = "only through a branch (due when the branch says)"
        lines.append(f"  {number}. {step.id:<14}{when}")
        if step.purpose:
            lines.append(f"       purpose: {step.purpose}")
        for use in step.uses:
            split = f"variant {use.variant} {_share(use.share)}: " if use.variant else ""
            languages = ", ".join(use.languages) or "NO TEMPLATE FILE"
            lines.append(f"       {split}{use.template} [{languages}]")
        if step.coupon:
            lines.append(f"       {step.coupon}")
        lines += [f"       {line}" for line in _jump_lines(shown, number - 1)]
    exits = ", ".join(shown.exits) or "none"
    lines.append(f"  exits     on {exits}; otherwise ends after {', '.join(_last_steps(shown))}")
    lines.append(f"  re-entry  after {shown.reentry_days} days")
    return "\n".join(lines)


def show_command(name: str, root: Path | None = None) -> int:
    """``retention journeys show NAME``: 0, or 2 for an unknown name, 1 for an invalid journeys.yaml."""
    from retention.journeys.definitions import JourneyError, parse_journeys
    from retention_tools.authoring.findings import did_you_mean

    try:
        definitions = parse_journeys(root)
    except JourneyError as error:
        print(f"{error}\n(run `retention journeys lint` for every problem with its line)", file=sys.stderr)
        return 1
    if name not in definitions.journeys:
        known = ", ".join(definitions.journeys)
        guess = did_you_mean(name, definitions.journeys)
        print(f"no journey {name!r} in journeys.yaml{guess} (known: {known})", file=sys.stderr)
        return 2
    print(as_text(picture(name, definitions, root)))
    return 0


_BOX_W, _GAP, _LINE = 224, 64, 16
_FONT = "font-family:system-ui,sans-serif;font-size:12px"


def _text(x: float, y: float, value: str, css: str = "", anchor: str = "start") -> str:
    style = f' style="{css}"' if css else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{style}>{html.escape(value)}</text>'


def _box(x: float, y: float, height: float, fill: str, stroke: str) -> str:
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{_BOX_W}" height="{height:g}" rx="8" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
    )


def _arrow(x1: float, x2: float, y: float, label: str, below: str = "") -> str:
    middle = (x1 + x2) / 2
    return (
        f'<line x1="{x1:g}" y1="{y:g}" x2="{x2 - 6:g}" y2="{y:g}" stroke="#555" stroke-width="1.5" '
        f'marker-end="url(#arrow)"/>'
        + _text(middle, y - 6, label, "font-size:11px;fill:#555", "middle")
        + (_text(middle, y + 14, below, "font-size:11px;fill:#555", "middle") if below else "")
    )


def _step_lines(step: StepPicture) -> int:
    return 1 + 2 * len(step.uses) + (1 if step.coupon else 0) + (1 if step.purpose else 0) + (2 if step.branches else 0)


_LANE = 22


def _arcs(shown: JourneyPicture) -> list[tuple[int, int, str]]:
    """(from step, to step — ``len(steps)`` for the exits box —, label) for every branch and every
    ``then`` that skips the next step listed: drawn as lanes under the boxes."""
    index = {step.id: number for number, step in enumerate(shown.steps)}
    end = len(shown.steps)
    arcs = []
    for number, step in enumerate(shown.steps):
        for branch in step.branches:
            later = f", +{_days(branch.after_days)}" if branch.after_days else ""
            arcs.append((number, index.get(branch.target, end), f"{branch.reaction}{later}"))
        target = index.get(step.then, end)
        if not step.branches and target != number + 1 and not (target == end and number == end - 1):
            arcs.append((number, target, f"then {step.then}"))
    return arcs


def as_svg(shown: JourneyPicture, preview_href: str = "/view/{template}/{customer}") -> str:
    """The journey as one inline SVG: trigger → steps (day, gap, variants, languages) → exits,
    with every branch drawn as a lane under the boxes from its step to the step it leads to.

    Each template line is a link to its preview (``preview_href`` with ``template`` and ``customer``)."""
    lines = max(6, len(shown.exits) + 3, *(_step_lines(step) for step in shown.steps))
    height = lines * _LINE + 34.0
    arcs = _arcs(shown)
    total = height + 20 + (len(arcs) * _LANE + 10 if arcs else 0)
    mid = 14 + 40.0
    width = 2 * _BOX_W + len(shown.steps) * (_BOX_W + _GAP) + _GAP + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="journey" data-journey="{html.escape(shown.name)}" '
        f'width="{width:g}" height="{total:g}" viewBox="0 0 {width:g} {total:g}" role="img" '
        f'aria-label="journey {html.escape(shown.name)}" style="{_FONT}">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="6" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>',
        _box(10, 14, height - 10, "#f4f1ec", "#7a4b2a"),
        _text(20, 34, "trigger", "font-weight:700"),
        *(_text(20, 34 + _LINE * (1 + n), line) for n, line in enumerate(_trigger_lines(shown))),
        _text(20, 34 + _LINE * 5, f"hold-out {_share(shown.holdout_share)} get nothing", "fill:#7a4b2a"),
    ]
    x = 10 + _BOX_W
    for number, step in enumerate(shown.steps, 1):
        gap = f"day {step.day:g}" if number == 1 else f"+{_days(step.gap)}"
        if step.by_branch_only:
            parts.append(_text(x + _GAP / 2, mid - 6, "only by", "font-size:11px;fill:#999", "middle"))
            parts.append(_text(x + _GAP / 2, mid + 14, "a branch", "font-size:11px;fill:#999", "middle"))
        else:
            parts.append(_arrow(x, x + _GAP, mid, gap, "" if number == 1 else f"day {step.day:g}"))
        x += _GAP
        parts.append(f'<g class="step" data-step="{html.escape(step.id)}">')
        parts.append(_box(x, 14, height - 10, "#ffffff", "#2a6f7a"))
        y = 34.0
        parts.append(_text(x + 10, y, f"{number}. {step.id}", "font-weight:700"))
        if step.purpose:
            y += _LINE
            parts.append(_text(x + 10, y, step.purpose[:32], "fill:#555;font-style:italic"))
        for use in step.uses:
            y += _LINE
            split = f"{use.variant} {_share(use.share)}: " if use.variant else ""
            name = f"{split}{use.template}"
            if use.sample:
                href = html.escape(preview_href.format(template=use.template, customer=use.sample))
                link = _text(x + 10, y, name, "fill:#2a6f7a;text-decoration:underline")
                parts.append(f'<a class="preview" href="{href}">{link}</a>')
            else:
                parts.append(_text(x + 10, y, name))
            y += _LINE
            parts.append(_languages_line(x + 18, y, use, preview_href))
        if step.coupon:
            y += _LINE
            parts.append(_text(x + 10, y, step.coupon, "fill:#7a4b2a"))
        if step.branches:
            y += _LINE
            check = f"after {_days(step.check_after_days or 0)}: branches below"
            parts.append(_text(x + 10, y, check, "fill:#2a6f7a;font-weight:700"))
            y += _LINE
            parts.append(_text(x + 10, y, f"otherwise → {step.then}"[:34], "fill:#2a6f7a"))
        parts.append("</g>")
        x += _BOX_W
    last = shown.steps[-1]
    if not last.by_branch_only or last.then == "end":
        parts.append(_arrow(x, x + _GAP, mid, "then"))
    x += _GAP
    parts.append(_box(x, 14, height - 10, "#fff4e5", "#e67e22"))
    parts.append(_text(x + 10, 34, "exits", "font-weight:700"))
    exits = [f"on {condition}" for condition in shown.exits] + [f"after {', '.join(_last_steps(shown))}: end"]
    parts += [_text(x + 10, 34 + _LINE * (n + 1), line[:34]) for n, line in enumerate(exits)]
    parts.append(_text(x + 10, 34 + _LINE * (len(exits) + 1), f"re-entry after {shown.reentry_days} d", "fill:#555"))
    parts += [_lane(lane, arc, height + 4) for lane, arc in enumerate(arcs)]
    parts.append("</svg>")
    return "".join(parts)


def _box_centre(index: int) -> float:
    return 10 + _BOX_W + _GAP + index * (_BOX_W + _GAP) + _BOX_W / 2


def _lane(lane: int, arc: tuple[int, int, str], bottom: float) -> str:
    """One branch: down from its step's box, along lane ``lane``, up into the target's box."""
    start, target, label = arc
    y = bottom + 14 + lane * _LANE
    x1, x2 = _box_centre(start) - 40 + lane * 8, _box_centre(target) + 40 - lane * 8
    return (
        f'<g class="branch" data-from="{start}" data-to="{target}">'
        f'<path d="M{x1:g},{bottom:g} V{y:g} H{x2:g} V{bottom + 6:g}" fill="none" stroke="#2a6f7a" '
        f'stroke-width="1.5" stroke-dasharray="5 3" marker-end="url(#arrow)"/>'
        + _text(x1 + 6, y - 4, label, "font-size:11px;fill:#2a6f7a")
        + "</g>"
    )


def _languages_line(x: float, y: float, use: TemplateUse, preview_href: str) -> str:
    """``languages: en, de``, each language a link to a sample customer who reads it."""
    if not use.languages:
        return _text(x, y, "no template file!", "fill:#b00020;font-weight:700")
    samples = dict(use.samples_by_language)
    shown = []
    for language in use.languages:
        tspan = f"<tspan>{html.escape(language)}</tspan>"
        if language in samples:
            href = html.escape(preview_href.format(template=use.template, customer=samples[language]))
            tspan = f'<a class="language" href="{href}">{tspan}</a>'
        shown.append(tspan)
    return f'<text x="{x:g}" y="{y:g}" style="fill:#555;font-size:11px">languages: {", ".join(shown)}</text>'


def _trigger_lines(shown: JourneyPicture) -> list[str]:
    """The trigger box's four lines: what starts the journey (wrapped: a journey may have two
    triggers), then who enters, cut to fit."""
    trigger = _wrap(shown.trigger, 30)[:2]
    return (trigger + _wrap(shown.entry, 30))[:4]


def _wrap(value: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in value.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
