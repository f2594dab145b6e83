"""The churn model's weights fitted on the shop's own history (the daily statistics job only).

**Rows.** Each buyer who had ordered by the cut-off ``as_of - horizon_days`` gives one row: the
engine's features as they were at the cut-off (orders before it, days since the last and the
first order, the overdue ratio against the shrunk expected gap, the average order value of the
orders before it against the rows' median), computed from the profile's ``order_dates`` and
``order_totals`` (the last 50 orders) and ``first_order_at``; **label** = the buyer ordered again
within the horizon after the cut-off. The model then predicts the same thing at ``as_of``. The
average order value must be the one at the cut-off: today's includes the orders after it, which
only the returning buyers have (on CDNOW at 1997-12-31 that leak ranks worse than no spend at
all). A profile stored before ``order_totals`` existed counts its orders at today's average
(:func:`retention.profiles.aligned_totals`), which is the average at the cut-off once the
upgrade is a horizon old: any later order would have given it totals.

**Sample, not streaming.** The scan reads every profile once; each row joins a *bottom-k*
sample: its key is a hash of the customer id (salted with the cut-off date), and the sample keeps
the ``refit.sample_size`` rows (default 50,000) with the smallest keys. That is a uniform sample
without replacement, bounded in memory whatever the shop's size, the same whatever the scan's
segment count or page order, and exactly mergeable across the parallel scan's segments. A
streaming fit was not chosen: an exact logistic fit needs several passes over the rows (one Scan
of the whole table each), SGD in one pass depends on the order of the rows, and the features at
the cut-off need the population's median gap *at the cut-off*, known only after the pass — so the
rows have to be kept anyway. Six parameters are pinned down long before 50,000 rows (their
standard errors shrink as 1/sqrt(n)); a bigger sample would not rank customers differently.

**Fit.** L2-regularised logistic regression (the penalty of ``bench/eval_churn.py``), solved by
Newton's method in numpy: the loss is convex, so a handful of iterations reach its optimum, on
50,000 rows in milliseconds and a few MB. The fit runs only once the shop has
``refit.min_buyers`` (500) buyers whose first order is at least ``refit.min_history_days`` (180)
old, and at least :data:`MIN_PER_CLASS` rows of each label; below that the shipped weights stay.

**Risk percentiles.** A second bottom-k sample (same cap) holds the buyers as they are today.
After the scan, those still within their own rhythm — overdue ratio below
``percentiles_below_overdue_ratio`` (3, where the lapsed rule starts) — are scored with the model
in force and give the percentiles p1..p99 that segments.yaml calls ``$churn_risk_p70`` and so on.
Long-gone buyers are left out: in a ten-day coffee shop, everyone silent for months has a risk of
1.0, and they would fill the whole top of the distribution. The filter needs the median gap, so
it runs after the scan; a shop where only 2 % of buyers are not lapsed still ranks 1,000.

numpy ships in ``functions/segment_stats/requirements.txt``, not in the layer: only that
function imports this module (tests/unit/test_handler_imports.py checks the others don't).
"""

from __future__ import annotations

import hashlib
import heapq
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import numpy as np

from retention import churn, profiles
from retention.models.profile import CustomerProfile
from retention.models.segments import ChurnModel, ChurnModelSettings

FEATURES = (
    "log_order_count",
    "log_days_since_last_order",
    "overdue_ratio",
    "log_days_since_first_order",
    "log_relative_order_value",
)
L2 = 1e-3
"""Penalty on the weights (not the intercept) per row of mean log-loss, as in bench/eval_churn.py."""
MIN_PER_CLASS = 20
"""Fewest rows of each label (reordered / did not) worth fitting on."""
MIN_RANKED_BUYERS = 100
"""Fewest ranked buyers whose risks make percentiles; below, rules use the fallback threshold."""
MAX_NEWTON_STEPS = 50

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class History:
    """A buyer's orders as of one date, reduced to what the features need. The population's
    figures at that date (the median gap, the typical order value) are applied later, once the
    whole scan has been read."""

    order_count: int
    days_since_last: float
    days_since_first: float
    span_days: float
    intervals: int
    average_order_value: float

    def own_gap_days(self) -> float | None:
        return self.span_days / self.intervals if self.intervals else None

    def features(self, population: Population) -> dict[str, float]:
        gap = churn.shrunk_gap_days(self.span_days, self.intervals, population.gap_days)
        return churn.model_features(
            self.order_count,
            self.days_since_last,
            self.days_since_first,
            gap,
            self.average_order_value,
            population.order_value,
        )


@dataclass(frozen=True, slots=True)
class Population:
    """The shop's figures the features are relative to, as of the rows' date."""

    gap_days: float
    order_value: float | None

    @classmethod
    def of(cls, histories: Sequence[History], default_gap_days: float) -> Population:
        """The medians over ``histories`` themselves (the training rows: the shop at the cut-off)."""
        values = [history.average_order_value for history in histories]
        return cls(median_own_gap(histories, default_gap_days), statistics.median(values) if values else None)


def history_at(profile: CustomerProfile, cutoff: datetime) -> History | None:
    """The profile as it was at ``cutoff`` (orders at or before it), or ``None`` if it had none.

    ``order_dates`` keeps the last 50 orders: a buyer with all 50 after the cut-off (50 orders in
    one horizon) has no known last order before it and gives no row. The average order value is
    that of the kept orders up to the cut-off (``order_totals``): today's average would include the
    orders after it, which only the buyers who came back have, and the fit would learn that.
    """
    if not profile.order_count or profile.first_order_at is None or profile.first_order_at > cutoff:
        return None
    totals = profiles.aligned_totals(profile)
    kept = [(d, total) for d, total in zip(profile.order_dates, totals, strict=True) if d <= cutoff]
    if not kept:
        return None
    count = profile.order_count - (len(profile.order_dates) - len(kept))
    return History(
        order_count=count,
        days_since_last=churn.days_between(kept[-1][0], cutoff),
        days_since_first=churn.days_between(profile.first_order_at, cutoff),
        span_days=churn.days_between(kept[0][0], kept[-1][0]),
        intervals=len(kept) - 1,
        average_order_value=float(sum(total for _, total in kept)) / len(kept),
    )


def history_now(profile: CustomerProfile, as_of: datetime) -> History | None:
    """The profile at ``as_of`` exactly as per-event scoring sees it (``retention.segments.facts``)."""
    if not profile.order_count or profile.last_order_at is None or profile.first_order_at is None:
        return None
    dates = profile.order_dates
    return History(
        order_count=profile.order_count,
        days_since_last=churn.days_between(profile.last_order_at, as_of),
        days_since_first=churn.days_between(profile.first_order_at, as_of),
        span_days=churn.days_between(dates[0], dates[-1]) if len(dates) >= 2 else 0.0,
        intervals=max(0, len(dates) - 1),
        average_order_value=churn.average_order_value(profile),
    )


def _key(salt: str, customer_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{salt}:{customer_id}".encode(), digest_size=8).digest(), "big")


class BottomKSample(Generic[Item]):
    """At most ``size`` items: those whose customers' hashed keys are smallest (see the module)."""

    def __init__(self, size: int, salt: str) -> None:
        self.size, self.salt = size, salt
        self.offered = 0
        """Customers offered; a rare decline (``make_item`` gives ``None``) is uncounted only if drawn."""
        self._heap: list[tuple[int, str, Item]] = []  # max-heap on the key, through its negation

    def offer(self, customer_id: str, make_item: Callable[[], Item | None]) -> None:
        """Offer a customer; ``make_item`` runs only if the customer gets in (most do not, once the
        sample is full), and may return ``None`` to decline after all."""
        self.offered += 1
        key = -_key(self.salt, customer_id)
        full = len(self._heap) >= self.size
        if full and key <= self._heap[0][0]:
            return
        item = make_item()
        if item is None:
            self.offered -= 1
        elif full:
            heapq.heapreplace(self._heap, (key, customer_id, item))
        else:
            heapq.heappush(self._heap, (key, customer_id, item))

    def merge(self, other: BottomKSample[Item]) -> BottomKSample[Item]:
        merged: BottomKSample[Item] = BottomKSample(self.size, self.salt)
        merged.offered = self.offered + other.offered
        merged._heap = heapq.nlargest(self.size, self._heap + other._heap)
        heapq.heapify(merged._heap)
        return merged

    def customer_ids(self) -> set[str]:
        return {customer_id for _, customer_id, _ in self._heap}

    def items(self) -> list[Item]:
        return [item for _, _, item in self._heap]

    def __len__(self) -> int:
        return len(self._heap)


@dataclass
class ChurnInputs:
    """What one pass over the profiles keeps for the refit and the risk percentiles."""

    as_of: datetime
    settings: ChurnModelSettings
    training: BottomKSample[tuple[History, bool]] = field(init=False)
    current: BottomKSample[History] = field(init=False)
    seasoned_buyers: int = 0
    """Buyers whose first order is at least ``refit.min_history_days`` old."""

    def __post_init__(self) -> None:
        size = self.settings.refit.sample_size
        self.training = BottomKSample(size, f"train:{self.cutoff.date().isoformat()}")
        self.current = BottomKSample(size, f"current:{self.as_of.date().isoformat()}")

    @property
    def cutoff(self) -> datetime:
        return self.as_of - timedelta(days=self.settings.horizon_days)

    def add(self, profile: CustomerProfile) -> None:
        if not profile.order_count or profile.first_order_at is None or profile.last_order_at is None:
            return
        cutoff, last_order_at = self.cutoff, profile.last_order_at
        if profile.first_order_at <= cutoff:
            self.training.offer(
                profile.customer_id, lambda: _labelled(history_at(profile, cutoff), last_order_at > cutoff)
            )
        self.current.offer(profile.customer_id, lambda: history_now(profile, self.as_of))
        seasoned_since = self.as_of - timedelta(days=self.settings.refit.min_history_days)
        self.seasoned_buyers += profile.first_order_at <= seasoned_since

    def merge(self, other: ChurnInputs) -> ChurnInputs:
        merged = ChurnInputs(self.as_of, self.settings, self.seasoned_buyers + other.seasoned_buyers)
        merged.training = self.training.merge(other.training)
        merged.current = self.current.merge(other.current)
        return merged


def _labelled(history: History | None, reordered: bool) -> tuple[History, bool] | None:
    return None if history is None else (history, reordered)


@dataclass(frozen=True)
class Refit:
    """The outcome of a refit: the fitted model, or ``None`` and why the shipped one stays."""

    model: ChurnModel | None
    reason: str
    rows: int = 0
    reordered: int = 0


def median_own_gap(histories: Iterable[History], default_gap_days: float) -> float:
    gaps = [g for g in (h.own_gap_days() for h in histories) if g is not None]
    return statistics.median(gaps) if gaps else default_gap_days


def design_matrix(histories: Sequence[History], population: Population) -> np.ndarray:
    rows = [history.features(population) for history in histories]
    return np.array([[row[name] for name in FEATURES] for row in rows], dtype=float).reshape(len(rows), len(FEATURES))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> np.ndarray:
    """``[intercept, *weights]`` minimising mean log-loss + ``l2`` * |weights|², by Newton's method
    with step halving (the loss is convex: the optimum is unique and reached in a few steps)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    penalty = np.full(design.shape[1], 2 * l2)
    penalty[0] = 0.0
    y = np.asarray(y, dtype=float)

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + l2 * np.sum(w[1:] ** 2))

    w = np.zeros(design.shape[1])
    current = loss(w)
    for _ in range(MAX_NEWTON_STEPS):
        p = 0.5 * (1 + np.tanh(0.5 * (design @ w)))
        gradient = design.T @ (p - y) / len(y) + penalty * w
        hessian = (design.T * (p * (1 - p))) @ design / len(y) + np.diag(penalty + 1e-10)
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while scale > 1e-6 and loss(w - scale * step) > current:
            scale /= 2
        w, current = w - scale * step, loss(w - scale * step)
        if float(np.max(np.abs(scale * step))) < 1e-9:
            break
    return w


def model_from_coefficients(coefficients: np.ndarray, horizon_days: int) -> ChurnModel:
    return ChurnModel(
        horizon_days=horizon_days,
        intercept=round(float(coefficients[0]), 6),
        weights={name: round(float(value), 6) for name, value in zip(FEATURES, coefficients[1:], strict=True)},
    )


def refit(inputs: ChurnInputs, default_gap_days: float) -> Refit:
    """Weights fitted on the shop's training sample, or the reason the shipped ones stay."""
    settings = inputs.settings
    if inputs.seasoned_buyers < settings.refit.min_buyers:
        return Refit(
            None,
            f"{inputs.seasoned_buyers} buyers with {settings.refit.min_history_days} days of history, "
            f"{settings.refit.min_buyers} needed",
        )
    rows = inputs.training.items()
    histories = [history for history, _ in rows]
    labels = np.array([reordered for _, reordered in rows], dtype=float)
    reordered = int(labels.sum())
    if min(reordered, len(rows) - reordered) < MIN_PER_CLASS:
        return Refit(None, f"{reordered} of {len(rows)} rows reordered: too few of one kind", len(rows), reordered)
    x = design_matrix(histories, Population.of(histories, default_gap_days))
    model = model_from_coefficients(fit_logistic(x, labels), settings.horizon_days)
    return Refit(model, f"fitted on {len(rows)} buyers", len(rows), reordered)


def risk_percentiles(
    current: Sequence[History], model: ChurnModel, population: Population, below_overdue_ratio: float
) -> list[float]:
    """p1..p99 of churn risk among the buyers overdue by less than ``below_overdue_ratio``, scored
    by the same plain-Python function as every event (with the stored statistics' median gap and
    typical order value); empty below :data:`MIN_RANKED_BUYERS`."""
    features = [history.features(population) for history in current]
    risks = [churn.risk_of(f, model) for f in features if f["overdue_ratio"] < below_overdue_ratio]
    if len(risks) < MIN_RANKED_BUYERS:
        return []
    return [round(float(q), 4) for q in np.quantile(risks, np.arange(1, 100) / 100)]


def auc(scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    ranks = (upper - (counts - 1) / 2)[inverse]
    positives, negatives = int(labels.sum()), int((~labels).sum())
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))
