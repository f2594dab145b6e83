"""A small local Lambda runtime: load a handler from ``functions/``, feed it SQS batches.

:class:`QueueDriver` plays the role of the SQS event source mapping: it receives up to ten
messages, invokes the handler with the real SQS event shape, deletes what succeeded and
makes failed messages visible again at once, so the queue's redrive policy (from
template.yaml) moves a message to its dead-letter queue after ``maxReceiveCount`` tries.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

from retention_tools.local.embedded import ACCOUNT, REGION, EmbeddedAws, request_lock
from retention_tools.local.template import REPO_ROOT

# A local invocation that recorded no metric (a duplicate, a 404) is normal; Powertools warns on each.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@cache
def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (every folder has an ``app``)."""
    path = REPO_ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{name}_app", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeLambdaContext:
    function_name: str = "local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def invoke(handler: Any, event: dict[str, Any]) -> Any:
    """Call a handler as Lambda would, one invocation with a fresh context."""
    try:
        return handler(event, FakeLambdaContext())
    finally:
        # With POWERTOOLS_METRICS_DISABLED, Powertools skips the flush and so never clears its
        # buffer; a real invocation flushes it. Clear it so a long replay does not accumulate.
        from retention.observability import metrics

        metrics.clear_metrics()


def sqs_event(messages: Iterable[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Messages from ``ReceiveMessage`` in the shape the SQS event source gives a Lambda."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


@dataclass
class DrainStats:
    invocations: int = 0
    succeeded: int = 0
    failed_attempts: int = 0


class QueueDriver:
    """Delivers a queue's messages to a handler until the queue is empty.

    It plays Lambda's own poller (the event source mapping), which is AWS's code, not ours: it
    takes messages from the emulator's SQS queue directly instead of through ``ReceiveMessage``
    requests, with the same semantics (visibility, receive counts, the redrive policy moving a
    message to its dead-letter queue after ``maxReceiveCount`` receives).
    """

    def __init__(self, aws: EmbeddedAws, queue_logical_id: str, function: str, batch_size: int = 10) -> None:
        self.queue_url = aws.resources.queues[queue_logical_id]
        self.queue_name = self.queue_url.rsplit("/", 1)[-1]
        self.queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.queue_name}"
        self.handler = load_function(function).handler
        self.batch_size = batch_size

    def drain(self, max_batches: int = 1_000_000) -> DrainStats:
        stats = DrainStats()
        for _ in range(max_batches):
            messages = self._receive()
            if not messages:
                break
            failed = self.deliver(messages, stats)
            done = [m for m in messages if m["MessageId"] not in failed]
            retry = [m for m in messages if m["MessageId"] in failed]
            stats.succeeded += len(done)
            stats.failed_attempts += len(retry)
            # Deleted when the handler succeeded; failed ones visible again at once, so after
            # maxReceiveCount receives the redrive policy moves them to the dead-letter queue.
            self._settle(done, retry)
            if not retry and len(messages) < self.batch_size:
                break  # the emulator hands out every visible message: a short batch emptied the queue
        return stats

    def deliver(self, messages: list[dict[str, Any]], stats: DrainStats) -> set[str]:
        """Hand received messages to the handler as the event source does (one invocation);
        returns the ids of those that failed. Subclasses deliver differently (see chaos)."""
        stats.invocations += 1
        response = invoke(self.handler, sqs_event(messages, self.queue_arn))
        return {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}

    def _receive(self) -> list[dict[str, Any]]:
        backend = _sqs_backend()
        with request_lock:
            visibility = int(backend.get_queue(self.queue_name).visibility_timeout)
            received = backend.receive_message(self.queue_name, self.batch_size, 0, visibility)
            return [
                {
                    "MessageId": message.id,
                    "ReceiptHandle": message.receipt_handle,
                    "Body": message.body,
                    "Attributes": {
                        "ApproximateReceiveCount": str(message.approximate_receive_count),
                        "SentTimestamp": str(message.sent_timestamp),
                        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
                    },
                }
                for message in received
            ]

    def _settle(self, done: list[dict[str, Any]], retry: list[dict[str, Any]]) -> None:
        backend = _sqs_backend()
        with request_lock:
            for message in done:
                backend.delete_message(self.queue_name, message["ReceiptHandle"])
            for message in retry:
                backend.change_message_visibility(self.queue_name, message["ReceiptHandle"], 0)


def _sqs_backend() -> Any:
    from moto.sqs.models import sqs_backends  # the embedded AWS runs in this process

    return sqs_backends[ACCOUNT][REGION]


def put_events(aws: EmbeddedAws, entries: Iterable[tuple[str, str, dict[str, Any], datetime]], bus: str) -> int:
    """Publish ``(source, detail_type, detail, time)`` entries to an event bus, ten per call."""
    events = aws.client("events")
    batch: list[dict[str, Any]] = []
    sent = 0

    def flush() -> None:
        nonlocal sent
        if batch:
            response = events.put_events(Entries=batch)
            if response.get("FailedEntryCount"):
                raise RuntimeError(f"EventBridge rejected {response['FailedEntryCount']} entries")
            sent += len(batch)
            batch.clear()

    for source, detail_type, detail, time in entries:
        batch.append(
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, default=str),
                "EventBusName": bus,
                "Time": time,
            }
        )
        if len(batch) == 10:
            flush()
    flush()
    return sent
