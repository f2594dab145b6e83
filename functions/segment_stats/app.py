"""Daily population statistics: RFM quintile cut points, VIP spend threshold, median order gap.

The only scheduled job allowed to read every profile: a parallel Scan (4 segments), once a
day. Per-event scoring reads the stored result through a one-hour cache.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock
from retention.observability import logger, metrics, tracer
from retention.segments import compute_stats
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
    segments = _segments()
    with ThreadPoolExecutor(max_workers=segments) as pool:
        parts = pool.map(lambda segment: list(store.scan_profiles(segment, segments)), range(segments))
        profiles = [profile for part in parts for profile in part]
    stats = compute_stats(profiles, clock.now())
    StatsStore(store.table_name).put(stats)
    metrics.add_metric(name="ProfilesInStatistics", unit=MetricUnit.Count, value=len(profiles))
    logger.info("population statistics stored", buyers=stats.buyers, vip_spend=str(stats.vip_spend))
    return {"buyers": stats.buyers, "vip_spend": str(stats.vip_spend), "median_gap_days": stats.median_gap_days}
