"""What a lint found, said the way a marketer can act on it: the file, line and column, plain
words, a "did you mean" for names, and one message for a mistake every sample customer hits.

Every lint (templates, journeys, segments, tracking, pages) reports :class:`Problem` objects, so
``retention lint`` prints one list and ``--format json`` gives editors and CI the same data.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One mistake. ``where`` is a file relative to ``templates/`` (or a template's name when the
    problem is not in one file); ``line`` and ``column`` count from 1."""

    where: str
    message: str
    line: int | None = None
    column: int | None = None
    severity: str = ERROR
    samples: int = 0
    """For a problem found by rendering: in how many of the ``of`` sample customers it occurred."""
    of: int = 0
    check: str = field(default="templates", compare=False)

    @property
    def location(self) -> str:
        parts = [self.where]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == WARNING else ""
        shown = f"{self.location}: {prefix}{self.message}"
        if self.of:
            shown += f" (in {self.samples} of {self.of} sample customers)"
        return shown

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "file": self.where,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "samples": self.samples or None,
            "of": self.of or None,
        }


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that block a publish (warnings are shown, never refused)."""
    return [problem for problem in problems if problem.severity == ERROR]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'first_name'?)`` when one candidate is close to ``name``, else ``""``."""
    known = sorted(set(candidates))
    swapped = [c for c in known if _one_swap(name, c)]
    close = swapped or difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close and close[0] != name else ""


def _one_swap(typed: str, known: str) -> bool:
    """Two neighbouring letters swapped (``fi`` for ``if``): too short for a similarity ratio to see."""
    if len(typed) != len(known) or typed == known:
        return False
    different = [i for i, (a, b) in enumerate(zip(typed, known, strict=True)) if a != b]
    return (
        len(different) == 2
        and different[1] == different[0] + 1
        and typed[different[0]] == known[different[1]]
        and typed[different[1]] == known[different[0]]
    )


def per_sample(found: dict[Problem, set[str]], total: int) -> list[Problem]:
    """One problem per mistake, with the number of sample customers it occurred for."""
    return [replace(problem, samples=len(samples), of=total) for problem, samples in found.items()]
