"""Small builders for events and profiles, so tests state only what matters to them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from retention.models.events import OrderPlaced, ShopEventAdapter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def order_detail(
    order_id: str = "O1",
    customer_id: str = "C1",
    placed_at: datetime | str = T0,
    total: str = "20.00",
    category: str = "coffee-beans",
    **extra: Any,
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "email": f"{customer_id.lower()}@example.com",
        "name": "Leyla Mammadova",
        "placed_at": placed_at if isinstance(placed_at, str) else placed_at.isoformat(),
        "currency": "EUR",
        "total": total,
        "items": [{"sku": "SKU-1", "name": "Beans", "category": category, "price": total, "qty": 1}],
        "marketing_consent": True,  # opted in at checkout: tests about consent itself say otherwise
    }
    detail.update(extra)
    return detail


def order(**kwargs: Any) -> OrderPlaced:
    return OrderPlaced.model_validate(order_detail(**kwargs))


def envelope(detail_type: str, detail: dict[str, Any], event_id: str = "e-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "shop.orders",
        "account": "123456789012",
        "time": "2026-03-01T12:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def shop_event(detail_type: str, detail: dict[str, Any], event_id: str = "e-1") -> Any:
    return ShopEventAdapter.validate_python(envelope(detail_type, detail, event_id))


def money(value: str) -> Decimal:
    return Decimal(value)


def shop_event_is_valid(event: Any) -> bool:
    """Whether a generated history event passes the ingest's validation (malformed ones must not)."""
    from pydantic import ValidationError

    from retention.models.events import ShopEventAdapter

    envelope = {"id": "x", "source": event.source, "time": event.time, "detail-type": event.detail_type}
    try:
        ShopEventAdapter.validate_python({**envelope, "detail": event.detail})
    except ValidationError:
        return False
    return True


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    """One SQS message as the event source mapping hands it to a handler."""
    return {
        "messageId": message_id,
        "receiptHandle": f"r-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q",
        "awsRegion": "eu-west-1",
    }
