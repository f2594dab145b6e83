"""The tracking API: DynamoDB writes per tracking request and requests handled per second.

Method: on the embedded AWS, N customers enter the win-back and get one email each (setup,
not measured). Then, through the real tracking handler with HTTP API v2 events (no HTTP
server: the handler's own cost), for every email: a human open, a repeated open (a reload:
totals move, unique counts do not), an Apple-proxy open, a human click (302), a scanner HEAD,
a one-click unsubscribe (POST) on every tenth email, and a request with a tampered token.
A botocore hook counts DynamoDB requests by operation; wall-clock time covers the handler
calls only (one process, one core, DynamoDB answered by the in-process emulator).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.common import Row
from retention.store import dynamo
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.metering import RequestCounter
from retention_tools.local.simulation import SIMULATION_TIMERS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def measure(customers: int = 150) -> list[Row]:
    from factories import T0
    from journey_helpers import World, treated
    from tracking_helpers import links_of, request

    sent = T0 + timedelta(days=90)
    read = sent + timedelta(hours=2)
    rows: list[Row] = []
    with EmbeddedAws(stage="bench-tracking", env=SIMULATION_TIMERS):
        world = World()
        ids = treated("TB", customers)
        world.winback_sent(ids, T0, sent)
        links = [links_of(world.mail_to(cid)[0]) for cid in ids]
        request("GET", f"/o/{links[0].pixel}", read)  # warm the container
        kinds = [
            ("human open", lambda m: ("GET", f"/o/{m.pixel}", {})),
            ("repeated open", lambda m: ("GET", f"/o/{m.pixel}", {})),
            ("Apple proxy open", lambda m: ("GET", f"/o/{m.pixel}", {"user_agent": "Mozilla/5.0", "ip": "17.1.2.3"})),
            ("human click (302)", lambda m: ("GET", f"/c/{m.clicks[0]}", {})),
            ("scanner HEAD", lambda m: ("HEAD", f"/c/{m.clicks[0]}", {})),
            ("tampered token (404)", lambda m: ("GET", f"/c/{m.clicks[0][:-2]}xx", {})),
        ]
        total_requests, total_seconds, total_writes = 0, 0.0, 0
        for label, make in kinds:
            counter = RequestCounter()
            started = time.perf_counter()
            with counter.watching(dynamo.client()):
                for link in links[1:]:
                    method, path, extra = make(link)
                    request(method, path, read + timedelta(minutes=5), **extra)
            seconds = time.perf_counter() - started
            n = len(links) - 1
            writes = sum(v for op, v in counter.calls.items() if op in WRITES)
            total_requests, total_seconds, total_writes = (
                total_requests + n,
                total_seconds + seconds,
                total_writes + writes,
            )
            ops = ", ".join(f"{op} {v / n:.2f}" for op, v in sorted(counter.calls.items()))
            rows.append(
                Row(
                    f"DynamoDB writes per tracking request ({label})",
                    f"{writes / n:.2f}",
                    f"{n} requests; per request: {ops or 'none'}",
                )
            )
        counter = RequestCounter()
        unsubscribes = links[1::10]
        started = time.perf_counter()
        with counter.watching(dynamo.client()):
            for link in unsubscribes:
                request("POST", f"/u/{link.unsubscribe}", read, body=b"List-Unsubscribe=One-Click")
        seconds = time.perf_counter() - started
        writes = sum(v for op, v in counter.calls.items() if op in WRITES)
        n = len(unsubscribes)
        ops = ", ".join(f"{op} {v / n:.2f}" for op, v in sorted(Counter(counter.calls).items()))
        rows.append(
            Row(
                "DynamoDB writes per tracking request (one-click unsubscribe)",
                f"{writes / n:.2f}",
                f"{n} requests; per request: {ops}",
            )
        )
        total_requests, total_seconds = total_requests + n, total_seconds + seconds
        rows.append(
            Row(
                "tracking requests handled per second through the handler",
                f"{total_requests / total_seconds:.0f}",
                f"{total_requests} requests of the kinds above; wall clock of the handler calls, one core, "
                "embedded AWS",
            )
        )
    return rows


def run() -> list[Row]:
    return measure()
