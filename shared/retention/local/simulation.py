"""The scheduled functions and the journey queue, driven by the simulated clock of a replay.

In AWS, EventBridge Scheduler runs the sweep every 15 minutes and the statistics job once a
day, and the journey queue feeds the dispatcher continuously. A replay steps through days, so
it runs the sweep once per simulated day at ``SWEEP_HOURS`` (13:00 UTC: every customer zone of
the demo, New York to Tashkent, is awake then, so what quiet hours deferred overnight goes out)
and drains the journey queue after a sweep that published events and after each day's orders.
A sweep costs a handful of requests however little is due, and the emulator's requests are
what the simulation's run time is made of: a sweep every 15 minutes would change no outcome
here (timers are bucketed per day in simulations, see ``DAY_STEPPED_TIMERS``), only the wait.
The statistics job runs at the end of the first day and then every ``stats_every_days``
(default 30: its full-table Scan is the one O(customers) job, the emulator's Scan is slow, and
RFM cut points move slowly). Everything goes through the real handlers.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from retention import clock
from retention.local.embedded import EmbeddedAws
from retention.local.runtime import QueueDriver, invoke, load_function

DAY_STEPPED_TIMERS = {"TIMER_BUCKET_HOURS": "24", "TIMER_SHARDS": "2", "STATS_SCAN_SEGMENTS": "1"}
"""Timer layout for simulations that sweep a few times per simulated day (see TimerLayout)."""

SWEEP_HOURS = (13,)


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
    """Runs statistics and sweeps per simulated day, drains the journey queue, tallies what fired.

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

    def day_start(self, day: datetime) -> None:
        """The day's sweeps (each followed by the emails they trigger)."""
        for hour in SWEEP_HOURS:
            at = day + timedelta(hours=hour)
            with clock.frozen_at(at):
                if self._sweep(at):  # nothing published, nothing for the journey queue
                    self._drain()

    def __call__(self, day_end: datetime) -> None:
        """After the day's orders: the journeys they trigger, then the statistics job when due."""
        self._drain()
        if self.days % self.stats_every_days == 0:
            invoke(load_function("segment_stats").handler, scheduled_event(day_end, "segment-stats"))
            self.stats_runs += 1
        self.days += 1

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
