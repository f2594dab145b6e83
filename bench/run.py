"""``make bench``: run every benchmark under bench/ and print one table.

``make bench ONLY=render,dispatch`` (or ``python bench/run.py render dispatch``) runs the named
ones only (``bench_<name>``): the whole set takes a while, the demo-cost rows most of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import (
    bench_churn,
    bench_demo_cost,
    bench_dispatch,
    bench_emulator,
    bench_imports,
    bench_ingest,
    bench_render,
    bench_sweep,
    bench_template_budget,
    bench_tracking,
)
from bench.common import print_table

# bench_emulator runs last: moto.mock_aws resets the backends the other benchmarks' servers share.
BENCHMARKS = [
    bench_ingest,
    bench_imports,
    bench_sweep,
    bench_render,
    bench_template_budget,
    bench_dispatch,
    bench_tracking,
    bench_churn,
    bench_demo_cost,
    bench_emulator,
]


def main(names: list[str]) -> None:
    chosen = [m for m in BENCHMARKS if not names or m.__name__.removeprefix("bench.bench_") in names]
    unknown = set(names) - {m.__name__.removeprefix("bench.bench_") for m in BENCHMARKS}
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    rows = []
    for module in chosen:
        rows.extend(module.run())
    print_table(rows)


if __name__ == "__main__":
    main([name for arg in sys.argv[1:] for name in arg.split(",") if name])
