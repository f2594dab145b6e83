"""Churn-risk AUC against recency and BG/NBD: CDNOW replayed as a shop (see bench/eval_churn.py).

Needs the evaluation's heavy packages (requirements-eval.txt: lifetimes, pandas, scipy), which
``make bench`` installs into the dev venv; without them the rows say so instead of a number.
``make bench`` replays a sample of :data:`SAMPLE` customers (a few minutes); ``make eval``
replays all 23,570.
"""

from __future__ import annotations

from bench.common import Row

SAMPLE = 2000


def run() -> list[Row]:
    try:
        from bench.eval_churn import evaluate
    except ImportError as missing:
        reason = f"not measured: {missing.name} missing (pip install -r requirements-eval.txt)"
        return [Row("churn-risk AUC vs recency and BG/NBD", "—", reason)]
    results, orders, seconds = evaluate(SAMPLE)
    rows = []
    for r in results:
        method = (
            f"CDNOW replayed through order_ingest + segment_stats, {r.customers:,} of 23,570 customers "
            f"({orders:,} orders, {seconds:.0f} s), label: buys after the cut-off ({r.repeat_share:.1%})"
        )
        rows += [
            Row(f"AUC at {r.cutoff}: engine churn risk", f"{r.engine:.4f}", method),
            Row(f"AUC at {r.cutoff}: recency", f"{r.recency:.4f}", method),
            Row(f"AUC at {r.cutoff}: BG/NBD", f"{r.bgnbd:.4f}", method),
            Row(f"next-order date error at {r.cutoff} (median)", f"{r.median_error_days:.1f} d", method),
        ]
    return rows
