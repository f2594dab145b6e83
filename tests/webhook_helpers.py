"""The shop webhook samples (events/shop_webhook/) and how to sign or tamper with them in tests.

Every sample is signed with :data:`TEST_SECRET`, the documented test secret (README text in
notes: put it in the stack's secret to replay the samples against a test stack). The generic
samples are stamped :data:`GENERIC_SENT_AT`, so a test verifying them runs at that time.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from conftest import load_event

from retention.connectors import signature

TEST_SECRET = "retention-webhook-test-secret-not-for-production"
GENERIC_SENT_AT = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
SECRETS = {"shopify": TEST_SECRET, "woocommerce": TEST_SECRET, "generic": TEST_SECRET}


def sample(name: str) -> dict[str, Any]:
    return load_event(f"shop_webhook/{name}")


def raw_body(event: dict[str, Any]) -> bytes:
    body = event["body"]
    return base64.b64decode(body) if event["isBase64Encoded"] else body.encode()


def payload(name: str) -> Any:
    return json.loads(raw_body(sample(name)))


def with_body(
    event: dict[str, Any], body: bytes, secret: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """The event carrying ``body`` (plain text), re-signed with ``secret`` if given, else keeping
    the sample's signature (a tampered body)."""
    headers = dict(event["headers"])
    if secret is not None:
        key = secret.encode()
        if "x-shopify-hmac-sha256" in headers:
            headers["x-shopify-hmac-sha256"] = signature.body_hmac_base64(key, body)
        elif "x-wc-webhook-signature" in headers:
            headers["x-wc-webhook-signature"] = signature.body_hmac_base64(key, body)
        else:
            stamp = int((at or GENERIC_SENT_AT).timestamp())
            headers["x-retention-timestamp"] = str(stamp)
            headers["x-retention-signature"] = signature.generic_signature(key, stamp, body)
    return {**event, "headers": headers, "body": body.decode(), "isBase64Encoded": False}
