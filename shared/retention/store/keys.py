"""Every key of the customers table, spelt once (single-table design, keys ``pk``/``sk``).

=======================  ==============================  =========================================
pk                       sk                              item
=======================  ==============================  =========================================
``CUST#<id>``            ``PROFILE``                     the profile (optimistic lock on ``version``)
``CUST#<id>``            ``ORDER#<order id>``            order record = idempotency marker of the order
``CUST#<id>``            ``EVENT#REGISTERED``            marker of the registration event
``CUST#<id>``            ``ORDER#<id>#REFUND#<refund>``  marker of a refund of that order
``CUST#<id>``            ``ORDER#<id>#CANCELLED``        marker of the order's cancellation
``CUST#<id>``            ``UPDATE#<update id or time>``  marker of a CustomerUpdated (or a repeated registration)
``CUST#<id>``            ``REFERRAL#<referred id>``      marker of a referral, in the referrer's partition
``CUST#<id>``            ``TIMER#<kind>``                a timer (inactivity, birthday, journey step, coupon)
``CUST#<id>``            ``CONTACT``                     contact state (suppression, recent sends, engagement)
``CUST#<id>``            ``COUPON#<code>``               a coupon the engine issued
``CUST#<id>``            ``JOURNEY#<journey>``           the customer's state in one journey
``MSG#<message id>``     ``MSG``                         send record (+ engagement markers)
``COUNT#<journey>#<n>``  ``<day>#<step>#<variant>``      write-sharded journey counters
``STATS``                ``POPULATION``                  the daily population statistics
``SWEEP``                ``CURSOR``                      the timer sweep's cursor
``SHOPORDER#<p>#<id>``   ``CUSTOMER``                    who placed a platform's order (webhooks, store/shop_orders.py)
=======================  ==============================  =========================================

A customer's partition sorts ``CONTACT`` < ``COUPON#…`` < ``EVENT#…`` < ``JOURNEY#…`` <
``ORDER#…`` < ``PROFILE`` < ``REFERRAL#…`` < ``TIMER#…`` < ``UPDATE#…``: one Query from ``CONTACT`` to
``JOURNEY#~`` reads the contact, the coupons and every journey state of a customer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

CUSTOMER = "CUST#"
PROFILE = "PROFILE"
ORDER = "ORDER#"
REGISTERED = "EVENT#REGISTERED"
REFERRAL = "REFERRAL#"
UPDATE = "UPDATE#"
TIMER = "TIMER#"
CONTACT = "CONTACT"
COUPON = "COUPON#"
JOURNEY = "JOURNEY#"
MESSAGE = "MSG#"
MESSAGE_SK = "MSG"
COUNTER = "COUNT#"
SHOP_ORDER = "SHOPORDER#"
SHOP_ORDER_SK = "CUSTOMER"
AFTER_LAST = "~"
"""Sorts after every key character used here: ``JOURNEY#~`` ends a range of journey states."""

Key = dict[str, dict[str, str]]


def key(pk: str, sk: str) -> Key:
    """A table key in DynamoDB's attribute form."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def customer_pk(customer_id: str) -> str:
    return f"{CUSTOMER}{customer_id}"


def customer_id_of(pk: str) -> str:
    return pk.removeprefix(CUSTOMER)


def profile_key(customer_id: str) -> Key:
    return key(customer_pk(customer_id), PROFILE)


def order_sk(order_id: str) -> str:
    return f"{ORDER}{order_id}"


def refund_sk(order_id: str, refund_id: str) -> str:
    return f"{ORDER}{order_id}#REFUND#{refund_id}"


def cancellation_sk(order_id: str) -> str:
    return f"{ORDER}{order_id}#CANCELLED"


def update_sk(update_key: str) -> str:
    return f"{UPDATE}{update_key}"


def referral_sk(referred_id: str) -> str:
    return f"{REFERRAL}{referred_id}"


def timer_sk(kind: str) -> str:
    return f"{TIMER}{kind}"


def journey_sk(journey: str) -> str:
    return f"{JOURNEY}{journey}"


def coupon_sk(code: str) -> str:
    return f"{COUPON}{code}"


def answer_sk(message_id: str) -> str:
    """The marker of a message's feedback answer, under its customer (erased with the customer)."""
    return f"ANSWER#{message_id}"


def message_key(message_id: str) -> Key:
    return key(f"{MESSAGE}{message_id}", MESSAGE_SK)


def counter_pk(journey: str, shard: int) -> str:
    return f"{COUNTER}{journey}#{shard}"


def counter_sk(day: date, step: str, variant: str) -> str:
    return f"{day.isoformat()}#{step}#{variant}"


def counter_sk_range(since: date, until: date) -> tuple[str, str]:
    """The sort keys of every counter from ``since`` to ``until`` inclusive."""
    return since.isoformat(), f"{until.isoformat()}#{AFTER_LAST}"


def parse_counter_sk(sk: str) -> tuple[str, str, str]:
    day, step, variant = sk.split("#", 2)
    return day, step, variant


SHOP_PLATFORMS = ("shopify", "woocommerce", "generic")
"""The webhook platforms (``POST /shop/{platform}``) whose order links erasure looks for."""


def shop_order_key(platform: str, order_id: str) -> Key:
    return key(f"{SHOP_ORDER}{platform}#{order_id}", SHOP_ORDER_SK)


STATS_KEY = key("STATS", "POPULATION")
SWEEP_CURSOR_KEY = key("SWEEP", "CURSOR")

BOOKKEEPING = ("pk", "sk", "type")
"""Attributes every item carries beside its model's fields."""


def without_bookkeeping(data: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name not in BOOKKEEPING}
