"""Benchmark rows and the table they print: every figure says how it was measured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    method: str


def print_table(rows: list[Row]) -> None:
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("metric", "value")]
    widths = [max(widths[0], 6), max(widths[1], 5)]
    print(f"| {'metric':<{widths[0]}} | {'value':>{widths[1]}} | method |")
    print(f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|--------|")
    for row in rows:
        print(f"| {row.metric:<{widths[0]}} | {row.value:>{widths[1]}} | {row.method} |")
