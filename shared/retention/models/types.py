"""Reusable field types, validated the same way wherever they appear.

Every input is untrusted, so each type states its bounds: lengths, character sets, and
for time that it is timezone-aware (converted to UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, StringConstraints

_EMAIL = re.compile(
    r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (for example 2026-03-01T10:00:00Z)")
    return value.astimezone(UTC)


_ZONES: frozenset[str] | None = None


def _time_zone(value: str) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if value not in _ZONES:
        raise ValueError(f"unknown IANA time zone {value[:40]!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - tzdata mismatch
        raise ValueError(f"unknown IANA time zone {value[:40]!r}") from exc
    return value


def _locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("locale must look like 'en', 'en_GB' or 'pt-BR'")
    return value.replace("-", "_")


Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
CustomerId = Identifier
OrderId = Identifier
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")]
Category = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9\-]*$", to_lower=True)
]
Email = Annotated[str, AfterValidator(_email)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]
Locale = Annotated[str, StringConstraints(max_length=20), AfterValidator(_locale)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
PersonName = Annotated[str, StringConstraints(max_length=120, strip_whitespace=True)]
CouponCode = Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9\-]+$", to_upper=True)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
Quantity = Annotated[int, Field(ge=1, le=10_000)]

__all__ = [
    "Category",
    "CouponCode",
    "CurrencyCode",
    "CustomerId",
    "Email",
    "Identifier",
    "Locale",
    "Money",
    "OrderId",
    "PersonName",
    "Quantity",
    "Sku",
    "TimeZoneName",
    "UtcDatetime",
]
