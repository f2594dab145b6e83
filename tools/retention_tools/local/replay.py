"""Replaying an event history through the real handlers on the embedded AWS, on a simulated clock.

Each simulated day is a timeline of 15-minute ticks (the sweep's schedule): a shop event is
published at the first tick at or after the moment it happened and the ingest queue drained
then, and the scheduled jobs run their sweeps at the ticks where a timer is due. The clock is
set to each tick as it is played, so everything the engine stamps (applied_at, timers, sends)
lands in the history's time, not today's — and an order placed at 14:05 in Berlin is thanked
at 14:15, not at midnight inside the customer's quiet hours.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from retention import clock
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.history import ShopEventRecord
from retention_tools.local.outbox import sent_count
from retention_tools.local.progress import SimulationProgress
from retention_tools.local.runtime import QueueDriver, put_events
from retention_tools.local.simulation import ScheduledJobs, tick_at_or_after


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
    jobs: ScheduledJobs | None = None,
    redeliver_share: float = 0.0,
    seed: int = 11,
    extra_events: Callable[[datetime], list[ShopEventRecord]] | None = None,
    driver: Callable[[EmbeddedAws, str, str], QueueDriver] = QueueDriver,
    progress: str | None = None,
) -> ReplayStats:
    """Publish ``events`` to the bus tick by tick and drain the ingest queue after each tick.

    ``redeliver_share`` of events are published twice (a shop retrying its webhook), which
    the engine must absorb without double counting. ``jobs`` runs the sweeps at the ticks with
    a timer due, drains the journey queue after each delivery and runs the statistics job at
    the end of its days. ``extra_events`` is asked for more events as time passes (the demo's
    follow-up orders), published at their own tick or, if that has passed, at the next one.
    ``progress`` names the run in a progress bar (or progress lines when standard error is not
    a terminal): days, customers, events and emails so far, and an ETA.
    """
    rng = random.Random(seed)
    stats = ReplayStats()
    bus = aws.resources.buses["RetentionBus"]
    ingest = driver(aws, "IngestQueue", "order_ingest")
    by_day: dict[datetime, list[ShopEventRecord]] = {}
    for event in events:
        by_day.setdefault(_midnight(event.time), []).append(event)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    customers: set[str] = set()
    first_mail = sent_count()

    def counts() -> dict[str, int]:
        return {"customers": len(customers), "events": stats.published, "emails": sent_count() - first_mail}

    def publish(tick: datetime, batch: list[ShopEventRecord]) -> None:
        repeats = [e for e in batch if rng.random() < redeliver_share]
        stats.redelivered += len(repeats)
        entries = ((e.source, e.detail_type, e.detail, e.time) for e in batch + repeats)
        stats.published += put_events(aws, entries, bus)
        stats.handler_invocations += ingest.drain().invocations
        customers.update(str(e.detail["customer_id"]) for e in batch if e.detail.get("customer_id"))
        if jobs is not None:
            jobs.delivered()

    bar = SimulationProgress(progress or "replay", len(days), counts, enabled=progress is not None)
    for day in days:  # every day, quiet ones too: timers fall due whether or not anyone orders
        end = day + timedelta(days=1)
        pending = list(by_day.get(day, []))
        tick = day - timedelta(microseconds=1)
        while True:
            if extra_events is not None:
                pending += extra_events(end - timedelta(seconds=1))
            event_tick = min((tick_at_or_after(max(e.time, tick), day) for e in pending), default=None)
            sweep_tick = jobs.next_sweep(after=tick, before=end) if jobs is not None else None
            ticks = [t for t in (event_tick, sweep_tick) if t is not None and t < end]
            if not ticks:
                break
            tick = min(ticks)
            with clock.frozen_at(tick):
                due = [e for e in pending if e.time <= tick]
                if due:
                    pending = [e for e in pending if e.time > tick]
                    publish(tick, due)
                if tick == sweep_tick and jobs is not None:
                    jobs.sweep_at(tick)
        if pending:  # events of the day's last minutes (after its last tick): at the day's end
            with clock.frozen_at(end - timedelta(seconds=1)):
                publish(end, pending)
        if jobs is not None:
            with clock.frozen_at(end - timedelta(seconds=1)):
                jobs.day_done(end - timedelta(seconds=1))
        stats.days += 1
        bar.day_done(day)
    bar.close()
    stats.dead_lettered = queue_depth(aws, "IngestDeadLetterQueue")
    return stats


def _midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def queue_depth(aws: EmbeddedAws, logical_id: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.resources.queues[logical_id], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])
