"""One delivery end to end without AWS: which answer, and that nothing unverified or invalid is published."""

from __future__ import annotations

import json

import pytest
from webhook_helpers import GENERIC_SENT_AT, SECRETS, raw_body, sample, with_body

from retention.connectors.webhook import Answer, Delivery, receive
from retention.store.bus import PublishFailed


class Links(dict):
    def remember(self, platform: str, order_id: str, customer_id: str) -> None:
        self[(platform, order_id)] = customer_id

    def customer_of(self, platform: str, order_id: str) -> str | None:
        return self.get((platform, order_id))


def _receive(event: dict, platform: str | None = None, secrets: dict | None = None) -> tuple[Answer, list]:
    published: list = []
    delivery = Delivery(platform or event["pathParameters"]["platform"], event["headers"], raw_body(event))
    answer = receive(
        delivery, lambda: secrets if secrets is not None else SECRETS, Links(), published.extend, GENERIC_SENT_AT
    )
    return answer, published


def test_a_verified_valid_delivery_is_published():
    answer, published = _receive(sample("shopify_orders_create"))  # API Gateway base64-encoded this body
    assert (answer.status, answer.outcome, answer.published) == (200, "published", ["OrderPlaced"])
    assert [kind for kind, _ in published] == ["OrderPlaced"]


def test_an_unknown_platform_is_404_before_anything_else():
    answer, published = _receive(sample("shopify_orders_create"), platform="magento")
    assert (answer.status, published) == (404, [])
    assert "shopify, woocommerce, generic" in answer.reason


@pytest.mark.parametrize("name", ["shopify_orders_create", "woocommerce_order_created", "generic_order_placed"])
def test_tampered_or_resigned_with_another_secret_is_401_and_nothing_published(name: str):
    event = sample(name)
    tampered = with_body(event, raw_body(event).replace(b"example.com", b"attacker.example", 1))
    resigned = with_body(event, raw_body(event), secret="a-secret-this-stack-does-not-hold")
    for forged in (tampered, resigned):
        answer, published = _receive(forged)
        assert (answer.status, answer.outcome, published) == (401, "refused", [])


def test_a_platform_without_a_configured_secret_refuses_everything():
    answer, published = _receive(sample("woocommerce_order_created"), secrets={"woocommerce": ""})
    assert (answer.status, published) == (401, [])
    assert answer.reason == "no secret is configured for this platform"


def test_an_unknown_topic_is_202_and_not_published():
    event = sample("shopify_orders_create")
    event = {**event, "headers": {**event["headers"], "x-shopify-topic": "products/update"}}
    answer, published = _receive(event)
    assert (answer.status, answer.outcome, published) == (202, "ignored", [])


def test_malformed_payloads_are_400_with_the_field_and_not_published():
    event = sample("shopify_orders_create")
    body = json.loads(raw_body(event))
    body.pop("created_at")
    answer, published = _receive(with_body(event, json.dumps(body).encode(), secret=SECRETS["shopify"]))
    assert (answer.status, answer.reason, published) == (400, "created_at: missing", [])
    body = json.loads(raw_body(event)) | {"total_price": "-3.00"}
    answer, published = _receive(with_body(event, json.dumps(body).encode(), secret=SECRETS["shopify"]))
    assert answer.status == 400 and answer.reason.startswith("OrderPlaced: total:") and published == []
    answer, published = _receive(with_body(event, b"{not json", secret=SECRETS["shopify"]))
    assert answer.status == 400 and answer.reason.startswith("body is not JSON") and published == []
    headers = {k: v for k, v in event["headers"].items() if k != "x-shopify-topic"}
    answer, published = _receive({**event, "headers": headers})
    assert (answer.status, answer.reason, published) == (400, "x-shopify-topic: topic header missing", [])


def test_generic_deliveries_name_their_type():
    event = sample("generic_order_refunded")
    assert _receive(event)[0].published == ["OrderRefunded"]
    unknown = with_body(event, b'{"type": "InvoicePaid", "detail": {}}', secret=SECRETS["generic"])
    assert _receive(unknown)[0].status == 202
    untyped = with_body(event, b'{"detail": {}}', secret=SECRETS["generic"])
    assert _receive(untyped)[0].reason == "type: missing"


def test_woocommerce_ping_is_answered_and_publishes_nothing():
    event = sample("woocommerce_order_created")
    headers = {k: v for k, v in event["headers"].items() if not k.startswith("x-wc-")}
    answer, published = _receive({**event, "headers": headers, "body": "webhook_id=12"})
    assert (answer.status, answer.outcome, published) == (200, "ping", [])
    answer, published = _receive({**event, "headers": headers, "body": '{"id": 727}'})
    assert (answer.status, published) == (401, [])  # only the exact ping form goes unsigned


def test_a_bus_that_refuses_is_503_so_the_platform_retries():
    def refuse(_events: list) -> None:
        raise PublishFailed("EventBridge rejected 1 entries")

    event = sample("woocommerce_order_created")
    delivery = Delivery("woocommerce", event["headers"], raw_body(event))
    answer = receive(delivery, lambda: SECRETS, Links(), refuse, GENERIC_SENT_AT)
    assert (answer.status, answer.outcome) == (503, "retry-later")
