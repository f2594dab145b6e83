"""The lint commands of the ``retention`` CLI: ``retention lint`` (everything) and the lint of
each file family (``templates``, ``journeys``, ``segments``, ``tracking``), text or ``--format json``.

Exit code 0 when there is no error (warnings are shown and allowed), 1 when there is one. Bad
input is a problem on a line of its own, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from retention_tools.authoring.findings import Problem, errors

if TYPE_CHECKING:
    from retention.models.journeys import Journey

DONE = {
    "templates": "templates: no problems (every template rendered for every sample customer)",
    "journeys": "journeys: no problems",
    "segments": "segments: no problems",
    "tracking": "tracking: no problems",
}


def add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: for editors and CI (file, line, column)"
    )


def run(checks: tuple[str, ...], args: argparse.Namespace) -> int:
    from retention_tools.authoring.lint_all import as_json, as_text, lint_everything

    problems = lint_everything(checks=checks)
    if getattr(args, "format", "text") == "json":
        print(as_json(problems))
        return 1 if errors(problems) else 0
    done = " · ".join(DONE[check] for check in checks)
    if not errors(problems):
        done = "\n".join([*_summaries(checks), done])
    out, err = as_text(problems, done)
    if out:
        print(out)
    if err:
        print(err, file=sys.stderr)
    return 1 if errors(problems) else 0


def _summaries(checks: tuple[str, ...]) -> list[str]:
    """What a clean journeys file holds, one line per journey (a quick read of what will happen)."""
    if "journeys" not in checks:
        return []
    from retention.journeys.definitions import parse_journeys

    definitions = parse_journeys()
    lines = []
    for name, journey in definitions.journeys.items():
        steps = ", ".join(_step_summary(journey, index) for index in range(len(journey.steps)))
        events = " or ".join(dict.fromkeys(spec.event.value for spec in journey.triggers))
        lines.append(f"{name}: on {events} → {steps}")
    lines.append(f"({len(definitions.journeys)} journeys)")
    return lines


def _step_summary(journey: Journey, index: int) -> str:
    """``feedback (+7 d; after 3 d: answered price → incentive …)``; ``apology (by a branch)``."""
    step = journey.steps[index]
    targets = {branch.go_to for other in journey.steps for branch in other.branches}
    plain = index == 0 or any(journey.following(i) == index for i in range(index))
    when = f"+{step.delay_days:g} d" if plain or step.id not in targets else "by a branch"
    if step.branches:
        paths = ", ".join(f"{b.when.describe()} → {b.go_to}" for b in step.branches)
        when += f"; after {step.check_after_days:g} d: {paths}"
    return f"{step.id} ({when})"


def register(commands: argparse._SubParsersAction, families: dict[str, argparse._SubParsersAction]) -> None:
    """``retention lint`` and ``retention <family> lint`` for every family given (``segments`` is created)."""
    everything = commands.add_parser("lint", help="check every marketer file: templates, journeys, segments, tracking")
    add_format(everything)
    everything.set_defaults(run=lambda args: run(("templates", "segments", "journeys", "tracking"), args))
    if "segments" not in families:
        segments = commands.add_parser("segments", help="marketer tools for templates/segments.yaml")
        families["segments"] = segments.add_subparsers(dest="segments_command", required=True)
    about = {
        "templates": "render every template for every sample customer and report every problem",
        "journeys": "validate journeys.yaml against emails.yaml and segments.yaml",
        "segments": "validate segments.yaml (facts, rules, thresholds)",
        "tracking": "validate tracking.yaml",
    }
    for family, subcommands in families.items():
        command = subcommands.add_parser("lint", help=about[family])
        add_format(command)
        command.set_defaults(run=lambda args, family=family: run((family,), args))


__all__ = ["Problem", "add_format", "register", "run"]
