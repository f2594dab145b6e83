"""What the platform mappers share: reading fields of an untrusted payload, and their outcomes.

A mapper returns :class:`Mapped` events (detail-type and detail, in the engine's schema, not yet
validated: webhook.py validates every one with the event models before anything is published),
raises :class:`Malformed` naming the field it could not read (400), or :class:`Ignored` for a
topic or state the engine has no event for (202, counted).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_COUPON = re.compile(r"^[A-Za-z0-9\-]{3,40}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
_SLUG = re.compile(r"[^a-z0-9]+")
UNCATEGORISED = "uncategorised"


class Malformed(ValueError):
    """The payload lacks a field the event needs, or holds the wrong type there."""

    def __init__(self, field: str, problem: str = "missing") -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class Ignored(Exception):
    """A verified delivery the engine has no event for (a topic or an order state): 202."""


@dataclass(frozen=True)
class Mapped:
    detail_type: str
    detail: dict[str, Any]


def need(payload: Any, path: str, at: str = "") -> Any:
    """``payload["a"]["b"]`` for ``path`` "a.b"; :class:`Malformed` naming the path (under ``at``,
    where ``payload`` sits in the whole body: "line_items.1") if absent or null."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict) or value.get(part) in (None, ""):
            raise Malformed(f"{at}.{path}" if at else path)
        value = value[part]
    return value


def get(payload: Any, path: str) -> Any:
    """Like :func:`need`, but ``None`` when absent."""
    try:
        return need(payload, path)
    except Malformed:
        return None


def need_list(payload: Any, path: str) -> list[Any]:
    value = need(payload, path)
    if not isinstance(value, list):
        raise Malformed(path, "not a list")
    return value


def ident(value: Any, path: str) -> str:
    """Platform ids are integers (Shopify, WooCommerce) or strings; the engine's are strings."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Malformed(path, "not an id")
    return str(value)


def decimal_of(value: Any, path: str) -> Decimal:
    """A finite decimal from a JSON string or number; :class:`Malformed` for anything else
    (``NaN``, ``Infinity``, ``1e999999``, booleans, text)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Malformed(path, "not a decimal amount")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise Malformed(path, "not a decimal amount") from None
    if not number.is_finite() or abs(number.adjusted()) > 15:
        raise Malformed(path, "not a decimal amount")
    return number


def guest_id(email: str) -> str:
    """A stable customer id for a guest checkout (no account): the same address, the same
    customer, so a guest's repeat orders build one profile. Hashed: ids appear in logs."""
    return "guest-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def full_name(first: Any, last: Any) -> str:
    return " ".join(str(part).strip() for part in (first, last) if isinstance(part, str) and part.strip())


def category(*candidates: Any) -> str:
    """The first non-empty candidate as a category slug ("Coffee Beans" -> "coffee-beans")."""
    for candidate in candidates:
        if isinstance(candidate, str):
            slug = _SLUG.sub("-", candidate.lower()).strip("-")[:40].strip("-")
            if slug:
                return slug
    return UNCATEGORISED


def coupon(code: Any) -> str | None:
    """A discount code the engine could have issued, else none: a shop's free-form code
    ("SUMMER SALE 10%") must not make a whole order invalid."""
    return code if isinstance(code, str) and _COUPON.match(code) else None


def locale(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 20 and _LOCALE.match(value) else None


def utc_from_gmt(value: Any, path: str) -> str:
    """WooCommerce's ``*_gmt`` fields are UTC without a zone ("2026-03-14T09:30:00")."""
    if not isinstance(value, str) or not value:
        raise Malformed(path)
    return value if value.endswith("Z") or "+" in value[10:] else value + "+00:00"


def sku_of(line: dict[str, Any], path: str) -> str:
    """The line's SKU when it is one the engine accepts, else a stable stand-in from its
    variant, product or line id (SKUs are optional in both platforms and may hold spaces)."""
    sku = line.get("sku")
    if isinstance(sku, str) and _SKU.match(sku.strip()):
        return sku.strip()
    stand_ins = (("variant_id", "variant-"), ("variation_id", "variant-"), ("product_id", "product-"), ("id", "line-"))
    for key, prefix in stand_ins:
        if line.get(key) not in (None, 0, "", "0"):  # WooCommerce says 0 for "no variation"
            return prefix + ident(line[key], f"{path}.{key}")
    raise Malformed(f"{path}.sku")
