"""Every order and journey entry ever stored, read once for the retention report.

This is a paginated Scan of the whole table (filtered to order and journey items, projected to
the few attributes the retention rate needs). It is for a report a person runs
(``retention report``, the demo): never call it from a per-event or scheduled path, whose cost
must grow with the work due, not with the number of customers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from retention.store import dynamo


@dataclass(frozen=True)
class OrderSeen:
    customer_id: str
    placed_at: datetime


@dataclass(frozen=True)
class JourneyEntered:
    customer_id: str
    journey: str
    held_out: bool


class HistoryStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def orders_and_entries(self) -> Iterator[OrderSeen | JourneyEntered]:
        """Each stored order and each journey a customer entered (treated or held out)."""
        pages = (
            dynamo.client()
            .get_paginator("scan")
            .paginate(
                TableName=self.table_name,
                FilterExpression="#t IN (:order, :journey)",
                ProjectionExpression="#t, customer_id, placed_at, journey, #s, entered_at",
                ExpressionAttributeNames={"#t": "type", "#s": "status"},
                ExpressionAttributeValues={":order": {"S": "order"}, ":journey": {"S": "journey"}},
            )
        )
        for page in pages:
            for item in page.get("Items", []):
                data = dynamo.from_attributes(item)
                customer = str(data.get("customer_id", ""))
                if data["type"] == "order" and data.get("placed_at"):
                    yield OrderSeen(customer, datetime.fromisoformat(str(data["placed_at"])))
                elif data["type"] == "journey" and data.get("entered_at"):
                    yield JourneyEntered(customer, str(data.get("journey", "")), data.get("status") == "holdout")
