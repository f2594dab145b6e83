"""Duplicate-delivery soak on the embedded AWS: the chaotic run ends exactly where the clean one does.

Clean run: a generated history replayed through the real handlers, every message delivered
once. Chaotic run, same history: 2 % extra malformed events, every SQS message (ingest and
journey queues) delivered 1–3 times in shuffled batches, and 5 % of DynamoDB and SES requests
answered with throttling errors (botocore's retries must absorb them). At the end:

* every profile equals the clean run's (duplicates never double-count),
* the emails sent are the same set, each (customer, journey, cycle, step) at most once,
* every malformed event is in the ingest dead-letter queue, its reason logged,
* nothing else is dead-lettered: no event lost.

Size: ``SOAK_CUSTOMERS`` customers over ``SOAK_DAYS`` days (``make test``: 30 customers,
120 days; ``make soak``: 20,000 customers, a year). Bounded: loopback only, no sleeps.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest

from retention.local.chaos import ChaosQueueDriver, throttling
from retention.local.embedded import EmbeddedAws
from retention.local.history import HISTORY_START, ShopEventRecord, _malformed, generate_history
from retention.local.outbox import sent_count, sent_mail
from retention.local.replay import queue_depth, replay
from retention.local.simulation import DAY_STEPPED_TIMERS, ScheduledJobs
from retention.observability import logger
from retention.settings import settings
from retention.store.customers import CustomerStore

CUSTOMERS = int(os.environ.get("SOAK_CUSTOMERS", "30"))
DAYS = int(os.environ.get("SOAK_DAYS", "120"))
SEED = 21


@dataclass
class Outcome:
    profiles: dict[str, dict]
    message_ids: list[str]
    ingest_dead_letters: int
    journey_dead_letters: int
    deliveries: int = 0
    throttled: int = 0


def _history() -> tuple[list[ShopEventRecord], list[ShopEventRecord]]:
    events = [e for e in generate_history(customers=CUSTOMERS, seed=SEED) if e.time < HISTORY_START + timedelta(DAYS)]
    rng = random.Random(SEED)
    bad = [_malformed(rng, replace(e, detail=dict(e.detail))) for e in rng.sample(events, k=max(1, len(events) // 50))]
    return events, bad


def _with_progress(jobs: ScheduledJobs, stage: str) -> Callable[[datetime], None]:
    """The day's jobs, and a line every 30 simulated days (seen with ``-s``: the full soak runs for hours)."""

    def day_end(at: datetime) -> None:
        jobs(at)
        if jobs.days % 30 == 0:
            print(f"{stage}: day {jobs.days}, {jobs.dispatcher_invocations} dispatcher invocations", flush=True)

    return day_end


def _run(events: list[ShopEventRecord], chaos: bool, stage: str) -> Outcome:
    drivers: list[ChaosQueueDriver] = []

    def chaotic_driver(aws: EmbeddedAws, queue: str, function: str) -> ChaosQueueDriver:
        drivers.append(ChaosQueueDriver(aws, queue, function, seed=SEED))
        return drivers[-1]

    kwargs = {"driver": chaotic_driver} if chaos else {}
    with EmbeddedAws(stage=stage, env=DAY_STEPPED_TIMERS) as aws:
        first = sent_count()
        jobs = ScheduledJobs(aws=aws, **kwargs)
        share = 0.05 if chaos else 0.0
        with throttling(("dynamodb", "sesv2"), share, seed=SEED) as injected:
            day_end = _with_progress(jobs, stage)
            replay(aws, events, seed=SEED, on_day_end=day_end, on_day_start=jobs.day_start, **kwargs)
        profiles = {
            p.customer_id: p.model_dump(exclude={"version", "updated_at"}, mode="json")
            for p in CustomerStore(settings().customers_table).scan_profiles()
        }
        ids = [m.message_id for m in sent_mail(first)]
        return Outcome(
            profiles,
            ids,
            queue_depth(aws, "IngestDeadLetterQueue"),
            queue_depth(aws, "JourneyDeadLetterQueue"),
            deliveries=sum(d.deliveries for d in drivers),
            throttled=injected["throttled"],
        )


def test_chaotic_delivery_ends_where_clean_delivery_does(caplog: pytest.LogCaptureFixture) -> None:
    events, bad = _history()
    clean = _run(events, chaos=False, stage="soak-clean")
    # the rejections are logged at WARNING: capture them whatever POWERTOOLS_LOG_LEVEL says
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.WARNING, logger=logger.name)
    chaotic = _run(sorted(events + bad, key=lambda e: e.time), chaos=True, stage="soak-chaos")

    assert chaotic.throttled > 0
    assert chaotic.deliveries > len(events) + len(clean.message_ids)  # messages really came more than once
    assert chaotic.profiles == clean.profiles
    assert len(chaotic.message_ids) == len(set(chaotic.message_ids))  # each (customer, journey, cycle, step) once
    assert sorted(chaotic.message_ids) == sorted(clean.message_ids)  # and none lost
    assert chaotic.ingest_dead_letters == len(bad)
    assert clean.ingest_dead_letters == 0 and clean.journey_dead_letters == chaotic.journey_dead_letters == 0
    reasons = [r for r in caplog.records if r.getMessage() == "rejected shop event"]
    assert len({getattr(r, "reason", "") for r in reasons}) >= 1 and len(reasons) >= len(bad)
    print(
        f"\nsoak: {CUSTOMERS} customers, {DAYS} days, {len(events)} events + {len(bad)} malformed; "
        f"{len(clean.message_ids)} emails each run; {chaotic.deliveries} SQS deliveries in the chaotic run; "
        f"{chaotic.throttled} throttling errors absorbed; "
        f"dead-lettered {chaotic.ingest_dead_letters}"
    )
