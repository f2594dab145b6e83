"""The scheduled functions, driven by the simulated clock of a replay.

In AWS, EventBridge Scheduler runs the sweep every 15 minutes and the statistics job once a
day. A replay steps through days, so it runs one sweep at the end of each simulated day and
the statistics job at the end of the first simulated day and then every ``stats_every_days``
(default 30: its full-table Scan is the one O(customers) job, the emulator's Scan is slow, and
RFM cut points move slowly) — through the real handlers, with a scheduled-event payload.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from retention.local.runtime import invoke, load_function

DAY_STEPPED_TIMERS = {"TIMER_BUCKET_HOURS": "24", "TIMER_SHARDS": "2", "STATS_SCAN_SEGMENTS": "1"}
"""Timer layout for simulations that sweep once per simulated day (see TimerLayout)."""


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
    """Runs statistics and sweep per simulated day and tallies what the sweeps fired."""

    stats_every_days: int = 30
    fired: Counter[str] = field(default_factory=Counter)
    sweeps: int = 0
    stats_runs: int = 0
    events: int = 0

    def __call__(self, day_end: datetime) -> None:
        if self.sweeps % self.stats_every_days == 0:
            invoke(load_function("segment_stats").handler, scheduled_event(day_end, "segment-stats"))
            self.stats_runs += 1
        result = invoke(load_function("timer_sweep").handler, scheduled_event(day_end, "timer-sweep"))
        self.sweeps += 1
        self.fired.update(result["fired"])
        self.events += result["events"]
