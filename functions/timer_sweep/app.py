"""Timer sweep, every 15 minutes: fire the timers due since the last run, nothing else.

DynamoDB cost per run: one GetItem (cursor) + one Query per (bucket, shard) swept + per fired
timer one claim, a share of a BatchGetItem and one finishing transaction + one PutItem
(cursor). It does not grow with the number of stored customers (see bench/bench_sweep.py).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock, published
from retention.lifecycle import default_stats
from retention.observability import logger, metrics, tracer
from retention.segments import load_definitions
from retention.settings import settings
from retention.store import bus
from retention.store.customers import CustomerStore
from retention.store.stats import StatsStore
from retention.store.timers import TimerStore
from retention.sweep import run_sweep


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    published.refresh()
    now = clock.now()
    table = settings().customers_table
    definitions = load_definitions()
    result = run_sweep(
        now=now,
        customers=CustomerStore(table),
        timers=TimerStore(table),
        stats=StatsStore(table).get() or default_stats(now, definitions),
        definitions=definitions,
        publish=lambda events: bus.publish(settings().event_bus_name, events),
    )
    for kind, count in result.fired.items():
        metrics.add_metric(name=f"TimersFired_{kind}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="SweepBuckets", unit=MetricUnit.Count, value=result.buckets_swept)
    logger.info("sweep done", buckets=result.buckets_swept, due=result.due, fired=dict(result.fired))
    return {
        "buckets_swept": result.buckets_swept,
        "due": result.due,
        "fired": dict(result.fired),
        "events": result.events,
    }
