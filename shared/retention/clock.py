"""The engine's notion of *now*: timezone-aware UTC, replaceable for simulations.

Replays and the demo advance a simulated clock through a year of history; everything
that asks "what time is it" goes through :func:`now` so one switch moves the whole engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Current time in UTC, or the simulated time while :func:`frozen_at` is active."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_simulated(at: datetime | None) -> None:
    """Move the simulated clock (``None`` returns to real time). Requires an aware datetime."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("simulated time must be timezone-aware")
    _frozen = at.astimezone(UTC) if at is not None else None


@contextmanager
def frozen_at(at: datetime) -> Iterator[None]:
    """Run a block at a fixed simulated time, restoring the previous clock afterwards."""
    previous = _frozen
    set_simulated(at)
    try:
        yield
    finally:
        set_simulated(previous)
