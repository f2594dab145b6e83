"""Publishing the engine's own events (models/engine_events.py) to EventBridge."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import boto3

from retention.models.engine_events import ENGINE_SOURCE, EngineEvent
from retention.store.dynamo import RETRY_CONFIG


@cache
def client() -> Any:
    return boto3.client("events", config=RETRY_CONFIG)


class PublishFailed(RuntimeError):
    """EventBridge refused entries even after a retry; the caller's work is retried later."""


def publish(bus_name: str, events: Sequence[EngineEvent]) -> int:
    """Put events, ten per request; entries EventBridge rejects are retried once, then raised."""
    sent = 0
    for start in range(0, len(events), 10):
        entries = [
            {
                "Source": ENGINE_SOURCE,
                "DetailType": event.detail_type,
                "Detail": json.dumps(event.detail_json()),
                "EventBusName": bus_name,
                "Time": event.time,
            }
            for event in events[start : start + 10]
        ]
        for _ in range(2):
            response = client().put_events(Entries=entries)
            failed = [
                entry for entry, result in zip(entries, response["Entries"], strict=True) if "ErrorCode" in result
            ]
            if not failed:
                break
            entries = failed
        else:
            raise PublishFailed(f"EventBridge rejected {len(entries)} entries")
        sent += len(events[start : start + 10])
    return sent
