"""Cold-import time of every Lambda handler against ``import boto3``.

Method: for each ``functions/<name>/app.py``, a fresh interpreter with only the layer
(``shared/``) and the function's folder on its path imports ``app``, timed with
``time.perf_counter`` around the import; the median of 7 runs. ``import boto3`` the same way is
the yardstick: it is what any Python Lambda that talks to AWS pays at cold start.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import Row

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "PATH": "/usr/bin:/bin",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "CUSTOMERS_TABLE": "t",
    "EVENT_BUS_NAME": "b",
    "LINK_KEYS_SECRET": "s",
    "TRACKING_BASE_URL": "https://track.example.com",
    "SENDER_ADDRESS": "hello@example.com",
    "SENDER_POSTAL_ADDRESS": "1 Example Street, Berlin",
    "SHOP_URL": "https://shop.example.com",
}


def import_seconds(code: str, function: str | None = None, runs: int = 7) -> float:
    path = f"{ROOT / 'shared'}" + (f":{ROOT / 'functions' / function}" if function else "")
    times = []
    for _ in range(runs):
        out = subprocess.run(  # noqa: S603 - fixed interpreter and code
            [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
            capture_output=True,
            text=True,
            env={**ENV, "PYTHONPATH": path},
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def run() -> list[Row]:
    method = "median of 7 fresh interpreters, time.perf_counter around the import statement"
    boto = import_seconds("import boto3")
    rows = [Row("cold import: import boto3", f"{boto * 1000:.0f} ms", method)]
    for folder in sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()):
        seconds = import_seconds("import app", folder)
        rows.append(
            Row(f"cold import: {folder} handler", f"{seconds * 1000:.0f} ms ({seconds / boto:.1f}× boto3)", method)
        )
    return rows
