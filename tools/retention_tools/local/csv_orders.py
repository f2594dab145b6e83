"""Reading order logs (CDNOW-style or ``customer_id,date,amount`` CSV) into OrderPlaced events.

Every row is untrusted: a row that cannot be read is reported with its line number and
reason and skipped; it never stops the replay.
"""

from __future__ import annotations

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
        except (ValueError, InvalidOperation) as exc:
            result.rejected.append(f"line {number}: {exc}")
            continue
        placed_at = datetime.combine(day, time(12, 0), tzinfo=UTC)
        detail = {
            "order_id": f"{customer}-L{number}",
            "customer_id": customer,
            "email": f"customer-{customer.lower()}@replay.example",
            "placed_at": placed_at,
            "currency": currency,
            "total": str(amount),
            "items": [{"sku": "REPLAY", "category": "general", "price": str(amount), "qty": 1}],
        }
        result.events.append(ShopEventRecord(placed_at, "OrderPlaced", detail))
    result.events.sort(key=lambda e: e.time)
    return result
