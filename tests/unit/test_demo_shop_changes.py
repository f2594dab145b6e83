"""The demo summary's count of refunds, cancellations and customer changes reads a history that
also holds the malformed events the ingest dead-letters (a 1,000-customer demo has an OrderPlaced
without its order_id, which crashed the summary after the whole year had run)."""

from __future__ import annotations

from datetime import UTC, datetime

from retention_tools.demo import shop_changes
from retention_tools.local.history import ShopEventRecord, generate_history

AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_malformed_events_in_the_history_are_read_without_a_crash() -> None:
    events = [
        ShopEventRecord(AT, "OrderPlaced", {"order_id": "O1", "total": "20.00"}),
        ShopEventRecord(AT, "OrderPlaced", {"total": "9.00"}),  # order_id missing: dead-lettered by the ingest
        ShopEventRecord(AT, "OrderRefunded", {"order_id": "O1", "amount": "20.00"}),
        ShopEventRecord(AT, "OrderRefunded", {"amount": "5.00"}),
        ShopEventRecord(AT, "OrderCancelled", {"order_id": "O2"}),
        ShopEventRecord(AT, "CustomerUpdated", {"customer_id": "C1", "marketing_consent": False, "email": "a@b.de"}),
    ]
    assert shop_changes(events) == {
        "full refunds": 1,
        "partial refunds": 1,
        "cancellations": 1,
        "consent withdrawals": 1,
        "e-mail changes": 1,
    }


def test_a_generated_history_with_every_kind_of_flaw_is_counted() -> None:
    history = generate_history(customers=120, seed=3, malformed=60)
    assert sum(shop_changes(history).values()) > 0
