"""Retention rate per journey, for treated and hold-out customers, from the stored orders.

A customer "is a customer" at a moment if they ordered within the ``active_days`` before it
(default 365). For a period [start, end]: C = customers at the start, A = customers at the
end, B = customers whose first order fell inside the period, and the rate is (A − B) / C.
Computed per journey over its participants (treated and hold-out apart) and for the shop.

This reads every order and journey state: one paginated Scan. It is a report a person runs
(`retention report`), never a per-event or scheduled path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from retention.reporting.stats import retention_rate
from retention.store import dynamo


@dataclass
class CustomerOrders:
    first: datetime | None = None
    times: list[datetime] = field(default_factory=list)

    def active_at(self, at: datetime, window: timedelta) -> bool:
        return any(at - window < t <= at for t in self.times)


@dataclass(frozen=True)
class RetentionFigures:
    at_start: int
    at_end: int
    new: int

    @property
    def rate(self) -> float | None:
        return retention_rate(self.at_end, self.new, self.at_start)

    def as_dict(self) -> dict:
        rate = self.rate
        return {"C_at_start": self.at_start, "A_at_end": self.at_end, "B_new": self.new, "rate": rate}


@dataclass
class Participants:
    treated: set[str] = field(default_factory=set)
    holdout: set[str] = field(default_factory=set)


def figures(
    customers: Iterable[str], orders: dict[str, CustomerOrders], start: datetime, end: datetime, active_days: int
) -> RetentionFigures:
    window = timedelta(days=active_days)
    at_start = at_end = new = 0
    for customer in customers:
        history = orders.get(customer)
        if history is None:
            continue
        at_start += history.active_at(start, window)
        at_end += history.active_at(end, window)
        new += history.first is not None and start < history.first <= end
    return RetentionFigures(at_start, at_end, new)


def scan_orders_and_journeys(table_name: str) -> tuple[dict[str, CustomerOrders], dict[str, Participants]]:
    orders: dict[str, CustomerOrders] = defaultdict(CustomerOrders)
    journeys: dict[str, Participants] = defaultdict(Participants)
    pages = (
        dynamo.client()
        .get_paginator("scan")
        .paginate(
            TableName=table_name,
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
                placed = datetime.fromisoformat(str(data["placed_at"]))
                history = orders[customer]
                history.times.append(placed)
                history.first = min(history.first or placed, placed)
            elif data["type"] == "journey" and data.get("entered_at"):
                group = journeys[str(data.get("journey", ""))]
                (group.holdout if data.get("status") == "holdout" else group.treated).add(customer)
    return dict(orders), dict(journeys)
