"""Capacity model: what 1 M and 10 M customers and 1 M emails a day cost per month on AWS.

Request counts per operation are the measured ones (``make bench``: bench_ingest, bench_sweep,
bench_dispatch, bench_tracking); request *units* follow DynamoDB's rules from the item sizes
below (reads: 4 KB per unit, strongly consistent 1, eventually consistent 0.5; writes: 1 KB per
unit; transactional reads and writes count double). Prices are on-demand list prices
(eu-west-1, late 2026) and are parameters: check them against the AWS price list before use.

Run: ``python bench/capacity.py`` (or ``make capacity``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# ---- measured request counts (make bench) ------------------------------------------------
ORDER = {"reads": [("profile", True)], "transactions": [["marker", "profile", "timer"]]}  # 2 requests
EMAIL_ENTRY = {  # 2 requests: BatchGet snapshot (profile, contact, state) + the claim (entry merged in)
    "reads": [("profile", True), ("contact", True), ("state", True)],
    "transactions": [["send", "contact", "state", "timer", "counter"]],
}
EMAIL_STEP = {  # 2 requests: BatchGet snapshot + the claim (the streak is on the contact item)
    "reads": [("profile", True), ("contact", True), ("state", True)],
    "transactions": [["send", "contact", "state", "timer", "counter"]],
}
TRACKING = {"reads": [("send", False)], "writes": ["send", "counter"]}  # 1 GetItem + 2 UpdateItem
ENGAGEMENT_SUMMARY = {"writes": ["contact"]}  # + 1 UpdateItem on a person's first open or a click
SES_EVENT = {"reads": [("send", False)], "writes": ["send", "counter"]}
SWEEP_TICK_FIXED = {"reads": [("cursor", True)] + [("query_page", False)] * 8, "writes": ["cursor"]}
SWEEP_PER_TIMER = {"reads": [("profile", False)], "writes": ["timer"], "transactions": [["timer", "profile"]]}

# ---- item sizes in KB ------------------------------------------------------------------------
SIZE = {
    "profile": 2.0,
    "marker": 1.0,
    "timer": 0.5,
    "contact": 1.5,
    "state": 1.0,
    "send": 2.0,
    "counter": 0.5,
    "cursor": 0.2,
    "query_page": 4.0,
    "marker_projection": 0.3,
}


@dataclass(frozen=True)
class Prices:
    write_unit: float = 0.625 / 1e6  # on-demand WRU
    read_unit: float = 0.125 / 1e6  # on-demand RRU
    storage_gb_month: float = 0.25
    lambda_request: float = 0.20 / 1e6
    lambda_gb_second: float = 0.0000166667
    sqs_request: float = 0.40 / 1e6
    eventbridge_event: float = 1.00 / 1e6
    http_api_request: float = 1.00 / 1e6
    ses_email: float = 0.10 / 1000


@dataclass(frozen=True)
class Workload:
    customers: int
    emails_per_day: int = 1_000_000
    orders_per_customer_year: float = 2.5
    share_entry_emails: float = 0.35  # emails sent on journey entry (the rest by a step timer)
    opens_per_email: float = 0.75  # human + machine pixel fetches, repeats included
    clicks_per_email: float = 0.12  # human + scanner
    other_tracking_per_email: float = 0.01  # unsubscribe/preference pages and posts
    engaged_per_email: float = 0.45  # a person's first open or a click: the contact's engagement summary
    ses_events_per_email: float = 1.02  # delivery (+ bounces, complaints)
    timers_fired_per_customer_day: float = 0.02
    kb_per_customer: float = 6.0  # profile, contact, states, timers, order markers
    kb_per_email: float = 2.5  # send record with its markers (kept a year)
    retention_days_send_records: int = 365


def _units(op: dict) -> tuple[float, float]:
    reads = writes = 0.0
    for item, consistent in op.get("reads", []):
        reads += math.ceil(SIZE[item] / 4) * (1.0 if consistent else 0.5)
    for item in op.get("writes", []):
        writes += math.ceil(SIZE[item])
    for items in op.get("transactions", []):
        writes += 2 * sum(math.ceil(SIZE[i]) for i in items)
    return reads, writes


def monthly(w: Workload, p: Prices = Prices()) -> dict[str, float]:
    days = 30.4
    orders = w.customers * w.orders_per_customer_year / 365 * days
    emails = w.emails_per_day * days
    tracking = emails * (w.opens_per_email + w.clicks_per_email + w.other_tracking_per_email)
    ses_events = emails * w.ses_events_per_email
    timers = w.customers * w.timers_fired_per_customer_day * days
    ticks = 96 * days
    parts = {
        "orders": (orders, _units(ORDER)),
        "emails (entry)": (emails * w.share_entry_emails, _units(EMAIL_ENTRY)),
        "emails (later step)": (emails * (1 - w.share_entry_emails), _units(EMAIL_STEP)),
        "tracking requests": (tracking, _units(TRACKING)),
        "engagement summary": (emails * w.engaged_per_email, _units(ENGAGEMENT_SUMMARY)),
        "SES events": (ses_events, _units(SES_EVENT)),
        "sweep: fixed per tick": (ticks, _units(SWEEP_TICK_FIXED)),
        "sweep: per timer fired": (timers, _units(SWEEP_PER_TIMER)),
    }
    rru = sum(n * u[0] for n, u in parts.values())
    wru = sum(n * u[1] for n, u in parts.values())
    storage_gb = (
        w.customers * w.kb_per_customer + w.emails_per_day * w.retention_days_send_records * w.kb_per_email
    ) / 1e6
    # Lambda: invocations (SQS batches of 10; one per tracking request; 96 sweeps a day) and GB-seconds
    invocations = {
        "order_ingest": (orders / 10, 0.5, 0.25),
        "journey_dispatch": (emails * 1.6 / 10, 1.0, 1.2),  # 1.6 engine events per email, 10 per batch
        "tracking": (tracking, 0.5, 0.03),
        "ses_events": (ses_events / 10, 0.5, 0.2),
        "timer_sweep": (ticks, 0.5, 2.0 + timers / ticks * 0.01),
    }
    lambda_requests = sum(n for n, _, _ in invocations.values())
    gb_seconds = sum(n * gb * seconds for n, gb, seconds in invocations.values())
    sqs = (orders + emails * 1.6 + ses_events) / 10 * 3  # receive, delete, and an empty poll per batch
    events = orders * 2 + emails * 1.6 + ses_events
    cost = {
        "DynamoDB reads": rru * p.read_unit,
        "DynamoDB writes": wru * p.write_unit,
        "DynamoDB storage": storage_gb * p.storage_gb_month,
        "Lambda requests": lambda_requests * p.lambda_request,
        "Lambda compute": gb_seconds * p.lambda_gb_second,
        "SQS": sqs * p.sqs_request,
        "EventBridge": events * p.eventbridge_event,
        "HTTP API (tracking)": tracking * p.http_api_request,
        "SES": emails * p.ses_email,
    }
    return {
        "read units / month": rru,
        "write units / month": wru,
        "storage GB": storage_gb,
        "Lambda invocations / month": lambda_requests,
        "Lambda GB-seconds / month": gb_seconds,
        "tracking requests / month": tracking,
        **{f"$ {k}": v for k, v in cost.items()},
        "$ total / month": sum(cost.values()),
    }


def main() -> None:
    workloads = [Workload(1_000_000), Workload(10_000_000)]
    results = [monthly(w) for w in workloads]
    print("| per month (1 M emails/day) | 1 M customers | 10 M customers |")
    print("|---|---:|---:|")
    for key in results[0]:
        values = [r[key] for r in results]
        shown = [f"{v:,.2f}" if key.startswith("$") else f"{v:,.0f}" for v in values]
        print(f"| {key} | {shown[0]} | {shown[1]} |")


if __name__ == "__main__":
    main()
