"""Synthetic shops for the churn refit: order histories and the profiles they leave at a date."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from retention.models.profile import MAX_ORDER_DATES, CustomerProfile

History = dict[str, list[datetime]]


def reorder_shop(
    customers: int,
    end: datetime,
    gap_days: float = 10.0,
    stop_chance: float = 0.06,
    joined_within_days: float = 540.0,
    seed: int = 7,
) -> History:
    """A shop whose customers reorder every ~``gap_days`` (gamma-distributed gaps) until they stop:
    after each order a customer stops for good with ``stop_chance``, so some keep ordering and
    some, often long-standing ones, have gone quiet. Customers join uniformly over the
    ``joined_within_days`` before ``end``."""
    rng = random.Random(seed)
    history: History = {}
    for n in range(customers):
        at = end - timedelta(days=rng.uniform(0, joined_within_days))
        dates: list[datetime] = []
        while at <= end:
            dates.append(at)
            if rng.random() < stop_chance:
                break
            at += timedelta(days=rng.gammavariate(4, gap_days / 4))
        history[f"S{n:05d}"] = dates
    return history


def profile_as_of(customer_id: str, dates: list[datetime], as_of: datetime) -> CustomerProfile | None:
    """The profile the engine would hold at ``as_of`` (the last 50 order dates), or ``None``."""
    seen = [d for d in dates if d <= as_of]
    if not seen:
        return None
    return CustomerProfile(
        customer_id=customer_id,
        email=f"{customer_id.lower()}@example.com",
        order_count=len(seen),
        total_spent=Decimal(20 * len(seen)),
        currency="EUR",
        first_order_at=seen[0],
        last_order_at=seen[-1],
        order_dates=seen[-MAX_ORDER_DATES:],
        order_totals=[Decimal(20)] * len(seen[-MAX_ORDER_DATES:]),
    )


def profiles_as_of(history: History, as_of: datetime) -> list[CustomerProfile]:
    return [p for p in (profile_as_of(cid, dates, as_of) for cid, dates in history.items()) if p is not None]


def ordered_between(history: History, customer_id: str, start: datetime, end: datetime) -> bool:
    return any(start < d <= end for d in history[customer_id])
