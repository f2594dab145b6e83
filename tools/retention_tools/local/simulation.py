"""The scheduled functions and the journey queue, driven by the simulated clock of a replay.

In AWS, EventBridge Scheduler runs the sweep every 15 minutes and the statistics job once a
day, and the journey queue feeds the dispatcher continuously. A replay steps through days; on
each day it runs the sweep at the production cadence — every 15-minute tick of the day — but
only at the ticks where a timer falls due (the simulator asks the emulator when the next timer
of the day is due, without a request), so an email deferred to 08:00 in Baku goes out at the
tick after 04:00 UTC, a birthday greeting at 09:00 local, and an idle tick costs nothing. Each
sweep that published something is followed by a drain of the journey queue (and the
audience's reactions), as the queue would feed the dispatcher within seconds.

The statistics job runs at the end of the first day and then every ``stats_every_days``
(default 30, not daily: its full-table Scan is the one O(customers) job and RFM cut points move
slowly, so a daily run would change no outcome here, only the wait). Everything goes through
the real handlers.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from retention_tools.local.embedded import ACCOUNT, REGION, EmbeddedAws, request_lock
from retention_tools.local.moto_patches import index_items
from retention_tools.local.runtime import QueueDriver, invoke, load_function

SIMULATION_TIMERS = {"TIMER_BUCKET_HOURS": "24", "TIMER_SHARDS": "2", "STATS_SCAN_SEGMENTS": "1"}
"""Timer layout for simulations: day-wide buckets, two shards. A sweep then reads the day's
timers with two queries, however many ticks it runs at; production files hourly in 8 shards."""

SWEEP_EVERY = timedelta(minutes=15)
"""The sweep's schedule in template.yaml (``rate(15 minutes)``)."""


def scheduled_event(at: datetime, rule: str) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rule}/{at.isoformat()}")),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": at.isoformat(),
        "region": "eu-west-1",
        "resources": [f"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/{rule}"],
        "detail": {},
    }


@dataclass
class ScheduledJobs:
    """Runs the sweeps and statistics, drains the journey queue, tallies what fired (the replay
    asks it when the next sweep is due and tells it when shop events were delivered).

    Without an ``aws`` (older callers), journeys are not driven and only the sweeps run.
    """

    aws: EmbeddedAws | None = None
    stats_every_days: int = 30
    fired: Counter[str] = field(default_factory=Counter)
    sweeps: int = 0
    stats_runs: int = 0
    events: int = 0
    dispatcher_invocations: int = 0
    days: int = 0
    after_drain: Callable[[], None] | None = None
    driver: Callable[[EmbeddedAws, str, str], QueueDriver] = QueueDriver
    _journeys: QueueDriver | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.aws is not None:
            self._journeys = self.driver(self.aws, "JourneyQueue", "journey_dispatch")

    def next_sweep(self, after: datetime, before: datetime) -> datetime | None:
        """The first scheduled tick after ``after`` (and before ``before``) at which a timer is
        due: the ticks in between would find nothing, so they are skipped."""
        day = after.replace(hour=0, minute=0, second=0, microsecond=0)
        following = tick_at_or_after(after + timedelta(microseconds=1), day)
        due = self.next_due(after - timedelta(days=1), before)
        if due is None:
            return None
        tick = max(following, tick_at_or_after(due, day))
        return tick if tick < before else None

    def sweep_at(self, tick: datetime) -> None:
        """The sweep at ``tick`` (the clock is set by the caller), and the emails it triggers."""
        if self._sweep(tick):  # nothing published, nothing for the journey queue
            self._drain()

    def delivered(self) -> None:
        """Shop events were just applied: the journeys they trigger."""
        self._drain()

    def day_done(self, day_end: datetime) -> None:
        """The end of a simulated day: the statistics job when due."""
        if self.days % self.stats_every_days == 0:
            invoke(load_function("segment_stats").handler, scheduled_event(day_end, "segment-stats"))
            self.stats_runs += 1
        self.days += 1

    def next_due(self, after: datetime, before: datetime) -> datetime | None:
        """The earliest due time in (``after``, ``before``) of the timers still armed."""
        from retention.settings import settings
        from retention.store.timers import DUE_INDEX, TimerLayout

        layout = TimerLayout.from_settings()
        table = settings().customers_table
        start = layout.bucket_start(after)
        buckets = []
        while start < before:
            buckets += [layout.bucket(start, shard) for shard in range(layout.shards)]
            start += layout.width
        with request_lock:
            due = [
                datetime.fromisoformat(item["due_at"])
                for bucket in buckets
                for item in index_items(table, DUE_INDEX, bucket, ACCOUNT, REGION)
            ]
        upcoming = [at for at in due if after < at < before]
        return min(upcoming, default=None)

    def _sweep(self, at: datetime) -> int:
        result = invoke(load_function("timer_sweep").handler, scheduled_event(at, "timer-sweep"))
        self.sweeps += 1
        self.fired.update(result["fired"])
        self.events += result["events"]
        return result["events"]

    def _drain(self) -> None:
        if self._journeys is not None:
            self.dispatcher_invocations += self._journeys.drain().invocations
            if self.after_drain is not None:
                self.after_drain()


def tick_at_or_after(at: datetime, day: datetime) -> datetime:
    """The first scheduled tick (a multiple of SWEEP_EVERY after midnight) at or after ``at``."""
    steps = -(-(at - day) // SWEEP_EVERY)  # ceiling division of timedeltas
    return day + steps * SWEEP_EVERY
