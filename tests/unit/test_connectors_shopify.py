"""Shopify payloads (events/shop_webhook/shopify_*.json, written from Shopify's webhook docs) to shop events."""

from __future__ import annotations

import copy

import pytest
from webhook_helpers import payload

from retention.connectors import shopify
from retention.connectors.payload import Ignored, Malformed, guest_id
from retention.connectors.webhook import _validated


class Links(dict):
    def remember(self, platform: str, order_id: str, customer_id: str) -> None:
        self[(platform, order_id)] = customer_id

    def customer_of(self, platform: str, order_id: str) -> str | None:
        return self.get((platform, order_id))


JANA = "706405506930370084"
ORDER = "820982911946154508"


def _mapped(topic: str, body: dict, links: Links | None = None) -> list[tuple[str, dict]]:
    return [_validated(event) for event in shopify.map_webhook(topic, body, links if links is not None else Links())]


def test_orders_create_is_an_order_placed_with_consent_evidence_and_the_order_remembered():
    links = Links()
    ((kind, detail),) = _mapped("orders/create", payload("shopify_orders_create"), links)
    assert kind == "OrderPlaced"
    assert detail == {
        "order_id": ORDER,
        "customer_id": JANA,
        "email": "jana.novak@example.com",
        "name": "Jana Novák",
        "placed_at": "2026-03-14T09:21:07Z",
        "currency": "EUR",
        "total": "53.90",
        "items": [
            {
                "sku": "BEAN-ETH-250",
                "name": "Ethiopia Yirgacheffe - 250 g",
                "category": "coffee-beans",
                "price": "14.50",
                "qty": 2,
            },
            # no SKU in the shop: the variant id stands in; the vendor is the only category Shopify sends
            {"sku": "variant-808950811", "name": "V60 Dripper", "category": "brewing-gear", "price": "20.00", "qty": 1},
        ],
        "coupon_code": "WELCOME-10",
        "locale": "de_DE",
        "marketing_consent": True,
        "consent_at": "2026-03-14T09:21:03Z",
        "consent_source": "shopify email_marketing_consent subscribed (single_opt_in)",
        "historical": False,
    }
    assert links == {("shopify", ORDER): JANA}


def test_a_guest_order_gets_one_stable_customer_id_per_address():
    body = payload("shopify_orders_create")
    body["customer"] = None
    first = _mapped("orders/create", body)[0][1]
    body["email"] = " Jana.Novak@Example.com"
    again = _mapped("orders/create", body)[0][1]
    assert first["customer_id"] == again["customer_id"] == guest_id("jana.novak@example.com")
    assert first["customer_id"].startswith("guest-") and "jana" not in first["customer_id"]
    assert "marketing_consent" in first  # buyer_accepts_marketing at checkout, the only consent a guest has
    assert first["consent_source"] == "shopify checkout buyer_accepts_marketing"


def test_free_form_codes_and_skus_do_not_make_an_order_invalid():
    body = payload("shopify_orders_create")
    body["discount_codes"] = [{"code": "SUMMER SALE 10%", "amount": "4.90", "type": "percentage"}]
    body["line_items"][0]["sku"] = "BEAN ETH 250"
    body["line_items"][0]["product_type"] = "Single Origin"
    detail = _mapped("orders/create", body)[0][1]
    assert "coupon_code" not in detail
    assert detail["items"][0]["sku"] == "variant-808950810" and detail["items"][0]["category"] == "single-origin"


def test_orders_cancelled_is_an_order_cancelled():
    assert _mapped("orders/cancelled", payload("shopify_orders_cancelled")) == [
        (
            "OrderCancelled",
            {"order_id": ORDER, "customer_id": JANA, "cancelled_at": "2026-03-15T08:00:00Z", "reason": "customer"},
        )
    ]


def test_refunds_create_is_an_order_refunded_for_the_customer_who_placed_the_order():
    links = Links({("shopify", ORDER): JANA})
    assert _mapped("refunds/create", payload("shopify_refunds_create"), links) == [
        (
            "OrderRefunded",
            {
                "refund_id": "929361462",
                "order_id": ORDER,
                "customer_id": JANA,
                "refunded_at": "2026-03-20T13:05:00Z",
                "currency": "EUR",
                "amount": "20.00",
                "items": [{"sku": "variant-808950811", "qty": 1}],
                "reason": "Dripper arrived cracked",
            },
        )
    ]


def test_a_refund_of_an_unknown_order_or_without_money_back_is_ignored():
    body = payload("shopify_refunds_create")
    with pytest.raises(Ignored, match="never received"):
        shopify.map_webhook("refunds/create", body, Links())
    links = Links({("shopify", ORDER): JANA})
    restock_only = {**body, "transactions": []}
    with pytest.raises(Ignored, match="without money back"):
        shopify.map_webhook("refunds/create", restock_only, links)
    failed = copy.deepcopy(body)
    failed["transactions"][0]["status"] = "failure"
    with pytest.raises(Ignored):
        shopify.map_webhook("refunds/create", failed, links)


def test_customers_create_leaves_consent_unknown_when_the_customer_never_subscribed():
    assert _mapped("customers/create", payload("shopify_customers_create")) == [
        (
            "CustomerRegistered",
            {
                "customer_id": JANA,
                "email": "jana.novak@example.com",
                "name": "Jana Novák",
                "registered_at": "2026-03-14T09:20:10Z",
            },
        )
    ]


def test_customers_update_carries_the_new_address_and_the_withdrawn_consent():
    assert _mapped("customers/update", payload("shopify_customers_update")) == [
        (
            "CustomerUpdated",
            {
                "customer_id": JANA,
                "updated_at": "2026-04-02T16:44:00Z",
                "email": "jana.n@example.org",
                "name": "Jana Novák",
                "marketing_consent": False,
                "consent_at": "2026-04-02T16:44:00Z",
                "consent_source": "shopify email_marketing_consent unsubscribed (single_opt_in)",
            },
        )
    ]


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ({"email_marketing_consent": {"state": "subscribed", "opt_in_level": "confirmed_opt_in"}}, True),
        ({"email_marketing_consent": {"state": "unsubscribed"}}, False),
        ({"email_marketing_consent": {"state": "not_subscribed"}}, None),
        ({"email_marketing_consent": {"state": "pending", "opt_in_level": "confirmed_opt_in"}}, None),
        ({"email_marketing_consent": {"state": "redacted"}}, None),
        ({"email_marketing_consent": None, "accepts_marketing": True}, True),
        ({"accepts_marketing": False}, None),  # the old flag cannot tell "never" from "withdrew"
        ({}, None),
    ],
)
def test_consent_is_only_what_the_shop_recorded(customer: dict, expected: bool | None):
    assert shopify.consent(customer).get("marketing_consent") == expected


@pytest.mark.parametrize(
    ("topic", "breaks", "field"),
    [
        ("orders/create", lambda b: b.pop("created_at"), "created_at"),
        ("orders/create", lambda b: b["line_items"][1].pop("price"), "line_items.1.price"),
        ("orders/create", lambda b: b.update(line_items="none"), "line_items"),
        ("orders/create", lambda b: b.update(id=None), "id"),
        ("orders/cancelled", lambda b: b.update(cancelled_at=None), "cancelled_at"),
        ("customers/update", lambda b: b.pop("updated_at"), "updated_at"),
    ],
)
def test_a_payload_missing_a_field_is_malformed_naming_the_field(topic: str, breaks, field: str):
    name = {"orders/create": "shopify_orders_create", "orders/cancelled": "shopify_orders_cancelled"}.get(
        topic, "shopify_customers_update"
    )
    body = payload(name)
    breaks(body)
    with pytest.raises(Malformed) as raised:
        shopify.map_webhook(topic, body, Links())
    assert raised.value.field == field


def test_a_wrong_value_fails_the_event_model_naming_the_field():
    body = payload("shopify_orders_create")
    body["currency"] = "euro"
    with pytest.raises(ValueError, match=r"^OrderPlaced: currency"):
        _mapped("orders/create", body)


def test_other_topics_and_customers_without_an_address_are_ignored():
    with pytest.raises(Ignored):
        shopify.map_webhook("products/update", {"id": 1}, Links())
    customer = payload("shopify_customers_create")
    customer["email"] = None
    with pytest.raises(Ignored, match="e-mail"):
        shopify.map_webhook("customers/create", customer, Links())
