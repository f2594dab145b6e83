"""Sweep cost against stored customers: the same timers due, 1× and 100× the customers stored.

Method: on the embedded AWS with the production timer layout (1-hour buckets, 8 shards),
store N background customers whose inactivity timers are due months later, plus 20
customers due now; run one sweep (cursor one hour back) and count its DynamoDB requests by
operation with a botocore hook. The count must not change when N grows 100×, and must
contain no Scan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.common import Row
from retention.lifecycle import default_stats
from retention.models.profile import CustomerProfile
from retention.models.timers import Timer
from retention.segments import load_definitions
from retention.settings import settings
from retention.store import dynamo
from retention.store.customers import CustomerStore, ProfileWrite, write_profile
from retention.store.timers import TimerStore, arm_timer
from retention.sweep import run_sweep
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.metering import RequestCounter

NOW = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
DUE = 20


def _seed(table: str, customers: int, due: bool) -> None:
    items = []
    for n in range(customers):
        cid = f"{'D' if due else 'B'}{n:07d}"
        last = NOW - timedelta(days=61 if due else 10)
        profile = CustomerProfile(
            customer_id=cid,
            email=f"{cid}@example.com",
            order_count=1,
            total_spent=20,
            first_order_at=last,
            last_order_at=last,
            order_dates=[last],
            version=1,
        )
        timer = Timer(
            customer_id=cid,
            kind="inactivity",
            due_at=NOW - timedelta(minutes=5) if due else NOW + timedelta(days=50),
            generation=1,
        )
        items.append({"PutRequest": {"Item": write_profile(ProfileWrite(profile, 0)).parameters["Item"]}})
        items.append({"PutRequest": {"Item": arm_timer(timer, NOW - timedelta(hours=1)).parameters["Item"]}})
    for start in range(0, len(items), 25):
        request = {table: items[start : start + 25]}
        while request:
            request = dynamo.client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def sweep_requests(background: int) -> tuple[int, dict[str, int], int]:
    with EmbeddedAws(stage=f"bench-sweep-{background}"):
        table = settings().customers_table
        _seed(table, background, due=False)
        _seed(table, DUE, due=True)
        timers = TimerStore(table)
        timers.advance_cursor(timers.layout.bucket_start(NOW - timedelta(hours=1)))
        counter = RequestCounter()
        with counter.watching(dynamo.client()):
            result = run_sweep(
                NOW,
                CustomerStore(table),
                timers,
                default_stats(NOW, load_definitions()),
                load_definitions(),
                publish=lambda events: None,
            )
        return counter.total, dict(counter.calls), sum(result.fired.values())


def run() -> list[Row]:
    small_total, small_calls, small_fired = sweep_requests(200)
    large_total, large_calls, large_fired = sweep_requests(20_000)
    assert small_fired == large_fired == DUE, (small_fired, large_fired)
    method = f"one sweep, {DUE} timers due, botocore hook; calls {small_calls}"
    return [
        Row("DynamoDB requests per sweep, 200 stored customers (1×)", str(small_total), method),
        Row(
            "DynamoDB requests per sweep, 20,000 stored customers (100×)",
            str(large_total),
            f"same; Scan calls: {large_calls.get('Scan', 0)}",
        ),
    ]
