"""Progress of the long developer commands (demo, replay, soak, import) in simulated days.

On a terminal a tqdm bar shows days done of days to go, the simulated date, the counts so far
and an ETA; anywhere else (CI logs, a pipe) a plain line is written every ``every`` days and at
the end, so a log still says how far a run got. Nothing is printed when ``enabled`` is false
(tests, library callers).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

Counts = Callable[[], dict[str, int]]
"""What to show next to the date: name → count so far (``customers``, ``events``, ``emails``…)."""


class SimulationProgress:
    def __init__(
        self,
        label: str,
        total_days: int,
        counts: Counts | None = None,
        stream: TextIO | None = None,
        every: int = 30,
        enabled: bool = True,
    ) -> None:
        self.label = label
        self.total = max(1, total_days)
        self.counts = counts or dict
        self.stream = stream if stream is not None else sys.stderr
        self.every = max(1, every)
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        self._bar: Any = None
        if enabled and _is_terminal(self.stream):
            from tqdm import tqdm  # a development dependency, like the rest of the local tooling

            self._bar = tqdm(total=self.total, desc=label, unit="day", file=self.stream, dynamic_ncols=True)

    def day_done(self, day: datetime) -> None:
        """One simulated day finished (``day`` is its date)."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(self._summary(day), refresh=False)
            self._bar.update(1)
        elif self.done % self.every == 0 or self.done == self.total:
            print(self._line(day), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> SimulationProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _summary(self, day: datetime) -> str:
        counts = ", ".join(f"{value:,} {name}" for name, value in self.counts().items())
        return f"{day:%Y-%m-%d}" + (f", {counts}" if counts else "")

    def _line(self, day: datetime) -> str:
        elapsed = time.monotonic() - self.started
        remaining = elapsed / self.done * (self.total - self.done)
        return (
            f"{self.label}: day {self.done:,}/{self.total:,} ({self._summary(day)}); "
            f"{_duration(elapsed)} so far, about {_duration(remaining)} to go"
        )


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
