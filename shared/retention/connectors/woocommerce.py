"""WooCommerce webhooks (REST API v3 resource payloads) to shop events.

Topics (``X-WC-Webhook-Topic``): ``order.created`` -> OrderPlaced (unless the order is already
failed, cancelled or a checkout draft); ``order.updated`` -> OrderCancelled when its status is
``cancelled``, one OrderRefunded per entry of its ``refunds`` list (full or partial; status
``refunded`` is simply the full one), and OrderPlaced again while it is paid or on hold (the
order id makes it a no-op when order.created arrived, and a missed order.created is made good);
``customer.created`` -> CustomerRegistered; ``customer.updated`` -> CustomerUpdated.

WooCommerce records no marketing consent, so consent is left unknown (under the ``explicit``
policy such a customer gets no marketing e-mail until a consent arrives another way). Its
``*_gmt`` times are UTC without a zone. A guest order (``customer_id`` 0) gets a stable hashed
id from the billing e-mail. Woo's refund summaries carry no date: a refund is dated by the
order's ``date_modified_gmt`` of the update that first shows it (later updates repeat it, and
the refund id makes them no-ops). Line items carry no category: ``uncategorised``; the
unit price is the line's ``subtotal`` over its quantity (before coupons, like Shopify's ``price``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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
    need,
    need_list,
    sku_of,
    utc_from_gmt,
)

PLATFORM = "woocommerce"
TOPIC_HEADER = "x-wc-webhook-topic"
SIGNATURE_HEADER = "x-wc-webhook-signature"
DELIVERY_HEADER = "x-wc-webhook-delivery-id"
PLACED_STATES = frozenset({"pending", "processing", "on-hold", "completed"})
PAID_STATES = frozenset({"processing", "on-hold", "completed"})


def map_webhook(topic: str, payload: Any) -> list[Mapped]:
    if not isinstance(payload, dict):
        raise Malformed("body", "not a JSON object")
    if topic == "order.created":
        if _status(payload) not in PLACED_STATES:
            raise Ignored(f"order created in status {str(payload['status'])[:30]!r}")
        return [_order_placed(payload)]
    if topic == "order.updated":
        return _order_updated(payload)
    if topic == "customer.created":
        return [_customer_registered(payload)]
    if topic == "customer.updated":
        return [_customer_updated(payload)]
    raise Ignored(f"topic {topic[:60]!r} has no engine event")


def _status(order: dict[str, Any]) -> str:
    status = need(order, "status")
    if not isinstance(status, str):
        raise Malformed("status", "not a string")
    return status


def _customer_of_order(order: dict[str, Any]) -> tuple[str, str]:
    email = get(order, "billing.email")
    if not isinstance(email, str):
        raise Ignored("order without a billing e-mail address: nobody to keep in touch with")
    customer = order.get("customer_id")
    if customer in (None, 0, "0", ""):
        return guest_id(email), email
    return ident(customer, "customer_id"), email


def _order_placed(order: dict[str, Any]) -> Mapped:
    customer_id, email = _customer_of_order(order)
    items = []
    for n, line in enumerate(need_list(order, "line_items")):
        path = f"line_items.{n}"
        if not isinstance(line, dict):
            raise Malformed(path, "not an object")
        if need(line, "quantity", path) == 0:
            continue
        items.append(
            {
                "sku": sku_of(line, path),
                "name": line.get("name") or "",
                "category": category(line.get("category")),
                "price": _unit_price(line, path),
                "qty": line["quantity"],
            }
        )
    lines = order.get("coupon_lines") if isinstance(order.get("coupon_lines"), list) else []
    code = next((coupon(c.get("code")) for c in lines if isinstance(c, dict) and coupon(c.get("code"))), None)
    detail = {
        "order_id": ident(need(order, "id"), "id"),
        "customer_id": customer_id,
        "email": email,
        "name": full_name(get(order, "billing.first_name"), get(order, "billing.last_name")),
        "placed_at": utc_from_gmt(get(order, "date_created_gmt"), "date_created_gmt"),
        "currency": need(order, "currency"),
        "total": need(order, "total"),
        "items": items,
        **({"coupon_code": code} if code else {}),
    }
    return Mapped("OrderPlaced", detail)


def _unit_price(line: dict[str, Any], path: str) -> str:
    """The unit price before discounts: ``subtotal`` / ``quantity``, to the cent. Woo's ``price``
    is a float after discounts (3.3333...), which no money field should carry."""
    subtotal = decimal_of(need(line, "subtotal", path), f"{path}.subtotal")
    quantity = decimal_of(need(line, "quantity", path), f"{path}.quantity")
    if quantity <= 0:
        raise Malformed(f"{path}.quantity", "not a positive number")
    return str((subtotal / quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _order_updated(order: dict[str, Any]) -> list[Mapped]:
    status = _status(order)
    order_id = ident(need(order, "id"), "id")
    mapped: list[Mapped] = []
    if status in PAID_STATES:
        mapped.append(_order_placed(order))
    if status == "cancelled":
        customer_id, _ = _customer_of_order(order)
        modified = utc_from_gmt(get(order, "date_modified_gmt"), "date_modified_gmt")
        mapped.append(
            Mapped("OrderCancelled", {"order_id": order_id, "customer_id": customer_id, "cancelled_at": modified})
        )
    refunds = order.get("refunds") if isinstance(order.get("refunds"), list) else []
    for n, refund in enumerate(refunds):
        if not isinstance(refund, dict):
            raise Malformed(f"refunds.{n}", "not an object")
        amount = abs(decimal_of(need(refund, "total", f"refunds.{n}"), f"refunds.{n}.total"))  # Woo: negative
        if amount == 0:
            continue
        customer_id, _ = _customer_of_order(order)
        detail = {
            "refund_id": ident(need(refund, "id", f"refunds.{n}"), f"refunds.{n}.id"),
            "order_id": order_id,
            "customer_id": customer_id,
            "refunded_at": utc_from_gmt(get(order, "date_modified_gmt"), "date_modified_gmt"),
            "currency": need(order, "currency"),
            "amount": str(amount),
            "reason": refund.get("reason") if isinstance(refund.get("reason"), str) else "",
        }
        mapped.append(Mapped("OrderRefunded", detail))
    if not mapped:
        raise Ignored(f"order update in status {str(status)[:30]!r} without refunds")
    return mapped


def _customer_registered(customer: dict[str, Any]) -> Mapped:
    email = get(customer, "email")
    if not isinstance(email, str):
        raise Ignored("customer without an e-mail address")
    detail = {
        "customer_id": ident(need(customer, "id"), "id"),
        "email": email,
        "name": full_name(customer.get("first_name"), customer.get("last_name")),
        "registered_at": utc_from_gmt(get(customer, "date_created_gmt"), "date_created_gmt"),
    }
    return Mapped("CustomerRegistered", detail)


def _customer_updated(customer: dict[str, Any]) -> Mapped:
    name = full_name(customer.get("first_name"), customer.get("last_name"))
    detail = {
        "customer_id": ident(need(customer, "id"), "id"),
        "updated_at": utc_from_gmt(get(customer, "date_modified_gmt"), "date_modified_gmt"),
        **({"email": customer["email"]} if isinstance(get(customer, "email"), str) else {}),
        **({"name": name} if name else {}),
    }
    return Mapped("CustomerUpdated", detail)
