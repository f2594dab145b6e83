"""DynamoDB requests per shop event, and handler cold-import time against ``import boto3``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Row
from retention import clock
from retention.store import dynamo
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.metering import RequestCounter
from retention_tools.local.runtime import invoke, load_function

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _body(order_id: str, customer_id: str, at: datetime) -> dict:
    return {
        "id": f"e-{order_id}",
        "source": "shop.orders",
        "time": at.isoformat(),
        "detail-type": "OrderPlaced",
        "detail": {
            "order_id": order_id,
            "customer_id": customer_id,
            "email": f"{customer_id}@example.com",
            "placed_at": at.isoformat(),
            "currency": "EUR",
            "total": "25.00",
            "items": [{"sku": "S1", "category": "coffee-beans", "price": "25.00", "qty": 1}],
        },
    }


def _batch(bodies: list[dict]) -> dict:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": "r",
                "body": json.dumps(b),
                "attributes": {},
                "messageAttributes": {},
            }
            for n, b in enumerate(bodies)
        ]
    }


def requests_per_order(samples: int = 200) -> list[Row]:
    handler = load_function("order_ingest").handler
    counts: dict[str, float] = {}
    with EmbeddedAws(stage="bench-ingest"), clock.frozen_at(T0 + timedelta(days=400)):
        for label, make in (
            ("first order of a customer", lambda n: _body(f"A{n}", f"C{n}", T0)),
            ("repeat order of a customer", lambda n: _body(f"B{n}", f"C{n}", T0 + timedelta(days=30))),
            ("duplicate delivery", lambda n: _body(f"B{n}", f"C{n}", T0 + timedelta(days=30))),
        ):
            counter = RequestCounter()
            with counter.watching(dynamo.client()):
                for start in range(0, samples, 10):
                    invoke(handler, _batch([make(n) for n in range(start, start + 10)]))
            counts[label] = counter.total / samples
    method = (
        f"botocore before-call hook on the DynamoDB client, {samples} events in SQS batches of 10, embedded AWS"
        " (the first event of a container also reads the population statistics, then cached for an hour)"
    )
    return [
        Row(f"DynamoDB requests per order event ({label})", f"{value:.3f}", method) for label, value in counts.items()
    ]


def run() -> list[Row]:
    return requests_per_order()
