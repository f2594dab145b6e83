"""Once a day: is any journey "pushing too hard"? Rates of the last days against tracking.yaml.

Reads only the journey counters (one Query per shard per journey: cost grows with journeys,
not customers), logs each warning, and publishes ``JourneysPushingTooHard`` (how many
journeys are below a floor or above a ceiling) through Powertools Metrics, which the
PushingTooHardAlarm in template.yaml watches.
"""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock, published
from retention.journeys.definitions import load_journeys
from retention.observability import logger, metrics, tracer
from retention.reporting.report import build_report
from retention.settings import settings
from retention.store.counters import CounterStore
from retention.tracking.machine import tracking_rules


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    published.refresh()
    health = tracking_rules().health
    until = clock.now().date()
    since = until - timedelta(days=health.window_days - 1)
    report = build_report(
        CounterStore(settings().customers_table), list(load_journeys().journeys), since, until, health
    )
    warned = {}
    for journey in report.journeys:
        if journey.warnings:
            warned[journey.name] = journey.warnings
            logger.warning("journey pushing too hard", journey=journey.name, warnings=journey.warnings)
    metrics.add_metric(name="JourneysPushingTooHard", unit=MetricUnit.Count, value=len(warned))
    return {"since": since.isoformat(), "until": until.isoformat(), "warnings": warned}
