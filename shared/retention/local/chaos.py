"""Faults for the soak test: at-least-once delivery made visible, and throttling injected.

:class:`ChaosQueueDriver` plays an SQS event source at its worst: each received message is
handed to the handler one to three times, in shuffled batches, so duplicates arrive in other
invocations and out of order. A message counts as processed when any of its deliveries
succeeded; one whose deliveries all failed becomes visible again (and, after the queue's
``maxReceiveCount``, lands in its dead-letter queue).

:func:`throttling` answers a share of the chosen services' requests with their throttling error
before they leave botocore (a ``before-send`` hook), so the clients' standard retry mode has to
absorb them, as it would in AWS.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from botocore.awsrequest import AWSResponse

from retention.local.embedded import EmbeddedAws
from retention.local.runtime import DrainStats, QueueDriver

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
def throttling(clients: dict[str, Any], share: float, seed: int = 17) -> Iterator[dict[str, int]]:
    """Answer ``share`` of the requests of ``clients`` (service name → client) with that service's
    throttling error, and skip botocore's back-off sleeps (no wall-clock waits in tests)."""
    import botocore.endpoint

    rng = random.Random(seed)
    injected = {"requests": 0, "throttled": 0}
    hooks = []
    for service, client in clients.items():
        status, code, body = THROTTLE[service]

        def before_send(_status: int = status, _code: str = code, _body: bytes = body, **_: Any) -> Any:
            injected["requests"] += 1
            if rng.random() >= share:
                return None
            injected["throttled"] += 1
            headers = {"x-amzn-ErrorType": _code, "Content-Type": "application/x-amz-json-1.0"}
            response = AWSResponse("https://throttled.local", _status, headers, SimpleNamespace())
            response._content = _body
            return response

        client.meta.events.register(f"before-send.{service}", before_send)
        hooks.append((client, service, before_send))
    saved_time = botocore.endpoint.time
    botocore.endpoint.time = SimpleNamespace(sleep=lambda _seconds: None, time=saved_time.time)  # type: ignore[assignment]
    try:
        yield injected
    finally:
        botocore.endpoint.time = saved_time  # type: ignore[assignment]
        for client, service, hook in hooks:
            client.meta.events.unregister(f"before-send.{service}", hook)
