"""Request signatures of the shop platforms, checked over the raw body in constant time.

Shopify (``X-Shopify-Hmac-Sha256``) and WooCommerce (``X-WC-Webhook-Signature``) both send the
base64 HMAC-SHA256 of the raw body. Neither signs a time, so a captured delivery can be sent
again: that is harmless because every event they map to is applied once (order, refund and
update ids, models/events.py). The generic scheme signs ``"<timestamp>.<body>"`` (as Stripe
does) and refuses a timestamp outside :data:`TOLERANCE`, so a captured request cannot be
replayed later.

A platform's secret may be one string or a list of strings (any one verifies: rotate by adding
the new secret, switching the shop, then removing the old one). A secret shorter than
:data:`MIN_SECRET_LENGTH` — the empty placeholder of a platform not configured yet — verifies
nothing: an HMAC with a known key proves nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

TOLERANCE = timedelta(minutes=5)
MIN_SECRET_LENGTH = 16
GENERIC_TIMESTAMP = "x-retention-timestamp"
GENERIC_SIGNATURE = "x-retention-signature"
GENERIC_VERSION = "v1"


class BadSignature(Exception):
    """The request is not proven to come from the shop: 401, nothing published."""


def usable_secrets(secret: str | Sequence[str] | None) -> list[bytes]:
    values = [secret] if isinstance(secret, str) else list(secret or [])
    return [v.encode() for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH]


def body_hmac_base64(secret: bytes, body: bytes) -> str:
    """What Shopify and WooCommerce put in their signature header for ``body``."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def verify_body_hmac(secret: str | Sequence[str] | None, body: bytes, header: str | None) -> None:
    """Shopify's and WooCommerce's scheme: ``header`` is base64(HMAC-SHA256(secret, body))."""
    keys = usable_secrets(secret)
    if not keys:
        raise BadSignature("no secret is configured for this platform")
    if not header:
        raise BadSignature("signature header missing")
    try:
        sent = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("signature header is not base64") from None
    if not any(hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), sent) for key in keys):
        raise BadSignature("signature does not match the body")


def generic_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The generic scheme's signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{GENERIC_VERSION}={digest}"


def verify_generic(
    secret: str | Sequence[str] | None,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: datetime,
) -> None:
    """``X-Retention-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with
    ``X-Retention-Timestamp`` (Unix seconds) within :data:`TOLERANCE` of ``now``. Several
    ``v1=`` values, comma-separated, are accepted (a sender rotating its secret signs twice)."""
    keys = usable_secrets(secret)
    if not keys:
        raise BadSignature("no secret is configured for this platform")
    if not timestamp_header or not signature_header:
        raise BadSignature("timestamp or signature header missing")
    stamp = timestamp_header.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise BadSignature("timestamp header is not Unix seconds")
    age = now.timestamp() - int(stamp)
    if abs(age) > TOLERANCE.total_seconds():
        raise BadSignature("timestamp is outside the tolerance (a replayed or delayed request)")
    sent = [
        part.strip().split("=", 1)[1]
        for part in signature_header.split(",")
        if part.strip().startswith(f"{GENERIC_VERSION}=")
    ]
    signed = stamp.encode() + b"." + body
    expected = [hmac.new(key, signed, hashlib.sha256).hexdigest() for key in keys]
    if not any(hmac.compare_digest(e.encode(), s.encode()) for e in expected for s in sent if s.isascii()):
        raise BadSignature("signature does not match the body and timestamp")
