"""Faults for the soak test: at-least-once delivery made visible, and throttling injected.

:class:`ChaosQueueDriver` plays an SQS event source at its worst: each received message is
handed to the handler one to three times, in shuffled batches, so duplicates arrive in other
invocations and out of order. A message counts as processed when any of its deliveries
succeeded; one whose deliveries all failed becomes visible again (and, after the queue's
``maxReceiveCount``, lands in its dead-letter queue).

:func:`throttling` answers a share of the chosen services' requests with their throttling error
before the emulator applies them (:func:`retention_tools.local.embedded.faults`), so the
clients' standard retry mode has to absorb them, as it would in AWS.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from botocore.awsrequest import AWSResponse

from retention_tools.local.embedded import EmbeddedAws, faults
from retention_tools.local.runtime import DrainStats, QueueDriver

THROTTLE = {
    "dynamodb": (400, "ThrottlingException", b'{"__type":"ThrottlingException","message":"Rate exceeded"}'),
    "sesv2": (429, "TooManyRequestsException", b'{"message":"Maximum sending rate exceeded."}'),
}


class ChaosQueueDriver(QueueDriver):
    def __init__(self, aws: EmbeddedAws, queue_logical_id: str, function: str, seed: int = 13) -> None:
        super().__init__(aws, queue_logical_id, function)
        self.rng = random.Random(f"{seed}:{queue_logical_id}")
        self.deliveries = 0

    def deliver(self, messages: list[dict[str, Any]], stats: DrainStats) -> set[str]:
        """Each message 1–3 times, shuffled into batches; it failed only if every copy failed."""
        copies = [m for m in messages for _ in range(self.rng.randint(1, 3))]
        self.rng.shuffle(copies)
        succeeded: set[str] = set()
        for start in range(0, len(copies), self.batch_size):
            batch = copies[start : start + self.batch_size]
            failed = super().deliver(batch, stats)
            self.deliveries += len(batch)
            succeeded |= {m["MessageId"] for m in batch if m["MessageId"] not in failed}
        return {m["MessageId"] for m in messages} - succeeded


@contextmanager
def throttling(services: Iterable[str], share: float, seed: int = 17) -> Iterator[dict[str, int]]:
    """Answer ``share`` of the requests to ``services`` (botocore service names) with that service's
    throttling error before the emulator applies them, and skip botocore's back-off sleeps (no
    wall-clock waits in tests)."""
    import botocore.endpoint

    rng = random.Random(seed)
    chosen = set(services)
    injected = {"requests": 0, "throttled": 0}

    def throttle(event_name: str, request: Any) -> AWSResponse | None:
        service = event_name.split(".")[1] if event_name.count(".") >= 1 else ""
        if service not in chosen:
            return None
        injected["requests"] += 1
        if rng.random() >= share:
            return None
        injected["throttled"] += 1
        status, code, body = THROTTLE[service]
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
        response = AWSResponse("https://throttled.local", status, headers, SimpleNamespace())
        response._content = body
        return response

    saved_time = botocore.endpoint.time
    botocore.endpoint.time = SimpleNamespace(sleep=lambda _seconds: None, time=saved_time.time)  # type: ignore[assignment]
    try:
        with faults(throttle):
            yield injected
    finally:
        botocore.endpoint.time = saved_time  # type: ignore[assignment]
