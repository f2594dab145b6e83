"""Reusable field types, validated the same way wherever they appear.

Every input is untrusted, so each type states its bounds: lengths, character sets, and
for time that it is timezone-aware (converted to UTC).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, StringConstraints

_LOCALE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BREAKS = frozenset(("Cc", "Zl", "Zp"))


def normalise_email(value: str) -> str:
    """The address in its normal form (domain lower-cased, Unicode NFC), or ValueError with why.

    The syntax is RFC 5322's dot-atom as email-validator implements it: ``o'brien@…`` and
    ``a+tag@…`` pass; control characters, quoted local parts, comments, group syntax
    (``a:b@…``), backslashes, brackets, IP-literal domains, special-use domains (``.test``,
    ``.invalid``, ``.local``…) and domains without a dot are refused. Internationalised
    addresses are accepted here (a shop may hold them); whether SES can send to one is
    :func:`retention.mail.addresses.deliverable_address`'s question. No DNS is consulted.
    """
    from email_validator import EmailNotValidError, validate_email  # 40 ms of regexes: paid on first use

    try:
        checked = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=True, strict=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized


def clean_text(value: str) -> str:
    """Customer-supplied text on one line: control characters, line and paragraph separators
    become spaces, bidirectional overrides (which can make a name display reversed) are dropped,
    a lone surrogate (JSON's ``"\\ud800"``, which no UTF-8 encoder accepts) becomes U+FFFD, and
    runs of whitespace shrink to one space. Applied where text enters (the event models), so
    nothing stored or rendered downstream carries a CR, LF or NUL."""
    kept = []
    for ch in value:
        if ch in _BIDI_CONTROLS:
            continue
        category = unicodedata.category(ch)
        kept.append(" " if category in _BREAKS else "\ufffd" if category == "Cs" else ch)
    return " ".join("".join(kept).split())


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (for example 2026-03-01T10:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-12:00 is a valid ISO text but no UTC datetime
        raise ValueError("timestamp is out of range in UTC") from None


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
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(normalise_email)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]
Locale = Annotated[str, StringConstraints(max_length=20), AfterValidator(_locale)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)]
"""A free-text note from the shop (a refund reason, a consent source): bounded and cleaned."""
PersonName = Annotated[str, StringConstraints(max_length=120), AfterValidator(clean_text)]
ProductName = Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)]
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
    "ProductName",
    "Quantity",
    "Sku",
    "TimeZoneName",
    "UtcDatetime",
]
