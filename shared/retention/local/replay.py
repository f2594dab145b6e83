"""Replaying an event history through the real handlers on the embedded AWS, day by day.

The simulated clock is set to each day as its events are delivered, so everything the
engine stamps (applied_at, timers, sends) lands in the history's time, not today's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from retention import clock
from retention.local.embedded import EmbeddedAws
from retention.local.history import ShopEventRecord
from retention.local.runtime import QueueDriver, put_events


@dataclass
class ReplayStats:
    published: int = 0
    redelivered: int = 0
    days: int = 0
    handler_invocations: int = 0
    dead_lettered: int = 0


def replay(
    aws: EmbeddedAws,
    events: Sequence[ShopEventRecord],
    redeliver_share: float = 0.0,
    seed: int = 11,
    on_day_end: Callable[[datetime], None] | None = None,
    on_day_start: Callable[[datetime], None] | None = None,
    extra_events: Callable[[datetime], list[ShopEventRecord]] | None = None,
    driver: Callable[[EmbeddedAws, str, str], QueueDriver] = QueueDriver,
) -> ReplayStats:
    """Publish ``events`` to the bus a day at a time and drain the ingest queue after each day.

    ``redeliver_share`` of events are published twice (a shop retrying its webhook), which
    the engine must absorb without double counting. ``on_day_start`` runs first each day with the
    day's midnight (it sets its own clock: the sweeps), ``on_day_end`` after the day's events with
    the clock at the day's end.
    """
    rng = random.Random(seed)
    stats = ReplayStats()
    bus = aws.resources.buses["RetentionBus"]
    ingest = driver(aws, "IngestQueue", "order_ingest")
    by_day: dict[datetime, list[ShopEventRecord]] = {}
    for event in events:
        day = event.time.replace(hour=0, minute=0, second=0, microsecond=0)
        by_day.setdefault(day, []).append(event)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for day in days:  # every day, quiet ones too: timers fall due whether or not anyone orders
        batch = list(by_day.get(day, []))
        day_end = day + timedelta(days=1) - timedelta(seconds=1)
        if extra_events is not None:
            batch += extra_events(day_end)
        repeats = [e for e in batch if rng.random() < redeliver_share]
        stats.redelivered += len(repeats)
        if on_day_start is not None:
            on_day_start(day)
        with clock.frozen_at(day_end):
            if batch:
                stats.published += put_events(
                    aws, ((e.source, e.detail_type, e.detail, e.time) for e in batch + repeats), bus
                )
                stats.handler_invocations += ingest.drain().invocations
            if on_day_end is not None:
                on_day_end(day_end)
        stats.days += 1
    stats.dead_lettered = queue_depth(aws, "IngestDeadLetterQueue")
    return stats


def queue_depth(aws: EmbeddedAws, logical_id: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.resources.queues[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
