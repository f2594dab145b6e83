"""The duplicate-delivery soak: the same history replayed clean and chaotic, side by side.

Clean run: a generated history replayed through the real handlers, every message delivered
once. Chaotic run, same history: 2 % extra malformed events, every SQS message (ingest and
journey queues) delivered 1–3 times in shuffled batches, and 5 % of DynamoDB and SES requests
answered with throttling errors (botocore's retries must absorb them). The two runs share
nothing, so each runs in a process of its own with its own embedded AWS: on two cores the soak
takes as long as its slower run, not the sum of both.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta

from retention_tools.local.chaos import ChaosQueueDriver, throttling
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.history import HISTORY_START, ShopEventRecord, generate_history, malform
from retention_tools.local.outbox import sent_count, sent_mail
from retention_tools.local.replay import queue_depth, replay
from retention_tools.local.simulation import SIMULATION_TIMERS, ScheduledJobs

REJECTION = "rejected shop event"


@dataclass
class SoakRun:
    """What one run ended with (profiles without their bookkeeping fields)."""

    profiles: dict[str, dict]
    message_ids: list[str]
    ingest_dead_letters: int
    journey_dead_letters: int
    deliveries: int = 0
    throttled: int = 0
    rejection_reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    described: dict[str, str] = field(default_factory=dict)
    """Message id → date, template and recipient: what a differing email was, when runs disagree."""


def soak_history(customers: int, days: int, seed: int) -> tuple[list[ShopEventRecord], list[ShopEventRecord]]:
    """The history's first ``days`` days, and the malformed copies (2 %) the chaotic run adds."""
    events = [e for e in generate_history(customers=customers, seed=seed) if e.time < HISTORY_START + timedelta(days)]
    rng = random.Random(seed)
    bad = [malform(rng, replace(e, detail=dict(e.detail))) for e in rng.sample(events, k=max(1, len(events) // 50))]
    return events, bad


class _Rejections(logging.Handler):
    """Collects the reasons the ingest handler logs for the events it refuses."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == REJECTION:
            self.reasons.append(str(getattr(record, "reason", "")))


def run_soak(customers: int, days: int, seed: int, chaos: bool, progress: bool = False) -> SoakRun:
    """One run (clean or chaotic) on an embedded AWS of its own."""
    from retention.observability import logger
    from retention.settings import settings
    from retention.store.customers import CustomerStore

    started = time.monotonic()
    events, bad = soak_history(customers, days, seed)
    if chaos:
        events = sorted(events + bad, key=lambda e: e.time)
    drivers: list[ChaosQueueDriver] = []

    def chaotic_driver(aws: EmbeddedAws, queue: str, function: str) -> ChaosQueueDriver:
        drivers.append(ChaosQueueDriver(aws, queue, function, seed=seed))
        return drivers[-1]

    kwargs = {"driver": chaotic_driver} if chaos else {}
    rejections = _Rejections()
    engine_log = logging.getLogger(logger.name)
    level = engine_log.level
    # The rejections are collected whatever POWERTOOLS_LOG_LEVEL says, but printed only if it asks.
    quieted = [(handler, handler.level) for handler in engine_log.handlers]
    for handler, handler_level in quieted:
        handler.setLevel(max(handler_level, level))
    engine_log.addHandler(rejections)
    engine_log.setLevel(min(level or logging.WARNING, logging.WARNING))
    stage = "soak-chaos" if chaos else "soak-clean"
    try:
        with EmbeddedAws(stage=stage, env=SIMULATION_TIMERS) as aws:
            first = sent_count()
            jobs = ScheduledJobs(aws=aws, **kwargs)
            with throttling(("dynamodb", "sesv2"), 0.05 if chaos else 0.0, seed=seed) as injected:
                replay(aws, events, jobs=jobs, seed=seed, progress=stage if progress else None, **kwargs)
            profiles = {
                p.customer_id: p.model_dump(exclude={"version", "updated_at"}, mode="json")
                for p in CustomerStore(settings().customers_table).scan_profiles()
            }
            mails = list(sent_mail(first))
            return SoakRun(
                profiles=profiles,
                message_ids=[m.message_id for m in mails],
                described={m.message_id: f"{m.message['Date']} {m.template} to {m.message['To']}" for m in mails},
                ingest_dead_letters=queue_depth(aws, "IngestDeadLetterQueue"),
                journey_dead_letters=queue_depth(aws, "JourneyDeadLetterQueue"),
                deliveries=sum(d.deliveries for d in drivers),
                throttled=injected["throttled"],
                rejection_reasons=rejections.reasons,
                seconds=time.monotonic() - started,
            )
    finally:
        engine_log.removeHandler(rejections)
        engine_log.setLevel(level)
        for handler, handler_level in quieted:
            handler.setLevel(handler_level)


def run_both(customers: int, days: int, seed: int, progress: bool = False) -> tuple[SoakRun, SoakRun]:
    """The clean and the chaotic run, each in a fresh process (spawned: no state inherited)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        clean = pool.submit(run_soak, customers, days, seed, False, progress)
        chaotic = pool.submit(run_soak, customers, days, seed, True, progress)
        return clean.result(), chaotic.result()
