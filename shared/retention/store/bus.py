"""Publishing to EventBridge: the engine's own events (models/engine_events.py), and the shop
events the webhook endpoint maps from a platform's payload (source: the shop's, so the ingest
rule takes them exactly as if the shop had called PutEvents itself)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
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
    entries = [
        {
            "Source": ENGINE_SOURCE,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail_json()),
            "EventBusName": bus_name,
            "Time": event.time,
        }
        for event in events
    ]
    return _put(entries)


def publish_shop_events(bus_name: str, source: str, events: Sequence[tuple[str, dict[str, Any]]], at: datetime) -> int:
    """Put validated shop events ``(detail-type, detail as JSON)`` with the shop's ``source``."""
    entries = [
        {"Source": source, "DetailType": kind, "Detail": json.dumps(detail), "EventBusName": bus_name, "Time": at}
        for kind, detail in events
    ]
    return _put(entries)


def _put(all_entries: list[dict[str, Any]]) -> int:
    sent = 0
    for start in range(0, len(all_entries), 10):
        entries = all_entries[start : start + 10]
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
        sent += len(all_entries[start : start + 10])
    return sent
