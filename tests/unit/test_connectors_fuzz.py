"""Property: a verified delivery with any field replaced by junk is published, ignored or refused
with a reason (200, 202, 400), never a crash, and only valid events are ever published."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_helpers import GENERIC_SENT_AT, SECRETS, payload, sample, with_body

from retention.connectors.webhook import DETAIL_MODELS, Delivery, raw_body, receive

SAMPLES = [
    "shopify_orders_create",
    "shopify_orders_cancelled",
    "woocommerce_order_created",
    "shopify_refunds_create",
    "shopify_customers_update",
    "woocommerce_order_updated_partial_refund",
    "woocommerce_customer_created",
    "generic_order_placed",
]
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


class Links(dict):
    def remember(self, platform: str, order_id: str, customer_id: str) -> None:
        self[(platform, order_id)] = customer_id

    def customer_of(self, platform: str, order_id: str) -> str | None:
        return self.get((platform, order_id), "C1")


def _deliver(name: str, body: object) -> None:
    event = with_body(
        sample(name), json.dumps(body).encode(), secret=SECRETS[sample(name)["pathParameters"]["platform"]]
    )
    published: list = []
    delivery = Delivery(event["pathParameters"]["platform"], event["headers"], raw_body(event["body"], encoded=False))
    answer = receive(delivery, lambda: SECRETS, Links(), published.extend, GENERIC_SENT_AT)
    assert answer.status in (200, 202, 400), answer
    assert bool(published) == (answer.status == 200)
    for kind, detail in published:
        DETAIL_MODELS[kind].model_validate(detail)


def _fields(name: str) -> list[tuple[str, ...]]:
    """Every path into the sample: top-level keys, and the keys of the first nested object or list item."""
    body, paths = payload(name), []
    for key, value in body.items():
        paths.append((key,))
        inner = value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else value
        if isinstance(inner, dict):
            paths += [(key, sub) for sub in inner]
    return paths


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(SAMPLES).flatmap(lambda n: st.tuples(st.just(n), st.sampled_from(_fields(n)))), junk)
def test_any_field_replaced_by_junk_is_answered_never_raised(target, value):
    name, path = target
    body = payload(name)
    holder = body
    for part in path[:-1]:
        holder = holder[part][0] if isinstance(holder[part], list) else holder[part]
    holder[path[-1]] = value
    _deliver(name, body)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(SAMPLES), junk)
def test_any_body_at_all_is_answered_never_raised(name, body):
    _deliver(name, body)


@pytest.mark.parametrize("number", [float("nan"), float("inf"), "NaN", "Infinity", "1e999999", True, [1]])
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("shopify_refunds_create", ("transactions", 0, "amount")),
        ("woocommerce_order_updated_refunded", ("refunds", 0, "total")),
        ("woocommerce_order_created", ("line_items", 0, "subtotal")),
        ("woocommerce_order_created", ("line_items", 0, "quantity")),
        ("shopify_orders_create", ("total_price",)),
        ("woocommerce_order_created", ("status",)),
    ],
)
def test_numbers_no_money_field_can_hold_are_refused_not_raised(number, name: str, path: tuple):
    body = payload(name)
    holder = body
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = number
    _deliver(name, body)
