"""What a simulated customer-year costs on the embedded AWS: requests and seconds, at two sizes.

Method: ``run_demo`` (the whole ``make demo`` path: a generated year replayed through the real
handlers, sweeps on the 15-minute ticks with a timer due, the journeys' emails, the simulated
audience through the tracking API, the report) for 100 and 1,000 customers; requests counted
where the in-process emulator answers them (every request the engine, the shop's PutEvents and
the audience's tracking hits cause; the Lambda poller's own SQS calls are AWS's, not counted),
wall clock and process CPU time around the run. Per customer-year = divided by the customers.
"""

from __future__ import annotations

import time

from bench.common import Row
from retention_tools.demo import run_demo
from retention_tools.local import embedded

SIZES = (100, 1000)


def cost(customers: int) -> tuple[int, float, float, int]:
    before = sum(embedded.requests_answered.values())
    started, cpu = time.perf_counter(), time.process_time()
    result = run_demo(customers=customers, outbox=None)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return sum(embedded.requests_answered.values()) - before, seconds, cpu_seconds, result.emails


def run(sizes: tuple[int, ...] = SIZES) -> list[Row]:
    rows = []
    for customers in sizes:
        requests, seconds, cpu_seconds, emails = cost(customers)
        rows.append(
            Row(
                f"demo cost per simulated customer-year ({customers:,} customers)",
                f"{seconds / customers:.2f} s, {requests / customers:,.0f} requests",
                f"run_demo({customers}): {seconds:.0f} s wall, {cpu_seconds:.0f} s CPU, {requests:,} requests, "
                f"{emails:,} emails; baseline 3.06 s per customer-year (moto server, 2026-12-02)",
            )
        )
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
