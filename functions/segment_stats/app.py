"""Daily population statistics: RFM quintile cut points, VIP spend threshold, median order gap,
the churn weights refitted on the shop's own history and the shop's churn-risk percentiles.

The only scheduled job allowed to read every profile: a parallel Scan (4 segments), once a
day. Per-event scoring reads the stored result through a one-hour cache. This is the only
function that loads numpy (its own requirements.txt; the layer does not carry it).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock, daily_stats, published
from retention.observability import logger, metrics, tracer
from retention.segments import load_definitions
from retention.settings import settings
from retention.store.customers import CustomerStore
from retention.store.stats import StatsStore


def _segments() -> int:
    """Parallel Scan segments (``STATS_SCAN_SEGMENTS``, default 4); 1 on the embedded AWS."""
    return max(1, min(16, int(os.environ.get("STATS_SCAN_SEGMENTS", "4"))))


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    published.refresh()
    store = CustomerStore(settings().customers_table)
    definitions, segments, now = load_definitions(), _segments(), clock.now()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        # Each worker reduces its scan segment while it reads: floats per buyer, two bounded samples.
        parts = pool.map(
            lambda segment: daily_stats.collect(store.scan_profiles(segment, segments), now, definitions),
            range(segments),
        )
        inputs = functools.reduce(daily_stats.DailyInputs.merge, parts)
    stats, refit = daily_stats.compute(inputs, now, definitions)
    StatsStore(settings().customers_table).put(stats)
    metrics.add_metric(name="BuyersInStatistics", unit=MetricUnit.Count, value=stats.buyers)
    metrics.add_metric(name="ChurnModelRefitted", unit=MetricUnit.Count, value=int(refit.model is not None))
    churn_model = "fitted" if refit.model else "shipped"
    logger.info(
        "population statistics stored",
        buyers=stats.buyers,
        vip_spend=str(stats.vip_spend),
        churn_model=churn_model,
        churn_refit=refit.reason,
        churn_risk_p70=stats.risk_percentile(70),
    )
    summary = {"buyers": stats.buyers, "vip_spend": str(stats.vip_spend), "median_gap_days": stats.median_gap_days}
    return {**summary, "churn_model": churn_model, "churn_training_rows": stats.churn_training_rows}
