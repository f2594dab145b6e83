"""The journey dispatcher: DynamoDB requests per email sent and emails dispatched per second.

Method: on the embedded AWS (day-wide timer buckets), place one order for each of N customers
outside the win-back hold-out group (not measured), then deliver through the real handler, in
SQS batches of 10: (1) a CustomerInactive event per customer — each enters the win-back and
gets its first email at once; (2) a second delivery of the same events — duplicates, nothing
sent; (3) the TimerFired events the sweep emits seven days later — each sends step two. A
botocore hook counts DynamoDB and SES requests; wall-clock time covers the handler calls only
(one process, one core, SES and DynamoDB answered by the in-process emulator).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Row
from retention import clock
from retention.ingest import apply_shop_event
from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.lifecycle import default_stats
from retention.mail import ses
from retention.models.engine_events import EngineEvent, InactiveDetail
from retention.models.events import ShopEventAdapter
from retention.segments import load_definitions
from retention.settings import settings
from retention.store import dynamo
from retention.store.customers import CustomerStore
from retention.store.timers import TimerStore
from retention.sweep import run_sweep
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.metering import RequestCounter
from retention_tools.local.outbox import sent_count
from retention_tools.local.runtime import invoke, load_function
from retention_tools.local.simulation import SIMULATION_TIMERS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

T0 = datetime(2026, 3, 2, 11, tzinfo=UTC)
START = T0 + timedelta(days=90)


def _order(customer_id: str) -> dict:
    return {
        "id": f"e-{customer_id}",
        "source": "shop.orders",
        "time": T0.isoformat(),
        "detail-type": "OrderPlaced",
        "detail": {
            "order_id": f"O-{customer_id}",
            "customer_id": customer_id,
            "email": f"{customer_id.lower()}@example.com",
            "name": "Sam Example",
            "placed_at": T0.isoformat(),
            "currency": "EUR",
            "total": "25.00",
            "items": [{"sku": "S1", "category": "coffee-beans", "price": "25.00", "qty": 1}],
        },
    }


def _records(events: list[EngineEvent]) -> list[dict]:
    from journey_helpers import as_record

    return [as_record(event, f"m{n}") for n, event in enumerate(events)]


def _deliver(handler, events: list[EngineEvent], at: datetime) -> float:
    records = _records(events)
    started = time.perf_counter()
    with clock.frozen_at(at):
        for start in range(0, len(records), 10):
            invoke(handler, {"Records": records[start : start + 10]})
    return time.perf_counter() - started


def measure(customers: int = 200) -> list[Row]:
    share = load_journeys().frequency.holdout_share
    ids = [cid for cid in (f"B{n:06d}" for n in range(customers * 2)) if not in_holdout(cid, "winback", share)]
    ids = ids[:customers]
    rows: list[Row] = []
    with EmbeddedAws(stage="bench-dispatch", env=SIMULATION_TIMERS):
        table = settings().customers_table
        for cid in ids:
            with clock.frozen_at(T0):
                apply_shop_event(ShopEventAdapter.validate_python(_order(cid)), CustomerStore(table))
        handler = load_function("journey_dispatch").handler
        inactive = [
            EngineEvent(
                "CustomerInactive",
                InactiveDetail(customer_id=cid, firing=1, last_order_at=T0, lifecycle="at_risk", fired_at=START),
                START,
            )
            for cid in ids
        ]
        invoke(handler, {"Records": _records(inactive[:1])})  # warm the container (templates compiled)
        inactive = inactive[1:]
        sweep_events: list[EngineEvent] = []
        phases = [
            ("win-back entry + first email", lambda: inactive, START),
            ("duplicate delivery (nothing sent)", lambda: inactive, START + timedelta(minutes=5)),
            ("step timer → second email", lambda: sweep_events, START + timedelta(days=7, hours=1)),
        ]
        for label, events_of, at in phases:
            if label.startswith("step"):
                run_sweep(
                    now=at,
                    customers=CustomerStore(table),
                    timers=TimerStore(table),
                    stats=default_stats(at, load_definitions()),
                    definitions=load_definitions(),
                    publish=sweep_events.extend,
                )
            events = events_of()
            first_mail = sent_count()
            counter = RequestCounter()
            with counter.watching(dynamo.client(), ses.client()):
                seconds = _deliver(handler, events, at)
            sent = sent_count() - first_mail
            ddb = counter.total - counter.calls["SendEmail"]
            per = f"{ddb / sent:.2f}" if sent else f"{ddb / len(events):.2f} per event"
            ops = ", ".join(f"{op} {n / len(events):.2f}" for op, n in sorted(counter.calls.items()))
            rows.append(
                Row(
                    f"DynamoDB requests per email ({label})",
                    per,
                    f"{len(events)} events, {sent} emails; per event: {ops}",
                )
            )
            if sent:
                rows.append(
                    Row(
                        f"emails dispatched per second through the handler ({label})",
                        f"{sent / seconds:.0f}",
                        "wall clock of the handler calls, one core, embedded AWS (moto in-process)",
                    )
                )
    return rows


def run() -> list[Row]:
    return measure()


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
