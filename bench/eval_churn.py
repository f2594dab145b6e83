"""Does the churn-risk score rank who buys again better than recency and BG/NBD, replayed as a shop?

Data: the CDNOW master transaction log shipped inside the ``lifetimes`` package (23,570
customers who first bought in Q1 1997, purchases until 1998-06-30). The engine sees it exactly
as a shop's own log: ``retention_tools.local.csv_orders`` reads it (``--format cdnow``), and
``retention_tools.local.replay`` publishes the orders day by day through the real
``order_ingest`` handler on the embedded AWS (simulated clock). At each cut-off the real
``segment_stats`` handler runs (the daily statistics job): it refits the churn weights on the
shop's history as of that day — features 90 days earlier, label = ordered since — and stores its
risk percentiles, knowing nothing of what comes after. Each replayed profile is then classified
at the cut-off with the stored statistics (``retention.segments.classify``, what every event
does), and the holdout is read from the file:

* label: the customer buys again after the cut-off, until the end of the log;
* engine: minus the churn risk classify gives;
* recency: minus the days since the last order;
* BG/NBD: ``lifetimes.BetaGeoFitter`` fit on the orders up to the cut-off, scored by the
  expected number of purchases until the end of the log;
* calibration: for customers who did reorder, the median absolute error in days between
  ``expected_next_order_at`` and their first order after the cut-off.

Cut-offs: 1997-06-30, 1997-09-30 (the split the shipped weights were made on) and 1997-12-31.
Orders are replayed once, the cut-offs in order. ``--customers N`` replays a deterministic
sample of N customers (hash of the id) for a quicker run; the default is all of them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT / "tools")]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

import lifetimes.datasets  # noqa: E402
import numpy as np  # noqa: E402
from lifetimes import BetaGeoFitter  # noqa: E402

from retention import clock  # noqa: E402
from retention.churn_fit import auc  # noqa: E402
from retention.segments import classify, load_definitions  # noqa: E402
from retention.settings import settings  # noqa: E402
from retention.store.customers import CustomerStore  # noqa: E402
from retention.store.stats import StatsStore  # noqa: E402
from retention_tools.local.csv_orders import read_orders  # noqa: E402
from retention_tools.local.embedded import EmbeddedAws  # noqa: E402
from retention_tools.local.history import ShopEventRecord  # noqa: E402
from retention_tools.local.replay import replay  # noqa: E402
from retention_tools.local.runtime import invoke, load_function  # noqa: E402
from retention_tools.local.simulation import SIMULATION_TIMERS, scheduled_event  # noqa: E402

CUTOFFS = (date(1997, 6, 30), date(1997, 9, 30), date(1997, 12, 31))
LOG_END = date(1998, 6, 30)
CHUNK = timedelta(days=7)
"""Orders are replayed a week at a time; between weeks the journey queue, which nothing drains
here (the evaluation is about scores, not emails), is emptied (SQS allows a purge a minute) so
the emulator does not carry months of messages."""
PURGE_EVERY_SECONDS = 61


@dataclass
class CutoffResult:
    cutoff: date
    customers: int
    repeat_share: float
    engine: float
    recency: float
    bgnbd: float
    median_error_days: float
    reordered: int
    fitted_rows: int


def cdnow_path() -> Path:
    return Path(lifetimes.datasets.__file__).parent / "CDNOW_master.txt"


def sample(events: list[ShopEventRecord], customers: int | None) -> list[ShopEventRecord]:
    ids = sorted({str(e.detail["customer_id"]) for e in events})
    if customers is None or customers >= len(ids):
        return events
    ranked = sorted(ids, key=lambda c: hashlib.blake2b(c.encode(), digest_size=8).digest())
    kept = set(ranked[:customers])
    return [e for e in events if e.detail["customer_id"] in kept]


def purchase_days(events: Sequence[ShopEventRecord]) -> dict[str, list[date]]:
    days: dict[str, set[date]] = {}
    for event in events:
        days.setdefault(str(event.detail["customer_id"]), set()).add(event.time.date())
    return {customer: sorted(seen) for customer, seen in days.items()}


def bgnbd_scores(history: dict[str, list[date]], ids: list[str], cutoff: date) -> np.ndarray:
    frequency, recency, age = [], [], []
    for customer in ids:
        seen = [d for d in history[customer] if d <= cutoff]
        frequency.append(len(seen) - 1)
        recency.append((seen[-1] - seen[0]).days / 7)
        age.append(((cutoff - seen[0]).days + 1) / 7)
    model = BetaGeoFitter(penalizer_coef=0.0)
    model.fit(np.array(frequency), np.array(recency), np.array(age))
    horizon = (LOG_END - cutoff).days / 7
    return np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            horizon, np.array(frequency), np.array(recency), np.array(age)
        )
    )


def score_at(cutoff: date, history: dict[str, list[date]]) -> CutoffResult:
    """Run the statistics job at the end of ``cutoff`` and score the replayed profiles."""
    as_of = datetime.combine(cutoff, datetime.max.time(), tzinfo=UTC).replace(microsecond=0)
    with clock.frozen_at(as_of):
        invoke(load_function("segment_stats").handler, scheduled_event(as_of, "segment-stats"))
    store = CustomerStore(settings().customers_table)
    stats = StatsStore(store.table_name).get()
    assert stats is not None, "the statistics job stored nothing"
    definitions = load_definitions()
    ids, engine, recency, labels, errors = [], [], [], [], []
    for profile in store.scan_profiles():
        if not profile.order_count or profile.last_order_at is None:
            continue
        found = classify(profile, as_of, stats, definitions)
        later = [d for d in history[profile.customer_id] if d > cutoff]
        ids.append(profile.customer_id)
        engine.append(-found.churn_risk)
        recency.append(-(as_of - profile.last_order_at).total_seconds())
        labels.append(bool(later))
        if later and found.expected_next_order_at is not None:
            first_after = datetime.combine(later[0], datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
            errors.append(abs((first_after - found.expected_next_order_at).total_seconds()) / 86400)
    return CutoffResult(
        cutoff=cutoff,
        customers=len(ids),
        repeat_share=sum(labels) / len(labels),
        engine=auc(engine, labels),
        recency=auc(recency, labels),
        bgnbd=auc(bgnbd_scores(history, ids, cutoff), labels),
        median_error_days=statistics.median(errors) if errors else float("nan"),
        reordered=len(errors),
        fitted_rows=stats.churn_training_rows,
    )


def evaluate(customers: int | None) -> tuple[list[CutoffResult], int, float]:
    """(results per cut-off, orders replayed, seconds the replay and jobs took)."""
    log = read_orders(cdnow_path(), "cdnow", currency="USD")
    if log.rejected:
        raise SystemExit(f"{len(log.rejected)} CDNOW rows rejected, first: {log.rejected[0]}")
    events = sample(log.events, customers)
    history = purchase_days(events)
    replayed = [e for e in events if e.time.date() <= CUTOFFS[-1]]
    results: list[CutoffResult] = []
    started = time.perf_counter()
    with EmbeddedAws(env=SIMULATION_TIMERS) as aws:
        sqs, journey_queue = aws.client("sqs"), aws.resources.queues["JourneyQueue"]
        done, purged = 0, time.monotonic()
        start = datetime.combine(replayed[0].time.date(), datetime.min.time(), tzinfo=UTC)
        for cutoff in CUTOFFS:
            end_of_cutoff = datetime.combine(cutoff + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
            while start < end_of_cutoff:
                stop = min(start + CHUNK, end_of_cutoff)
                week = [e for e in replayed if start <= e.time < stop]
                if week:
                    replay(aws, week)
                if time.monotonic() - purged > PURGE_EVERY_SECONDS:
                    sqs.purge_queue(QueueUrl=journey_queue)
                    purged = time.monotonic()
                done += len(week)
                start = stop
                if stop.day <= 7 or stop == end_of_cutoff:  # a line about once a month
                    elapsed = time.perf_counter() - started
                    print(
                        f"  {done:,}/{len(replayed):,} orders replayed to {stop:%Y-%m-%d}, {elapsed:,.0f} s",
                        file=sys.stderr,
                    )
            results.append(score_at(cutoff, history))
    return results, len(replayed), time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help="replay a sample of this many customers")
    args = parser.parse_args(argv)
    results, orders, seconds = evaluate(args.customers)
    first = results[0]
    print(
        f"CDNOW replayed as a shop: {orders:,} orders of {first.customers:,} customers through order_ingest "
        f"and segment_stats on the embedded AWS, {seconds / 60:.1f} min"
    )
    print(
        "| cut-off | buyers | buy again | engine AUC | recency AUC | BG/NBD AUC | next order: median error | fit rows |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.cutoff} | {r.customers:,} | {r.repeat_share:.1%} | {r.engine:.4f} | {r.recency:.4f} | "
            f"{r.bgnbd:.4f} | {r.median_error_days:.1f} d ({r.reordered:,} reordered) | {r.fitted_rows:,} |"
        )
    if not all(np.isfinite([r.engine for r in results])):
        raise SystemExit("evaluation failed")


if __name__ == "__main__":
    main()
