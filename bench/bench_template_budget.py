"""Hostile templates against the render budget: the most memory one can take and the longest one can run.

Method: each template of a corpus of the worst memory and CPU bombs found while building the
budget (doubling with ``~``, output and captured blocks in loops, amplifying filters mapped over
a range, joins of shared strings, nested loops, macro fan-out, deep recursion) is rendered by
the real environment until the budget refuses it, once under ``tracemalloc`` (peak bytes
allocated during the render) and once without (wall-clock time of the render, best of three).
The figures are for the README's security review: they bound what a marketer's template can
cost one email, whatever it contains.
"""

from __future__ import annotations

import time
import tracemalloc

from bench.common import Row
from retention.mail.budget import DEFAULT_BUDGET
from retention.mail.environment import build_environment
from retention.mail.errors import TemplateTooExpensive
from retention.paths import templates_dir

DOUBLING = "{{% set ns = namespace(s={0!r}) %}}{{% for i in range(40) %}}{{% set ns.s = ns.s ~ ns.s %}}{{% endfor %}}"
NESTED = "{{% for i in range({0}) %}}{{% for j in range({0}) %}}{1}{{% endfor %}}{{% endfor %}}"
BOMBS = {
    "doubling with ~": DOUBLING.format("x"),
    "output in a loop": "{% set s = 'x' * 100000 %}{% for i in range(20000) %}{{ s }}{% endfor %}",
    "captured block": "{% set s = 'x' * 100000 %}{% set b %}{% for i in range(20000) %}{{ s }}{% endfor %}{% endset %}",
    "amplifier mapped": "{{ range(20000) | map('center', 199999) | list | length }}",
    "join of shared strings": "{{ (['x' * 100000] * 20000) | join }}",
    "non-ASCII doubling": DOUBLING.format("\U0001f600"),
    "nested loops": NESTED.format(20000, ""),
    "nested loops with output": NESTED.format(20000, "{{ j }}"),
    "macro fan-out": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "macro fan-out writing": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}{{ 'x' * 199999 }}"
    "{% endif %}{% endmacro %}{{ f(40) }}",
    "recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
}


def _render(env: object, source: str) -> str:
    try:
        env.from_string(source).render()  # type: ignore[attr-defined]
    except TemplateTooExpensive as refused:
        return refused.budget_reason
    return "rendered"


def run() -> list[Row]:
    env = build_environment(templates_dir())
    peaks: dict[str, int] = {}
    times: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for name, source in BOMBS.items():
        env.from_string(source)  # compiled outside the measurement, as precompile does at cold start
        tracemalloc.start()
        _render(env, source)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            reasons[name] = _render(env, source)
            best = min(best, time.perf_counter() - started)
        times[name] = best
    if __name__ == "__main__":
        for name in BOMBS:
            print(f"{name:28} {peaks[name] / 2**20:6.1f} MiB {times[name] * 1000:6.1f} ms  {reasons[name]}")
    worst_memory = max(peaks, key=peaks.__getitem__)
    worst_time = max(times, key=times.__getitem__)
    budget = DEFAULT_BUDGET
    return [
        Row(
            "hostile template: peak memory of one render",
            f"{peaks[worst_memory] / 2**20:.1f} MiB",
            f"worst of {len(BOMBS)} bombs ({worst_memory}: {reasons[worst_memory]}), tracemalloc",
        ),
        Row(
            "hostile template: longest render",
            f"{times[worst_time] * 1000:.0f} ms",
            f"worst of {len(BOMBS)} bombs ({worst_time}: {reasons[worst_time]}), "
            f"budget {budget.max_seconds * 1000:.0f} ms",
        ),
        Row(
            "hostile template: largest output",
            f"{budget.max_output:,} chars",
            f"written per email, any value at most {budget.max_string:,} chars (by construction)",
        ),
    ]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
