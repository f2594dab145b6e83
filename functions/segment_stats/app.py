"""Daily population statistics: RFM quintile cut points, VIP spend threshold, median order gap.

The only scheduled job allowed to read every profile: a parallel Scan (4 segments), once a
day. Per-event scoring reads the stored result through a one-hour cache.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock
from retention.observability import logger, metrics, tracer
from retention.segments import StatsInputs, collect_inputs, stats_from_inputs
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
    store = CustomerStore(settings().customers_table)
    segments, now = _segments(), clock.now()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        # Each worker reduces its scan segment to a few floats per buyer while it reads.
        parts = pool.map(lambda segment: collect_inputs(store.scan_profiles(segment, segments), now), range(segments))
        inputs = functools.reduce(StatsInputs.merge, parts, StatsInputs())
    stats = stats_from_inputs(inputs, now)
    StatsStore(store.table_name).put(stats)
    metrics.add_metric(name="BuyersInStatistics", unit=MetricUnit.Count, value=stats.buyers)
    logger.info("population statistics stored", buyers=stats.buyers, vip_spend=str(stats.vip_spend))
    return {"buyers": stats.buyers, "vip_spend": str(stats.vip_spend), "median_gap_days": stats.median_gap_days}
