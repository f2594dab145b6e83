"""The churn evaluation in seconds: CDNOW's profiles rebuilt in memory, scored by the engine's own code.

``bench/eval_churn.py`` replays the log through the real handlers on the embedded AWS, which
takes minutes for a 2,000-customer sample and about an hour for all 23,570 customers. This
harness skips the emulator, not the logic: each order goes through ``retention.profiles.apply_order``
(the function ``order_ingest`` calls), the daily statistics job's core
(``retention.daily_stats.collect`` and ``compute``: population statistics, the churn refit, the
risk percentiles) runs on the profiles as they stand at each cut-off, and every buyer is scored
with ``retention.segments.facts`` (what ``classify`` does on each event). The label, cut-offs and
sample are those of ``eval_churn.py``, so ``--customers 2000`` reproduces the replay's figures.

Use it to try features and fits; confirm the result once with the replay.

``--ceiling`` adds what the profile's facts can carry at most: a logistic regression fitted on
the evaluation's own label (5-fold, each customer scored by a fit that never saw it) over the
engine's features, then with the number of distinct order days added (CDNOW has several orders
on one day). The engine's refit never sees that label (it learns "ordered within 90 days" from the
past), so this bounds what better weights alone could reach.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared"), str(ROOT / "tools")]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

import numpy as np  # noqa: E402

from bench.eval_churn import CUTOFFS, bgnbd_scores, cdnow_path, purchase_days, sample  # noqa: E402
from retention import daily_stats  # noqa: E402
from retention.churn_fit import FEATURES, Population, auc, fit_logistic, history_now  # noqa: E402
from retention.models.events import OrderPlaced  # noqa: E402
from retention.models.profile import CustomerProfile  # noqa: E402
from retention.models.segments import ChurnModel, PopulationStats  # noqa: E402
from retention.profiles import apply_order  # noqa: E402
from retention.segments import facts, load_definitions  # noqa: E402
from retention_tools.local.csv_orders import read_orders  # noqa: E402


@dataclass(frozen=True)
class LabResult:
    cutoff: date
    buyers: int
    engine: float
    recency: float
    bgnbd: float | None
    fit_rows: int
    fitted: ChurnModel | None
    """The weights the daily job fitted at the cut-off (``None``: the shipped ones applied)."""
    ceiling: tuple[float, float] | None


FOLDS = 5


def ceiling(
    buyers: Sequence[CustomerProfile], as_of: datetime, stats: PopulationStats, labels: Sequence[bool]
) -> tuple[float, float]:
    """Cross-validated AUC of a logistic fit on the evaluation's label: (engine features, + order days)."""
    rows = []
    for profile in buyers:
        history = history_now(profile, as_of)
        assert history is not None
        features = history.features(Population(stats.median_gap_days, stats.median_order_value))
        rows.append([features[name] for name in FEATURES] + [math.log1p(len({d.date() for d in profile.order_dates}))])
    x, y = np.array(rows), np.array(labels, dtype=float)
    fold = np.arange(len(y)) % FOLDS
    results = []
    for columns in (len(FEATURES), x.shape[1]):
        scores = np.zeros(len(y))
        for k in range(FOLDS):
            w = fit_logistic(x[fold != k, :columns], y[fold != k])
            scores[fold == k] = w[0] + x[fold == k, :columns] @ w[1:]
        results.append(auc(scores, y))
    return results[0], results[1]


def evaluate(customers: int | None, with_bgnbd: bool, with_ceiling: bool = False) -> list[LabResult]:
    """One result per cut-off of ``eval_churn.CUTOFFS``."""
    log = read_orders(cdnow_path(), "cdnow", currency="USD")
    events = sample(log.events, customers)
    history = purchase_days(events)
    orders = [OrderPlaced.model_validate(e.detail) for e in events if e.time.date() <= CUTOFFS[-1]]
    definitions = load_definitions()
    profiles: dict[str, CustomerProfile] = {}
    results, done = [], 0
    for cutoff in CUTOFFS:
        as_of = datetime.combine(cutoff, datetime.max.time(), tzinfo=UTC).replace(microsecond=0)
        while done < len(orders) and orders[done].placed_at <= as_of:
            order = orders[done]
            profile = profiles.get(order.customer_id) or CustomerProfile(customer_id=order.customer_id)
            profiles[order.customer_id] = apply_order(profile, order, order.placed_at)
            done += 1
        buyers = list(profiles.values())
        stats, refit = daily_stats.compute(daily_stats.collect(buyers, as_of, definitions), as_of, definitions)
        ids = [p.customer_id for p in buyers]
        engine = [-facts(p, as_of, stats, definitions)["churn_risk"] for p in buyers]
        recency = [p.last_order_at.timestamp() for p in buyers if p.last_order_at]
        labels = [any(d > cutoff for d in history[c]) for c in ids]
        bgnbd = auc(bgnbd_scores(history, ids, cutoff), labels) if with_bgnbd else None
        bound = ceiling(buyers, as_of, stats, labels) if with_ceiling else None
        results.append(
            LabResult(
                cutoff, len(ids), auc(engine, labels), auc(recency, labels), bgnbd, refit.rows, refit.model, bound
            )
        )
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help="the replay's sample of this many customers")
    parser.add_argument("--bgnbd", action="store_true", help="also fit BG/NBD (lifetimes; slower on all customers)")
    parser.add_argument("--ceiling", action="store_true", help="also fit on the label itself (the bound, see above)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = evaluate(args.customers, args.bgnbd, args.ceiling)
    print(f"CDNOW profiles rebuilt in memory, engine code without the emulator: {time.perf_counter() - started:.1f} s")
    print("| cut-off | buyers | engine AUC | recency AUC | BG/NBD AUC | fit rows | ceiling | ceiling + order days |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        bgnbd = f"{r.bgnbd:.4f}" if r.bgnbd is not None else "—"
        bound, more = (f"{r.ceiling[0]:.4f}", f"{r.ceiling[1]:.4f}") if r.ceiling else ("—", "—")
        print(
            f"| {r.cutoff} | {r.buyers:,} | {r.engine:.4f} | {r.recency:.4f} | {bgnbd} | {r.fit_rows:,} | "
            f"{bound} | {more} |"
        )
    for r in results:
        if r.fitted is not None:
            weights = ", ".join(f"{name}: {value:.4f}" for name, value in r.fitted.weights.items())
            print(f"weights fitted at {r.cutoff}: intercept {r.fitted.intercept:.4f}, {weights}")


if __name__ == "__main__":
    main()
