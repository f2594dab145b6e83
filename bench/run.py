"""``make bench``: run every benchmark under bench/ and print one table."""

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


def main() -> None:
    rows = []
    for module in BENCHMARKS:
        rows.extend(module.run())
    print_table(rows)


if __name__ == "__main__":
    main()
