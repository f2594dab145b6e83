"""Webhook signatures: Shopify's and WooCommerce's body HMAC, the generic timestamped one."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from webhook_helpers import GENERIC_SENT_AT, TEST_SECRET, raw_body, sample

from retention.connectors.signature import BadSignature, generic_signature, verify_body_hmac, verify_generic

OTHER_SECRET = "another-shops-secret-of-enough-length"


@pytest.mark.parametrize(
    ("name", "header"),
    [("shopify_orders_create", "x-shopify-hmac-sha256"), ("woocommerce_order_created", "x-wc-webhook-signature")],
)
def test_the_samples_verify_and_a_changed_byte_or_another_secret_does_not(name: str, header: str):
    event = sample(name)
    body, sent = raw_body(event), event["headers"][header]
    verify_body_hmac(TEST_SECRET, body, sent)
    with pytest.raises(BadSignature, match="does not match"):
        verify_body_hmac(TEST_SECRET, body.replace(b'"EUR"', b'"USD"', 1), sent)
    with pytest.raises(BadSignature, match="does not match"):
        verify_body_hmac(OTHER_SECRET, body, sent)
    verify_body_hmac([OTHER_SECRET, TEST_SECRET], body, sent)  # while rotating, either secret verifies


def test_a_missing_garbled_or_empty_key_signature_proves_nothing():
    body = b'{"id": 1}'
    with pytest.raises(BadSignature, match="missing"):
        verify_body_hmac(TEST_SECRET, body, None)
    with pytest.raises(BadSignature, match="not base64"):
        verify_body_hmac(TEST_SECRET, body, "not base64!")
    forged = base64.b64encode(hmac.new(b"", body, hashlib.sha256).digest()).decode()
    for unconfigured in ("", None, "short", [""]):
        with pytest.raises(BadSignature, match="no secret"):
            verify_body_hmac(unconfigured, body, forged)  # the placeholder of a platform not set up yet


def test_the_generic_sample_verifies_within_the_tolerance_only():
    event = sample("generic_order_placed")
    body, headers = raw_body(event), event["headers"]
    stamp, sent = headers["x-retention-timestamp"], headers["x-retention-signature"]
    verify_generic(TEST_SECRET, body, stamp, sent, GENERIC_SENT_AT)
    verify_generic(TEST_SECRET, body, stamp, sent, GENERIC_SENT_AT + timedelta(minutes=5))
    for skew in (timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1), timedelta(days=3)):
        with pytest.raises(BadSignature, match="tolerance"):
            verify_generic(TEST_SECRET, body, stamp, sent, GENERIC_SENT_AT + skew)


def test_the_generic_signature_binds_the_timestamp_and_the_body():
    event = sample("generic_order_placed")
    body, headers = raw_body(event), event["headers"]
    stamp, sent = headers["x-retention-timestamp"], headers["x-retention-signature"]
    with pytest.raises(BadSignature, match="does not match"):  # a fresh timestamp on an old signature
        verify_generic(TEST_SECRET, body, str(int(stamp) + 60), sent, GENERIC_SENT_AT)
    with pytest.raises(BadSignature, match="does not match"):
        verify_generic(TEST_SECRET, body + b" ", stamp, sent, GENERIC_SENT_AT)
    with pytest.raises(BadSignature, match="does not match"):
        verify_generic(OTHER_SECRET, body, stamp, sent, GENERIC_SENT_AT)
    rotated = f"{generic_signature(OTHER_SECRET.encode(), int(stamp), body)}, {sent}"
    verify_generic(TEST_SECRET, body, stamp, rotated, GENERIC_SENT_AT)
    for bad_stamp in ("", "1773482400.5", "-1", "١٧٧٣٤٨٢٤٠٠"):
        with pytest.raises(BadSignature):
            verify_generic(TEST_SECRET, body, bad_stamp, sent, GENERIC_SENT_AT)
