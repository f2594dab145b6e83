"""``retention lint``: every marketer file checked in one run — templates (with content, locales
and pages), journeys, segments and tracking rules — as one list of :class:`Problem` with
file:line:column, for a person (text) or an editor or CI (``--format json``).

The journey checks that span files (a template journeys.yaml names but emails.yaml lacks, a
segment segments.yaml does not define) are placed at the misspelt value with the name meant.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from retention.config_files import CatalogError, SafeLoader
from retention.journeys.definitions import JourneyError, parse_journeys
from retention.mail import catalog as email_files
from retention.models.journeys import JourneyFile
from retention.models.segments import SegmentDefinitions
from retention.models.tracking import TrackingRules
from retention.paths import templates_dir
from retention.segments import DefinitionError, load_definitions
from retention_tools.authoring.findings import WARNING, Problem, did_you_mean, errors
from retention_tools.authoring.yaml_errors import check_file, find_value

CHECKS = ("templates", "journeys", "segments", "tracking")
_CROSS_FILE = re.compile(
    r"^(?P<journey>[\w-]+)(?:\.(?P<step>[\w-]+))?: (?P<what>template|segment|answer) '(?P<name>[^']+)'"
)
_OFFERED = re.compile(r"\((?P<known>[^()]*)\)$")


def lint_everything(root: Path | None = None, checks: tuple[str, ...] = CHECKS) -> list[Problem]:
    from retention_tools.authoring.lint import lint

    root = root or templates_dir()
    problems: list[Problem] = []
    if "templates" in checks:
        problems += lint(root)
    if "segments" in checks:
        problems += segments_problems(root)
    if "journeys" in checks:
        problems += journeys_problems(root)
    if "tracking" in checks:
        problems += check_file(root / "tracking.yaml", "tracking.yaml", TrackingRules, "tracking")
    return problems


def segments_problems(root: Path) -> list[Problem]:
    return check_file(root / "segments.yaml", "segments.yaml", SegmentDefinitions, "segments")


def journeys_problems(root: Path) -> list[Problem]:
    """journeys.yaml on its own, then against emails.yaml and segments.yaml (when those are valid:
    their own problems are reported by their own checks, not again here)."""
    path = root / "journeys.yaml"
    problems = check_file(path, "journeys.yaml", JourneyFile, "journeys")
    if problems:
        return _paths_placed(problems, path)
    try:
        parse_journeys(root)
    except JourneyError as error:
        return _cross_file(path, str(error), root)
    except (CatalogError, DefinitionError):
        return []
    return []


_PATH_PROBLEM = re.compile(r"^(?P<journey>[a-z][a-z0-9_]*): (?P<parts>step .+)$")
_TARGET = re.compile(r"(?P<setting>go_to|then) '(?P<value>[^']+)'")
_STEP = re.compile(r"^step (?P<value>[a-z][a-z0-9_]*)")


def _paths_placed(problems: list[Problem], path: Path) -> list[Problem]:
    """A journey's path problems (a branch to a step that does not exist, one that goes back, a
    step never reached) come from one check of the whole journey: one problem each, placed at the
    misspelt target or at the step."""
    node = None
    placed = []
    for problem in problems:
        found = _PATH_PROBLEM.match(problem.message)
        if found is None:
            placed.append(problem)
            continue
        node = node or yaml.compose(path.read_text(encoding="utf-8"), Loader=SafeLoader)
        for part in re.split(r"; (?=step )", found["parts"]):
            target, step = _TARGET.search(part), _STEP.match(part)
            line, column = (None, None)
            if target is not None:
                line, column = _setting_at(node, target["setting"], target["value"], found["journey"])
            elif step is not None:
                line, column = _setting_at(node, "id", step["value"], found["journey"])
            where = (line, column) if line is not None else (problem.line, problem.column)
            placed.append(Problem("journeys.yaml", f"{found['journey']}: {part}", *where, check="journeys"))
    return placed


def _setting_at(node: yaml.Node, setting: str, value: str, journey: str) -> tuple[int | None, int | None]:
    """Line and column of ``setting: value`` inside journey ``journey`` (the first one)."""
    for key in ("journeys", journey):
        node = next((v for k, v in getattr(node, "value", []) if getattr(k, "value", None) == key), node)
    stack = [node]
    while stack:
        current = stack.pop(0)
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == setting and getattr(value_node, "value", None) == value:
                    return value_node.start_mark.line + 1, value_node.start_mark.column + 1
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None, None


def _cross_file(path: Path, message: str, root: Path) -> list[Problem]:
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    problems = []
    for part in message.removeprefix("journeys.yaml: ").split("; "):
        found = _CROSS_FILE.match(part)
        if found is None:
            problems.append(Problem("journeys.yaml", part, check="journeys"))
            continue
        name = found["name"]
        known = _known(found["what"], root) if found["what"] != "answer" else _offered(part)
        line, column = find_value(node, name, under=("journeys", found["journey"]))
        hint = did_you_mean(name, known)
        problems.append(Problem("journeys.yaml", f"{part}{hint}", line, column, check="journeys"))
    return problems


def _offered(message: str) -> list[str]:
    """The answers a template offers, as the cross-file message lists them."""
    found = _OFFERED.search(message)
    return [answer.strip() for answer in found["known"].split(",")] if found else []


def _known(what: str, root: Path) -> list[str]:
    try:
        if what == "template":
            return list(email_files.catalog(root).templates)
        definitions = load_definitions(root / "segments.yaml")
    except (CatalogError, DefinitionError):
        return []
    return [rule.name for rule in definitions.lifecycle] + [rule.name for rule in definitions.tags]


def as_text(problems: list[Problem], done: str) -> tuple[str, str]:
    """(stdout, stderr) for a person: one line per problem, then the verdict."""
    lines = "\n".join(str(problem) for problem in problems)
    failed = errors(problems)
    warned = len([p for p in problems if p.severity == WARNING])
    if failed:
        return lines, f"{len(failed)} problem(s)" + (f", {warned} warning(s)" if warned else "")
    suffix = f" ({warned} warning(s))" if warned else ""
    return (lines + "\n" if lines else "") + done + suffix, ""


def as_json(problems: list[Problem]) -> str:
    return json.dumps(
        {
            "errors": len(errors(problems)),
            "warnings": len(problems) - len(errors(problems)),
            "problems": [problem.as_json() for problem in problems],
        },
        indent=2,
        ensure_ascii=False,
    )
