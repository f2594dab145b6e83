"""Does the churn-risk score rank who buys again better than recency and BG/NBD?

Data: the CDNOW master transaction log shipped inside the ``lifetimes`` package (23,570
customers who first bought in Q1 1997, purchases until June 1998). Split: calibration
1997-01-01..1997-09-30 (39 weeks), holdout 1997-10-01..1998-06-30 (39 weeks). Label: the
customer buys at least once in the holdout. Every score sees calibration data only:

* recency: minus the days since the last purchase;
* BG/NBD: ``lifetimes.BetaGeoFitter`` fit on the calibration period, scored by the expected
  number of holdout purchases;
* ours: the engine's own features (``retention.churn.model_features``: orders, days since
  last and first order, overdue ratio against the shrunk expected gap) with logistic weights
  fit inside the calibration period (features at 1997-06-30, label = buys by 1997-09-30),
  then applied at 1997-09-30. This is how the weights in templates/segments.yaml were made.

The fit is ``retention.churn_fit.fit_logistic``, the function the daily statistics job refits
each shop's weights with (same features, same L2 penalty; CDNOW's 23,570 rows are under the
job's 50,000-row sample cap, so the job would use them all): the weights printed are the ones
``segment_stats`` would store for this shop.

Prints the AUC of each and the fitted weights.
"""

from __future__ import annotations

import math
import sys
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

import numpy as np
from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_dataset
from scipy.stats import rankdata

from retention.churn import PRIOR_WEIGHT, model_features
from retention.churn_fit import FEATURES, fit_logistic

CAL_START, CAL_END, HOLDOUT_END = date(1997, 1, 1), date(1997, 9, 30), date(1998, 6, 30)
FIT_AT = date(1997, 6, 30)


def load_purchase_days() -> dict[str, list[date]]:
    frame = load_dataset("CDNOW_master.txt", header=0, sep=r"\s+", dtype=str)
    days: dict[str, set[date]] = {}
    for customer, stamp in zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True):
        days.setdefault(customer, set()).add(datetime.strptime(stamp, "%Y%m%d").date())
    return {customer: sorted(values) for customer, values in days.items()}


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    ranks = rankdata(scores)
    positives = labels.sum()
    negatives = len(labels) - positives
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def population_gap(history: dict[str, list[date]], as_of: date) -> float:
    gaps = [
        (seen[-1] - seen[0]).days / (len(seen) - 1)
        for seen in ([d for d in days if d <= as_of] for days in history.values())
        if len(seen) >= 2
    ]
    return float(np.median(gaps))


def engine_features(history: dict[str, list[date]], as_of: date) -> tuple[list[str], np.ndarray]:
    prior = population_gap(history, as_of)
    ids, rows = [], []
    for customer, days in history.items():
        seen = [d for d in days if d <= as_of]
        if not seen:
            continue
        span = (seen[-1] - seen[0]).days
        gap = (span + PRIOR_WEIGHT * prior) / (len(seen) - 1 + PRIOR_WEIGHT)
        values = model_features(len(seen), (as_of - seen[-1]).days, (as_of - seen[0]).days, gap)
        ids.append(customer)
        rows.append([values[name] for name in FEATURES])
    return ids, np.array(rows)


def bought_between(history: dict[str, list[date]], ids: list[str], start: date, end: date) -> np.ndarray:
    return np.array([int(any(start < d <= end for d in history[c])) for c in ids])


def bgnbd_scores(history: dict[str, list[date]], ids: list[str]) -> np.ndarray:
    frequency, recency, age = [], [], []
    for customer in ids:
        seen = [d for d in history[customer] if d <= CAL_END]
        frequency.append(len(seen) - 1)
        recency.append((seen[-1] - seen[0]).days / 7)
        age.append(((CAL_END - seen[0]).days + 1) / 7)
    model = BetaGeoFitter(penalizer_coef=0.0)
    model.fit(np.array(frequency), np.array(recency), np.array(age))
    horizon = (HOLDOUT_END - CAL_END).days / 7
    return np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            horizon, np.array(frequency), np.array(recency), np.array(age)
        )
    )


def evaluate() -> tuple[int, float, list[tuple[str, float]], np.ndarray]:
    """(customers, repeat share, [(score, AUC)], fitted weights) on the CDNOW holdout."""
    history = load_purchase_days()
    fit_ids, fit_x = engine_features(history, FIT_AT)
    fit_y = bought_between(history, fit_ids, FIT_AT, CAL_END)
    weights = fit_logistic(fit_x, fit_y)

    ids, x = engine_features(history, CAL_END)
    labels = bought_between(history, ids, CAL_END, HOLDOUT_END)
    ours = np.hstack([np.ones((len(x), 1)), x]) @ weights
    recency = -x[:, FEATURES.index("log_days_since_last_order")]
    results = [
        ("churn-risk score (engine features, logistic)", auc(ours, labels)),
        ("recency (days since last order)", auc(recency, labels)),
        ("BG/NBD (lifetimes, expected holdout purchases)", auc(bgnbd_scores(history, ids), labels)),
    ]
    return len(ids), float(labels.mean()), results, weights


def main() -> None:
    customers, repeat, results, weights = evaluate()
    print(f"CDNOW: {customers:,} customers, {repeat:.1%} buy again in the 39-week holdout")
    print("| score | holdout AUC |")
    print("|---|---|")
    for name, value in results:
        print(f"| {name} | {value:.4f} |")
    print("\nweights for templates/segments.yaml (churn_model):")
    print(f"  intercept: {weights[0]:.4f}")
    for name, value in zip(FEATURES, weights[1:], strict=True):
        print(f"  {name}: {value:.4f}")
    if not math.isfinite(results[0][1]):
        raise SystemExit("evaluation failed")


if __name__ == "__main__":
    main()
