"""Shop webhooks (HTTP API): POST /shop/{platform} for shopify, woocommerce and generic.

Verifies the platform's signature over the raw body, maps the payload to shop events and puts
them on the bus with the shop's source (retention/connectors/webhook.py says in which order and
with which answers: 401 unverified, 404 unknown platform, 400 malformed, 202 ignored).
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import clock
from retention.connectors.secrets import webhook_secrets
from retention.connectors.settings import connector_settings
from retention.connectors.webhook import Delivery, raw_body, receive
from retention.observability import logger, metrics, tracer
from retention.settings import settings
from retention.store.bus import publish_shop_events
from retention.store.shop_orders import ShopOrderLinks

app = APIGatewayHttpResolver()


@app.post("/shop/<platform>")
def shop_webhook(platform: str) -> Response:
    event = app.current_event
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    delivery = Delivery(platform, headers, raw_body(event.body, encoded=event.is_base64_encoded))
    now = clock.now()

    def publish(events: list) -> None:
        publish_shop_events(settings().event_bus_name, connector_settings().shop_event_source, events, now)

    answer = receive(delivery, webhook_secrets, ShopOrderLinks(settings().customers_table), publish, now)
    delivered = headers.get("x-shopify-webhook-id") or headers.get("x-wc-webhook-delivery-id") or ""
    logger.info(
        "shop webhook", platform=platform[:40], outcome=answer.outcome, reason=answer.reason, delivery=delivered[:80]
    )
    metrics.add_metric(name=f"ShopWebhook{answer.outcome.title().replace('-', '')}", unit="Count", value=1)
    return Response(answer.status, "application/json", json.dumps(answer.body()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
