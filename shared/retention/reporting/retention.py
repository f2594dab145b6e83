"""Retention rate per journey, for treated and hold-out customers, from the stored orders.

A customer "is a customer" at a moment if they ordered within the ``active_days`` before it
(default 365). For a period [start, end]: C = customers at the start, A = customers at the
end, B = customers whose first order fell inside the period, and the rate is (A − B) / C.
Computed per journey over its participants (treated and hold-out apart) and for the shop.

The orders and journey entries come from ``store.history`` (one paginated Scan): a report a
person runs (`retention report`), never a per-event or scheduled path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from retention.reporting.stats import retention_rate
from retention.store.history import JourneyEntered, OrderSeen


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


def orders_and_participants(
    seen: Iterable[OrderSeen | JourneyEntered],
) -> tuple[dict[str, CustomerOrders], dict[str, Participants]]:
    """Each customer's order times and each journey's treated and held-out customers."""
    orders: dict[str, CustomerOrders] = defaultdict(CustomerOrders)
    journeys: dict[str, Participants] = defaultdict(Participants)
    for record in seen:
        if isinstance(record, OrderSeen):
            history = orders[record.customer_id]
            history.times.append(record.placed_at)
            history.first = min(history.first or record.placed_at, record.placed_at)
        else:
            group = journeys[record.journey]
            (group.holdout if record.held_out else group.treated).add(record.customer_id)
    return dict(orders), dict(journeys)
