"""WooCommerce payloads (events/shop_webhook/woocommerce_*.json, from the REST API v3 docs) to shop events."""

from __future__ import annotations

import pytest
from webhook_helpers import payload

from retention.connectors import woocommerce
from retention.connectors.payload import Ignored, Malformed, guest_id
from retention.connectors.webhook import _validated

ITEMS = [
    {"sku": "BEAN-COL-500", "name": "Colombia Huila 500 g", "category": "uncategorised", "price": "21.00", "qty": 1},
    # "FILTER 100" is no SKU the engine takes: the variation id stands in
    {"sku": "variant-23", "name": "Paper filters (100)", "category": "uncategorised", "price": "4.00", "qty": 2},
]
ORDER = {
    "order_id": "727",
    "customer_id": "26",
    "email": "lukas.berger@example.com",
    "name": "Lukas Berger",
    "placed_at": "2026-03-14T09:30:00Z",
    "currency": "EUR",
    "total": "34.00",
    "items": ITEMS,
    "historical": False,
}


def _mapped(topic: str, body: dict) -> list[tuple[str, dict]]:
    return [_validated(event) for event in woocommerce.map_webhook(topic, body)]


def test_order_created_is_an_order_placed_without_consent():
    assert _mapped("order.created", payload("woocommerce_order_created")) == [("OrderPlaced", ORDER)]


def test_order_updated_cancelled_is_an_order_cancelled():
    assert _mapped("order.updated", payload("woocommerce_order_updated_cancelled")) == [
        (
            "OrderCancelled",
            {"order_id": "727", "customer_id": "26", "cancelled_at": "2026-03-15T08:00:00Z", "reason": ""},
        )
    ]


def test_order_updated_refunded_is_the_full_refund():
    assert _mapped("order.updated", payload("woocommerce_order_updated_refunded")) == [
        (
            "OrderRefunded",
            {
                "refund_id": "731",
                "order_id": "727",
                "customer_id": "26",
                "refunded_at": "2026-03-21T12:00:00Z",
                "currency": "EUR",
                "amount": "34.00",
                "items": [],
                "reason": "Damaged in transit",
            },
        )
    ]


def test_a_partial_refund_on_a_completed_order_is_a_refund_and_the_order_again_which_the_ingest_dedupes():
    mapped = _mapped("order.updated", payload("woocommerce_order_updated_partial_refund"))
    assert [kind for kind, _ in mapped] == ["OrderPlaced", "OrderRefunded"]
    assert mapped[0][1] == ORDER
    assert mapped[1][1]["refund_id"] == "730" and mapped[1][1]["amount"] == "8.00"


def test_customer_created_and_updated():
    assert _mapped("customer.created", payload("woocommerce_customer_created")) == [
        (
            "CustomerRegistered",
            {
                "customer_id": "26",
                "email": "lukas.berger@example.com",
                "name": "Lukas Berger",
                "registered_at": "2026-03-14T09:25:00Z",
            },
        )
    ]
    assert _mapped("customer.updated", payload("woocommerce_customer_updated")) == [
        (
            "CustomerUpdated",
            {
                "customer_id": "26",
                "updated_at": "2026-04-01T08:00:00Z",
                "email": "l.berger@example.net",
                "name": "Lukas J. Berger",
            },
        )
    ]


def test_a_guest_order_is_keyed_by_its_billing_address():
    body = payload("woocommerce_order_created")
    body["customer_id"] = 0
    assert _mapped("order.created", body)[0][1]["customer_id"] == guest_id("lukas.berger@example.com")


def test_the_unit_price_is_the_subtotal_over_the_quantity_to_the_cent():
    body = payload("woocommerce_order_created")
    body["line_items"][1] |= {"quantity": 3, "subtotal": "10.00", "price": 3.3333333333}
    assert _mapped("order.created", body)[0][1]["items"][1]["price"] == "3.33"


@pytest.mark.parametrize("status", ["failed", "cancelled", "checkout-draft"])
def test_an_order_created_already_dead_is_ignored(status: str):
    body = payload("woocommerce_order_created") | {"status": status}
    with pytest.raises(Ignored):
        woocommerce.map_webhook("order.created", body)


def test_an_update_with_nothing_the_engine_records_is_ignored():
    with pytest.raises(Ignored):
        woocommerce.map_webhook("order.updated", payload("woocommerce_order_created") | {"status": "pending"})
    with pytest.raises(Ignored):
        woocommerce.map_webhook("product.updated", {"id": 1})


@pytest.mark.parametrize(
    ("topic", "name", "breaks", "field"),
    [
        ("order.created", "woocommerce_order_created", lambda b: b.pop("date_created_gmt"), "date_created_gmt"),
        (
            "order.created",
            "woocommerce_order_created",
            lambda b: b["line_items"][0].pop("subtotal"),
            "line_items.0.subtotal",
        ),
        (
            "order.updated",
            "woocommerce_order_updated_refunded",
            lambda b: b["refunds"][0].update(total="lots"),
            "refunds.0.total",
        ),
        ("customer.updated", "woocommerce_customer_updated", lambda b: b.pop("id"), "id"),
    ],
)
def test_a_payload_missing_a_field_is_malformed_naming_the_field(topic, name, breaks, field):
    body = payload(name)
    breaks(body)
    with pytest.raises(Malformed) as raised:
        woocommerce.map_webhook(topic, body)
    assert raised.value.field == field
