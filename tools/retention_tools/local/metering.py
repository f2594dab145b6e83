"""Counting AWS requests by operation through botocore's event hooks (benchmarks and tests).

Counts are what the engine's cost model rests on: DynamoDB bills per request unit, so
"requests per order event" is measured, never estimated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class RequestCounter:
    """Operation name → number of calls made through the hooked clients while active."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def _on_call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @contextmanager
    def watching(self, *clients: Any) -> Iterator[RequestCounter]:
        for client in clients:
            client.meta.events.register("before-call", self._on_call)
        try:
            yield self
        finally:
            for client in clients:
                client.meta.events.unregister("before-call", self._on_call)
