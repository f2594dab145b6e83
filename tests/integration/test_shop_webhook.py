"""The shop webhook function on the embedded AWS: signed samples in, shop events on the bus, profiles out.

The stack's webhook secret is set to the samples' test secret (as an operator pastes the
platform's secret); a second rule on the bus, to a test queue, shows everything the function
put there, so "nothing reached the bus" is observed, not assumed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from webhook_helpers import GENERIC_SENT_AT, SECRETS, raw_body, sample, with_body

from retention import clock
from retention.connectors.webhook import DETAIL_MODELS
from retention.settings import settings
from retention.store.customers import CustomerStore
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.runtime import QueueDriver, invoke, load_function
from retention_tools.local.template import load_template


@pytest.fixture
def shop(aws: EmbeddedAws) -> EmbeddedAws:
    secret = aws.resources.secrets["ShopWebhookSecrets"]
    aws.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=json.dumps(SECRETS))
    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName=f"{aws.stage}-bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = aws.resources.buses["RetentionBus"]
    events.put_rule(Name=f"{aws.stage}-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule=f"{aws.stage}-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    aws.tap_url = url  # type: ignore[attr-defined]
    return aws


def _post(event: dict[str, Any], at=GENERIC_SENT_AT) -> tuple[int, dict[str, Any]]:
    with clock.frozen_at(at):
        answer = invoke(load_function("shop_webhook").handler, event)
    return answer["statusCode"], json.loads(answer["body"])


def _on_the_bus(aws: EmbeddedAws) -> list[dict[str, Any]]:
    sqs, seen = aws.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=aws.tap_url, MaxNumberOfMessages=10).get("Messages", []):  # type: ignore[attr-defined]
        for message in messages:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=aws.tap_url, ReceiptHandle=message["ReceiptHandle"])  # type: ignore[attr-defined]
    return seen


def test_a_signed_shopify_order_reaches_the_bus_and_the_ingest_applies_it_once(shop: EmbeddedAws) -> None:
    event = sample("shopify_orders_create")
    assert _post(event) == (200, {"outcome": "published", "events": ["OrderPlaced"]})
    assert _post(event)[0] == 200  # Shopify retries: the same delivery again
    (first, again) = _on_the_bus(shop)
    assert first["source"] == "shop.orders" and first["detail-type"] == "OrderPlaced"
    assert first["detail"] == again["detail"] and first["detail"]["total"] == "53.90"
    with clock.frozen_at(GENERIC_SENT_AT):
        stats = QueueDriver(shop, "IngestQueue", "order_ingest").drain()
    assert stats.failed_attempts == 0
    profile = CustomerStore(settings().customers_table).get_profile("706405506930370084")
    assert profile is not None and profile.order_count == 1  # the ingest applied it once
    assert str(profile.total_spent) == "53.90"


def test_a_shopify_refund_names_the_customer_of_the_order_seen_before(shop: EmbeddedAws) -> None:
    assert _post(sample("shopify_refunds_create"))[1]["outcome"] == "ignored"  # no order seen yet
    _post(sample("shopify_orders_create"))
    status, body = _post(sample("shopify_refunds_create"), at=GENERIC_SENT_AT + timedelta(days=6))
    assert (status, body["events"]) == (200, ["OrderRefunded"])
    refund = _on_the_bus(shop)[-1]
    assert refund["detail-type"] == "OrderRefunded"
    assert refund["detail"]["customer_id"] == "706405506930370084" and refund["detail"]["amount"] == "20.00"


def test_forgetting_a_customer_removes_the_webhooks_link_from_their_orders(shop: EmbeddedAws) -> None:
    # Given a Shopify order the webhook mapped (it remembers order -> customer for later refunds)
    from retention.forget import forget_customer
    from retention.journeys.definitions import load_journeys
    from retention.store.erasure import ErasureStore
    from retention.store.shop_orders import ShopOrderLinks

    _post(sample("shopify_orders_create"))
    with clock.frozen_at(GENERIC_SENT_AT):
        QueueDriver(shop, "IngestQueue", "order_ingest").drain()
    table = settings().customers_table
    order_id = _on_the_bus(shop)[0]["detail"]["order_id"]
    assert ShopOrderLinks(table).customer_of("shopify", order_id) == "706405506930370084"
    # When the customer is forgotten, Then the link naming them goes too
    done = forget_customer(ErasureStore(table), load_journeys(), "706405506930370084")
    assert done.order_links == 1
    assert ShopOrderLinks(table).customer_of("shopify", order_id) is None


@pytest.mark.parametrize("name", ["shopify_orders_create", "woocommerce_order_created", "generic_order_placed"])
def test_tampered_and_resigned_deliveries_are_refused_and_reach_nothing(shop: EmbeddedAws, name: str) -> None:
    event = sample(name)
    tampered = with_body(event, raw_body(event).replace(b'"EUR"', b'"USD"', 1))
    resigned = with_body(event, raw_body(event), secret="the-attackers-own-webhook-secret")
    for forged in (tampered, resigned):
        status, body = _post(forged)
        assert (status, body["outcome"]) == (401, "refused")
    assert _on_the_bus(shop) == []


def test_a_replayed_generic_delivery_is_refused(shop: EmbeddedAws) -> None:
    event = sample("generic_order_placed")
    assert _post(event)[0] == 200
    _on_the_bus(shop)
    status, body = _post(event, at=GENERIC_SENT_AT + timedelta(minutes=6))  # captured and sent again later
    assert (status, body["outcome"]) == (401, "refused") and "tolerance" in body["reason"]
    assert _on_the_bus(shop) == []


def test_unknown_platform_unknown_topic_and_a_malformed_payload(shop: EmbeddedAws) -> None:
    event = sample("woocommerce_order_created")
    path = "/shop/magento"
    elsewhere = {
        **event,
        "rawPath": path,
        "requestContext": {**event["requestContext"], "http": {**event["requestContext"]["http"], "path": path}},
    }
    assert _post(elsewhere)[0] == 404
    unknown_topic = {**event, "headers": {**event["headers"], "x-wc-webhook-topic": "coupon.created"}}
    assert _post(unknown_topic) == (
        202,
        {"outcome": "ignored", "reason": "topic 'coupon.created' has no engine event", "events": []},
    )
    body = json.loads(raw_body(event))
    body["billing"]["email"] = "not an address"
    status, answer = _post(with_body(event, json.dumps(body).encode(), secret=SECRETS["woocommerce"]))
    assert status == 400 and answer["reason"].startswith("OrderPlaced: email:")
    assert _on_the_bus(shop) == []


def test_the_template_routes_the_webhook_and_grants_only_its_secret_and_bus() -> None:
    resources = load_template()["Resources"]
    function = resources["ShopWebhookFunction"]["Properties"]
    (route,) = function["Events"].values()
    assert route["Type"] == "HttpApi" and route["Properties"]["Path"] == "/shop/{platform}"
    assert route["Properties"]["Method"] == "POST" and route["Properties"]["ApiId"] == {"Ref": "TrackingApi"}
    policies = function["Policies"]
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "ShopWebhookSecrets"}}} in policies
    assert {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "RetentionBus"}}} in policies
    shop_policy = resources["ShopPublisherPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = shop_policy
    assert statement["Action"] == "events:PutEvents" and statement["Resource"] == {
        "Fn::GetAtt": ["RetentionBus", "Arn"]
    }
    condition = statement["Condition"]["StringEquals"]
    assert condition["events:source"] == {"Ref": "ShopEventSource"}
    assert set(condition["events:detail-type"]) == set(DETAIL_MODELS)  # every shop event, no engine event


def test_a_body_api_gateway_could_not_have_encoded_is_400(shop: EmbeddedAws) -> None:
    event = {**sample("shopify_orders_create"), "body": "%%% not base64 %%%", "isBase64Encoded": True}
    assert _post(event) == (400, {"outcome": "invalid", "reason": "body is not base64", "events": []})
    assert _on_the_bus(shop) == []


def test_a_secret_pasted_as_a_bare_value_refuses_every_delivery(shop: EmbeddedAws) -> None:
    secret = shop.resources.secrets["ShopWebhookSecrets"]
    shop.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=SECRETS["shopify"])
    status, body = _post(sample("shopify_orders_create"))
    assert (status, body["reason"]) == (401, "no secret is configured for this platform")
    assert _on_the_bus(shop) == []
