"""One webhook delivery, from raw request to published shop events (functions/shop_webhook).

Order of checks, so nothing reaches the bus unverified: unknown platform (404), signature over
the raw body (401), JSON (400), topic (202 if the engine has no event for it), mapping (400
naming the field, 202 for a state with no event), every mapped event validated by the event
models (400 naming the field) — and only then one PutEvents with the shop's source. The
ingest behind the bus applies each event once (order, refund and update ids), so a platform's
retry or a replayed Shopify/WooCommerce delivery changes nothing twice; the webhook id the
platforms send is logged for tracing, not used (a PutEvents entry has no caller-chosen id).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from retention.connectors import generic, shopify, signature, woocommerce
from retention.connectors.payload import Ignored, Malformed, Mapped
from retention.models.events import (
    CustomerDeleted,
    CustomerReferred,
    CustomerRegistered,
    CustomerUpdated,
    OrderCancelled,
    OrderPlaced,
    OrderRefunded,
)
from retention.store.bus import PublishFailed
from retention.validation import InvalidEvent, describe, load_json

PLATFORMS = ("shopify", "woocommerce", "generic")
DETAIL_MODELS: dict[str, type[BaseModel]] = {
    "OrderPlaced": OrderPlaced,
    "OrderCancelled": OrderCancelled,
    "OrderRefunded": OrderRefunded,
    "CustomerRegistered": CustomerRegistered,
    "CustomerUpdated": CustomerUpdated,
    "CustomerDeleted": CustomerDeleted,
    "CustomerReferred": CustomerReferred,
}
_WOO_PING = re.compile(rb"^webhook_id=\d{1,20}$")

Publish = Callable[[list[tuple[str, dict[str, Any]]]], None]


@dataclass(frozen=True)
class Delivery:
    platform: str
    headers: Mapping[str, str]
    """Lower-cased names (an HTTP API v2 event already has them so)."""
    body: bytes | None
    """The raw body as the platform signed it (:func:`raw_body`); None when it could not be decoded."""


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: str
    """``published``, ``ignored``, ``refused``, ``invalid``, ``unknown-platform``, ``ping`` or ``retry-later``."""
    reason: str = ""
    published: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"outcome": self.outcome, **({"reason": self.reason} if self.reason else {}), "events": self.published}


def raw_body(text: str | None, encoded: bool) -> bytes | None:
    """The bytes the platform signed: API Gateway base64-encodes a body it does not take for text."""
    if not encoded:
        return (text or "").encode()
    try:
        return base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError):
        return None


def receive(
    delivery: Delivery,
    secrets: Callable[[], Mapping[str, Any]],
    links: shopify.OrderLinks,
    publish: Publish,
    now: datetime,
) -> Answer:
    if delivery.platform not in PLATFORMS:
        return Answer(
            404, "unknown-platform", f"no connector for {delivery.platform[:40]!r}; try {', '.join(PLATFORMS)}"
        )
    body, headers = delivery.body, delivery.headers
    if body is None:
        return Answer(400, "invalid", "body is not base64")
    unsigned = woocommerce.SIGNATURE_HEADER not in headers
    if delivery.platform == "woocommerce" and unsigned and _WOO_PING.match(body):
        return Answer(200, "ping", "WooCommerce ping received; nothing published")  # sent when a webhook is saved
    try:
        _verify(delivery.platform, headers, body, secrets().get(delivery.platform), now)
    except signature.BadSignature as exc:
        return Answer(401, "refused", str(exc))
    try:
        payload = load_json(body.decode("utf-8"))
        mapped = _map(delivery, payload, links)
        events = [_validated(event) for event in mapped]
    except UnicodeDecodeError:
        return Answer(400, "invalid", "body is not UTF-8")
    except (InvalidEvent, Malformed) as exc:
        return Answer(400, "invalid", describe(exc))
    except Ignored as exc:
        return Answer(202, "ignored", str(exc))
    try:
        publish(events)
    except PublishFailed as exc:  # the platform retries a 5xx; the ingest applies each event once
        return Answer(503, "retry-later", str(exc))
    return Answer(200, "published", published=[kind for kind, _ in events])


def _verify(platform: str, headers: Mapping[str, str], body: bytes, secret: Any, now: datetime) -> None:
    if platform == "shopify":
        signature.verify_body_hmac(secret, body, headers.get(shopify.SIGNATURE_HEADER))
    elif platform == "woocommerce":
        signature.verify_body_hmac(secret, body, headers.get(woocommerce.SIGNATURE_HEADER))
    else:
        stamp, signed = headers.get(signature.GENERIC_TIMESTAMP), headers.get(signature.GENERIC_SIGNATURE)
        signature.verify_generic(secret, body, stamp, signed, now)


def _map(delivery: Delivery, payload: Any, links: shopify.OrderLinks) -> list[Mapped]:
    if delivery.platform == "generic":
        return generic.map_webhook(payload)
    header = shopify.TOPIC_HEADER if delivery.platform == "shopify" else woocommerce.TOPIC_HEADER
    topic = delivery.headers.get(header, "").strip()
    if not topic:
        raise Malformed(header, "topic header missing")
    if delivery.platform == "shopify":
        return shopify.map_webhook(topic, payload, links)
    return woocommerce.map_webhook(topic, payload)


def _validated(event: Mapped) -> tuple[str, dict[str, Any]]:
    """The event as the ingest will read it, or :class:`InvalidEvent` naming the field."""
    try:
        detail = DETAIL_MODELS[event.detail_type].model_validate(event.detail)
    except ValidationError as exc:
        raise InvalidEvent(f"{event.detail_type}: {describe(exc)}") from exc
    return event.detail_type, detail.model_dump(mode="json", exclude_none=True)
