"""Cold start of every Lambda handler, as deployed: its import against ``import boto3``, the
cost of tracing, and the first invocation against a warm one.

Method, import: for each ``functions/<name>/app.py``, a fresh interpreter with only the layer
(``shared/``) and the function's folder on its path imports ``app``, timed with
``time.perf_counter`` around the import; median of 7 runs. The environment is Lambda's as far
as the libraries look at it: ``LAMBDA_TASK_ROOT`` and ``AWS_LAMBDA_FUNCTION_NAME`` set (the X-Ray
SDK picks its Lambda context and sampler from them) and tracing on, as template.yaml deploys it.
``import boto3`` the same way is the yardstick: what any Python Lambda that talks to AWS pays.
The *library floor* is a handler with no code of ours: boto3, the Powertools pieces the project
is built on (Logger, Tracer with botocore patched, Metrics, the batch processor, the parser's
BaseModel and one model), and nothing else. No handler can import faster than that floor, so it
says how much of a handler's cold start is ours to win.

Method, first invocation: a fresh interpreter starts the embedded AWS (not timed), imports the
handler, invokes it with its sample event from ``events/`` twice and prints both times; the
difference is what the first request pays on top of a warm one (templates compiled, YAML read,
clients built). The sweep starts from a stored cursor, as every run but the very first one does.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import Row

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = {
    "PATH": "/usr/bin:/bin",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "LAMBDA_TASK_ROOT": "/var/task",
    "CUSTOMERS_TABLE": "t",
    "EVENT_BUS_NAME": "b",
    "LINK_KEYS_SECRET": "s",
    "TRACKING_BASE_URL": "https://track.example.com",
    "SENDER_ADDRESS": "hello@example.com",
    "SENDER_POSTAL_ADDRESS": "1 Example Street, Berlin",
    "SHOP_URL": "https://shop.example.com",
}
SAMPLE_EVENT = {
    "journey_dispatch": "journey_dispatch.sqs.json",
    "journey_health": "journey_health.scheduled.json",
    "order_ingest": "order_ingest.sqs.json",
    "segment_stats": "segment_stats.scheduled.json",
    "ses_events": "ses_events.sqs.json",
    "timer_sweep": "timer_sweep.scheduled.json",
    "tracking": "tracking_open.http.json",
    "shop_webhook": "shop_webhook/shopify_orders_create.json",
}
FIRST_INVOCATION = """
import json, sys, time
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.runtime import invoke, load_function
event = json.load(open(sys.argv[2]))
with EmbeddedAws(stage="bench-first") as aws:
    if sys.argv[1] == "shop_webhook":  # a deployed stack holds the shop's secret; the samples use the test one
        sys.path.insert(0, sys.argv[3])
        from webhook_helpers import SECRETS
        secret = aws.resources.secrets["ShopWebhookSecrets"]
        aws.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=json.dumps(SECRETS))
    if sys.argv[1] == "timer_sweep":  # a deployed sweep has a cursor: not the first run ever
        from retention import clock
        from retention.settings import settings
        from retention.store.timers import TimerStore
        timers = TimerStore(settings().customers_table)
        timers.advance_cursor(timers.layout.bucket_start(clock.now()))
    started = time.perf_counter()
    handler = load_function(sys.argv[1]).handler
    imported = time.perf_counter()
    invoke(handler, event)
    first = time.perf_counter()
    invoke(handler, event)
    second = time.perf_counter()
print(json.dumps({"first": first - imported, "warm": second - first}))
"""


LIBRARY_FLOOR = (
    "import boto3; "
    "from aws_lambda_powertools import Logger, Metrics, Tracer; "
    "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response; "
    "from aws_lambda_powertools.utilities.parser import BaseModel; "
    "M = type('M', (BaseModel,), {'__annotations__': {'a': int}}); "
    "Tracer(service='floor', patch_modules=['botocore']); Logger(service='floor'); "
    "Metrics(namespace='floor', service='floor')"
)


def handlers() -> list[str]:
    return sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


def import_seconds(code: str, function: str | None = None, runs: int = 7, tracing: bool = True) -> float:
    path = f"{ROOT / 'shared'}" + (f":{ROOT / 'functions' / function}" if function else "")
    env = {**DEPLOYED, "PYTHONPATH": path}
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    times = []
    for _ in range(runs):
        out = subprocess.run(  # noqa: S603 - fixed interpreter and code
            [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def first_invocation(function: str) -> tuple[float, float]:
    """(first, warm) seconds of two invocations with the sample event, in a fresh interpreter."""
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'tools'}",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    out = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [
            sys.executable,
            "-c",
            FIRST_INVOCATION,
            function,
            str(ROOT / "events" / SAMPLE_EVENT[function]),
            str(ROOT / "tests"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return figures["first"], figures["warm"]


def run() -> list[Row]:
    method = "median of 7 fresh interpreters, as deployed (LAMBDA_TASK_ROOT set, tracing on)"
    boto = import_seconds("import boto3")
    floor = import_seconds(LIBRARY_FLOOR)
    rows = [
        Row("cold import: import boto3", f"{boto * 1000:.0f} ms", method),
        Row(
            "cold import: library floor (boto3 + Powertools, no code of ours)",
            f"{floor * 1000:.0f} ms ({floor / boto:.2f}× boto3)",
            f"{method}; Logger, Tracer, Metrics, batch processor, parser model: what every handler imports",
        ),
    ]
    for folder in handlers():
        seconds = import_seconds("import app", folder)
        untraced = import_seconds("import app", folder, tracing=False)
        rows.append(
            Row(
                f"cold import: {folder} handler",
                f"{seconds * 1000:.0f} ms ({seconds / boto:.2f}× boto3)",
                f"{method}; without tracing {untraced * 1000:.0f} ms ({untraced / boto:.2f}×)",
            )
        )
    for folder in handlers():
        first, warm = first_invocation(folder)
        rows.append(
            Row(
                f"first invocation: {folder} handler",
                f"{first * 1000:.0f} ms (warm {warm * 1000:.0f} ms)",
                f"sample event events/{SAMPLE_EVENT[folder]}, embedded AWS, fresh interpreter",
            )
        )
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
