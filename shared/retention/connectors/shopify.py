"""Shopify webhooks (REST JSON payloads) to shop events.

Topics (``X-Shopify-Topic``): ``orders/create`` -> OrderPlaced, ``orders/cancelled`` ->
OrderCancelled, ``refunds/create`` -> OrderRefunded, ``customers/create`` -> CustomerRegistered,
``customers/update`` -> CustomerUpdated; any other topic is ignored.

A Shopify refund payload names its order but not the customer, so each order this endpoint
maps is remembered as order -> customer (:class:`OrderLinks`, one small item); a refund of an
order the engine never saw through this endpoint changes nothing the engine holds and is ignored.

Consent comes from ``email_marketing_consent`` (``subscribed`` -> True, ``unsubscribed`` ->
False, ``not_subscribed``/``pending``/anything else -> unknown: never having ticked a box is not
an objection) or, on older payloads, ``accepts_marketing`` (True -> True, otherwise unknown).
Line items carry no product type in Shopify's order payloads: the category is the line's
``product_type`` if a shop's flow adds one, else its ``vendor``, else ``uncategorised``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from retention.connectors.payload import (
    Ignored,
    Malformed,
    Mapped,
    category,
    coupon,
    decimal_of,
    full_name,
    get,
    guest_id,
    ident,
    locale,
    need,
    need_list,
    sku_of,
)

PLATFORM = "shopify"
TOPIC_HEADER = "x-shopify-topic"
SIGNATURE_HEADER = "x-shopify-hmac-sha256"
DELIVERY_HEADER = "x-shopify-webhook-id"


class OrderLinks(Protocol):
    """Which customer placed an order (store/shop_orders.py in production)."""

    def remember(self, platform: str, order_id: str, customer_id: str) -> None: ...

    def customer_of(self, platform: str, order_id: str) -> str | None: ...


def map_webhook(topic: str, payload: Any, links: OrderLinks) -> list[Mapped]:
    if not isinstance(payload, dict):
        raise Malformed("body", "not a JSON object")
    if topic == "orders/create":
        return [_order_placed(payload, links)]
    if topic == "orders/cancelled":
        return [_order_cancelled(payload)]
    if topic == "refunds/create":
        return [_order_refunded(payload, links)]
    if topic == "customers/create":
        return [_customer_registered(payload)]
    if topic == "customers/update":
        return [_customer_updated(payload)]
    raise Ignored(f"topic {topic[:60]!r} has no engine event")


def consent(customer: Any) -> dict[str, Any]:
    """The consent facts of a Shopify customer object, as evidence (state, when, how)."""
    if not isinstance(customer, dict):
        return {}
    marketing = customer.get("email_marketing_consent")
    if isinstance(marketing, dict) and isinstance(marketing.get("state"), str):
        state = marketing["state"]
        given = {"subscribed": True, "unsubscribed": False}.get(state)
        if given is None:
            return {}
        level = marketing.get("opt_in_level") if isinstance(marketing.get("opt_in_level"), str) else "unknown"
        facts: dict[str, Any] = {
            "marketing_consent": given,
            "consent_source": f"shopify email_marketing_consent {state} ({level})",
        }
        if isinstance(marketing.get("consent_updated_at"), str):
            facts["consent_at"] = marketing["consent_updated_at"]
        return facts
    if customer.get("accepts_marketing") is True:
        facts = {"marketing_consent": True, "consent_source": "shopify accepts_marketing"}
        if isinstance(customer.get("accepts_marketing_updated_at"), str):
            facts["consent_at"] = customer["accepts_marketing_updated_at"]
        return facts
    return {}


def _customer_of_order(order: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(customer id, e-mail, customer object) of an order; a guest gets a stable hashed id."""
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    email = get(order, "email") or get(order, "contact_email") or get(customer, "email")
    if not isinstance(email, str):
        raise Ignored("order without an e-mail address: nobody to keep in touch with")
    customer_id = ident(customer["id"], "customer.id") if customer.get("id") is not None else guest_id(email)
    return customer_id, email, customer


def _order_placed(order: dict[str, Any], links: OrderLinks) -> Mapped:
    order_id = ident(need(order, "id"), "id")
    customer_id, email, customer = _customer_of_order(order)
    items = []
    for n, line in enumerate(need_list(order, "line_items")):
        path = f"line_items.{n}"
        if not isinstance(line, dict):
            raise Malformed(path, "not an object")
        quantity = need(line, "quantity", path)
        if quantity == 0:
            continue  # removed by an order edit
        items.append(
            {
                "sku": sku_of(line, path),
                "name": line.get("name") or line.get("title") or "",
                "category": category(line.get("product_type"), line.get("vendor")),
                "price": need(line, "price", path),
                "qty": quantity,
            }
        )
    codes = order.get("discount_codes") if isinstance(order.get("discount_codes"), list) else []
    code = next((coupon(c.get("code")) for c in codes if isinstance(c, dict) and coupon(c.get("code"))), None)
    detail = {
        "order_id": order_id,
        "customer_id": customer_id,
        "email": email,
        "name": full_name(customer.get("first_name"), customer.get("last_name")),
        "placed_at": need(order, "created_at"),
        "currency": need(order, "currency"),
        "total": need(order, "total_price"),
        "items": items,
        **({"coupon_code": code} if code else {}),
        **({"locale": locale(order.get("customer_locale"))} if locale(order.get("customer_locale")) else {}),
        **consent(customer),
    }
    if not consent(customer) and order.get("buyer_accepts_marketing") is True:
        detail |= {"marketing_consent": True, "consent_source": "shopify checkout buyer_accepts_marketing"}
    links.remember(PLATFORM, order_id, customer_id)
    return Mapped("OrderPlaced", detail)


def _order_cancelled(order: dict[str, Any]) -> Mapped:
    customer_id, _, _ = _customer_of_order(order)
    reason = order.get("cancel_reason") if isinstance(order.get("cancel_reason"), str) else ""
    detail = {
        "order_id": ident(need(order, "id"), "id"),
        "customer_id": customer_id,
        "cancelled_at": need(order, "cancelled_at"),
        "reason": reason,
    }
    return Mapped("OrderCancelled", detail)


def _order_refunded(refund: dict[str, Any], links: OrderLinks) -> Mapped:
    refund_id = ident(need(refund, "id"), "id")
    order_id = ident(need(refund, "order_id"), "order_id")
    customer_id = links.customer_of(PLATFORM, order_id)
    if customer_id is None:
        raise Ignored("refund of an order this endpoint never received")
    amount, currency = Decimal(0), None
    transactions = refund.get("transactions") if isinstance(refund.get("transactions"), list) else []
    for n, transaction in enumerate(transactions):
        if not isinstance(transaction, dict) or transaction.get("kind") != "refund":
            continue
        if transaction.get("status") not in ("success", None):
            continue  # a failed or pending refund gave nothing back
        amount += decimal_of(need(transaction, "amount", f"transactions.{n}"), f"transactions.{n}.amount")
        currency = currency or need(transaction, "currency", f"transactions.{n}")
    if amount <= 0:
        raise Ignored("refund without money back (a restock or a failed transaction)")
    items = []
    lines = refund.get("refund_line_items") if isinstance(refund.get("refund_line_items"), list) else []
    for n, line in enumerate(lines):
        if isinstance(line, dict) and isinstance(line.get("line_item"), dict) and line.get("quantity"):
            items.append(
                {"sku": sku_of(line["line_item"], f"refund_line_items.{n}.line_item"), "qty": line["quantity"]}
            )
    detail = {
        "refund_id": refund_id,
        "order_id": order_id,
        "customer_id": customer_id,
        "refunded_at": need(refund, "created_at"),
        "currency": currency,
        "amount": str(amount),
        "items": items,
        "reason": refund.get("note") if isinstance(refund.get("note"), str) else "",
    }
    return Mapped("OrderRefunded", detail)


def _customer_registered(customer: dict[str, Any]) -> Mapped:
    email = get(customer, "email")
    if not isinstance(email, str):
        raise Ignored("customer without an e-mail address: nobody to keep in touch with")
    detail = {
        "customer_id": ident(need(customer, "id"), "id"),
        "email": email,
        "name": full_name(customer.get("first_name"), customer.get("last_name")),
        "registered_at": need(customer, "created_at"),
        **({"locale": locale(customer.get("locale"))} if locale(customer.get("locale")) else {}),
        **consent(customer),
    }
    return Mapped("CustomerRegistered", detail)


def _customer_updated(customer: dict[str, Any]) -> Mapped:
    name = full_name(customer.get("first_name"), customer.get("last_name"))
    detail = {
        "customer_id": ident(need(customer, "id"), "id"),
        "updated_at": need(customer, "updated_at"),
        **({"email": customer["email"]} if isinstance(get(customer, "email"), str) else {}),
        **({"name": name} if name else {}),
        **({"locale": locale(customer.get("locale"))} if locale(customer.get("locale")) else {}),
        **consent(customer),
    }
    return Mapped("CustomerUpdated", detail)
