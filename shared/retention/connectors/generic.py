"""The generic webhook: for a shop on any other platform, the engine's own events over HTTPS.

Body: ``{"type": "<detail-type>", "detail": {...}}`` with the detail exactly as on the bus
(README, "Events the engine accepts"), signed as signature.verify_generic describes. A type
the engine does not take is ignored (202), like an unknown topic of a platform.
"""

from __future__ import annotations

from typing import Any

from retention.connectors.payload import Ignored, Malformed, Mapped

PLATFORM = "generic"
TYPES = frozenset(
    {
        "OrderPlaced",
        "OrderCancelled",
        "OrderRefunded",
        "CustomerRegistered",
        "CustomerUpdated",
        "CustomerDeleted",
        "CustomerReferred",
    }
)


def map_webhook(payload: Any) -> list[Mapped]:
    if not isinstance(payload, dict):
        raise Malformed("body", "not a JSON object")
    kind = payload.get("type")
    if not isinstance(kind, str) or not kind:
        raise Malformed("type")
    if kind not in TYPES:
        raise Ignored(f"type {kind[:60]!r} has no engine event")
    detail = payload.get("detail")
    if not isinstance(detail, dict):
        raise Malformed("detail", "missing or not an object")
    return [Mapped(kind, detail)]
