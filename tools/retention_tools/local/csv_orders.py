"""Reading order logs (CDNOW-style or ``customer_id,date,amount`` CSV) into OrderPlaced events.

Every row is untrusted: a row that cannot be read is reported with its line number and
reason and skipped; it never stops the replay.
"""

from __future__ import annotations

import argparse
import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from retention_tools.local.history import ShopEventRecord

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")


@dataclass(frozen=True)
class Columns:
    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    date_format: str = "%Y-%m-%d"
    email: str | None = None
    """Column with the customer's e-mail; without it a placeholder ``@replay.example`` address."""
    order: str | None = None
    """Column with the shop's order id; without it ``<customer>-L<line>`` (stable for one file)."""
    consent: str | None = None
    """Column with the marketing consent (yes/no, true/false, 1/0); without it consent is unknown."""


CDNOW = Columns(customer="0", date="1", amount="3", date_format="%Y%m%d")
"""CDNOW: whitespace-separated ``customer_id date(YYYYMMDD) number_of_cds dollar_value``."""


@dataclass
class ParsedLog:
    events: list[ShopEventRecord] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def _rows(path: Path, fmt: str) -> list[tuple[int, dict[str, str]]]:
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "cdnow":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.split()
            if parts and not parts[0].lower().startswith("customer"):
                rows.append((number, {str(i): value for i, value in enumerate(parts)}))
        return rows
    reader = csv.DictReader(text.splitlines())
    return [(number, row) for number, row in enumerate(reader, start=2)]


def read_orders(path: Path, fmt: str = "simple", columns: Columns | None = None, currency: str = "EUR") -> ParsedLog:
    """Orders from ``path``; ``fmt`` is ``cdnow`` or ``simple`` (CSV with a header row)."""
    columns = columns or (CDNOW if fmt == "cdnow" else Columns())
    result = ParsedLog()
    for number, row in _rows(path, fmt):
        try:
            customer = (row.get(columns.customer) or "").strip()
            if not _ID.match(customer):
                raise ValueError(f"customer id {customer[:20]!r} is empty or has unsupported characters")
            day = datetime.strptime((row.get(columns.date) or "").strip(), columns.date_format).date()
            amount = Decimal((row.get(columns.amount) or "").strip()).quantize(Decimal("0.01"))
            if not amount.is_finite() or amount < 0:
                raise ValueError("amount must be a non-negative number")
            order_id = (row.get(columns.order) or "").strip() if columns.order else f"{customer}-L{number}"
            if not _ID.match(order_id):
                raise ValueError(f"order id {order_id[:20]!r} is empty or has unsupported characters")
            email = (row.get(columns.email) or "").strip() if columns.email else ""
            if columns.email and "@" not in email:
                raise ValueError("e-mail column is empty or not an address")
            consent = _consent(row.get(columns.consent)) if columns.consent else None
        except (ValueError, InvalidOperation) as exc:
            result.rejected.append(f"line {number}: {exc}")
            continue
        placed_at = datetime.combine(day, time(12, 0), tzinfo=UTC)
        detail = {
            "order_id": order_id,
            "customer_id": customer,
            "email": email or f"customer-{customer.lower()}@replay.example",
            "placed_at": placed_at,
            "currency": currency,
            "total": str(amount),
            "items": [{"sku": "REPLAY", "category": "general", "price": str(amount), "qty": 1}],
        }
        if consent is not None:
            detail["marketing_consent"] = consent
        result.events.append(ShopEventRecord(placed_at, "OrderPlaced", detail))
    result.events.sort(key=lambda e: e.time)
    return result


_CONSENT = {"yes": True, "true": True, "1": True, "y": True, "no": False, "false": False, "0": False, "n": False}


def _consent(value: str | None) -> bool | None:
    """A consent cell: yes/no, true/false, 1/0; empty means unknown."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text not in _CONSENT:
        raise ValueError(f"consent {text[:10]!r} is not yes/no, true/false or 1/0")
    return _CONSENT[text]


def add_column_options(parser: argparse.ArgumentParser) -> None:
    """The options naming an order log's columns (``replay`` and ``import`` take the same)."""
    parser.add_argument("--format", choices=("simple", "cdnow"), default="simple")
    parser.add_argument("--customer-col", help="column with the customer id (simple: a header name)")
    parser.add_argument("--date-col", help="column with the order date")
    parser.add_argument("--amount-col", help="column with the order amount")
    parser.add_argument(
        "--date-format", help="strptime format of the date column (default %%Y-%%m-%%d; cdnow %%Y%%m%%d)"
    )
    parser.add_argument("--currency", default="EUR", help="ISO currency of the amounts (default EUR)")
    parser.add_argument("--email-col", help="column with the customer's e-mail (default: a placeholder address)")
    parser.add_argument("--order-col", help="column with the shop's order id (default: customer and line number)")
    parser.add_argument("--consent-col", help="column with the marketing consent, yes/no (default: unknown)")


def columns_from(args: argparse.Namespace) -> Columns:
    """The :class:`Columns` the options of :func:`add_column_options` name."""
    base = CDNOW if args.format == "cdnow" else Columns()
    return Columns(
        customer=args.customer_col or base.customer,
        date=args.date_col or base.date,
        amount=args.amount_col or base.amount,
        date_format=args.date_format or base.date_format,
        email=getattr(args, "email_col", None),
        order=getattr(args, "order_col", None),
        consent=getattr(args, "consent_col", None),
    )
