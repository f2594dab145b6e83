"""Churn-risk AUC against recency and BG/NBD (the CDNOW holdout, see bench/eval_churn.py).

Needs the evaluation's heavy packages (requirements-eval.txt: lifetimes, pandas, scipy), which
``make bench`` installs into the dev venv; without them the rows say so instead of a number.
"""

from __future__ import annotations

from bench.common import Row


def run() -> list[Row]:
    try:
        from bench.eval_churn import evaluate
    except ImportError as missing:
        reason = f"not measured: {missing.name} missing (pip install -r requirements-eval.txt)"
        return [Row("churn-risk AUC vs recency and BG/NBD", "—", reason)]
    customers, repeat, results, _ = evaluate()
    method = f"CDNOW holdout (39 weeks), {customers:,} customers, {repeat:.1%} buy again; calibration-only features"
    return [Row(f"AUC: {name}", f"{value:.4f}", method) for name, value in results]
