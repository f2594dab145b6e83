"""Churn risk and the expected next-order date, from the profile alone (no history scan).

The expected gap between orders is the customer's own mean gap shrunk towards the
population's median gap, so a customer with two orders is not judged by one interval.
Risk is a logistic model over scale-free profile facts (orders, days since the last and the
first order, how overdue against the expected gap, spend per order against the shop's typical
order). The shipped weights (segments.yaml) were fitted on the CDNOW calibration period (see
``bench/churn_features_lab.py``); once a shop has enough history the daily
statistics job refits them on the shop's own orders (``retention.churn_fit``) and stores them
with the statistics. Scoring here stays plain Python: per-event code never loads numpy.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

from retention.models.profile import CustomerProfile
from retention.models.segments import ChurnModel

PRIOR_WEIGHT = 1.0
"""How many intervals' worth of weight the population median gap carries."""
MAX_OVERDUE = 10.0


def days_between(earlier: datetime, later: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds() / 86400)


def expected_gap_days(profile: CustomerProfile, population_gap_days: float) -> float:
    """Mean inter-purchase gap, shrunk towards the population median."""
    dates = profile.order_dates
    if len(dates) < 2:
        return population_gap_days
    return shrunk_gap_days(days_between(dates[0], dates[-1]), len(dates) - 1, population_gap_days)


def shrunk_gap_days(span_days: float, intervals: int, population_gap_days: float) -> float:
    """``span_days`` over ``intervals`` gaps, with the population median counted as one more gap."""
    if intervals < 1:
        return population_gap_days
    return (span_days + PRIOR_WEIGHT * population_gap_days) / (intervals + PRIOR_WEIGHT)


def gap_regularity(profile: CustomerProfile) -> float:
    """1 minus the coefficient of variation of the gaps (clamped to 0..1); 0 with < 3 orders."""
    dates = profile.order_dates
    if len(dates) < 3:
        return 0.0
    gaps = [days_between(a, b) for a, b in itertools.pairwise(dates)]
    mean = sum(gaps) / len(gaps)
    if mean <= 0:
        return 0.0
    spread = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
    return max(0.0, min(1.0, 1 - spread / mean))


def model_features(
    order_count: int,
    days_since_last: float,
    days_since_first: float,
    gap: float,
    average_order_value: float,
    typical_order_value: float | None,
) -> dict[str, float]:
    """The model's inputs. Each is scale-free, so shipped weights mean the same in any shop: counts
    and days in logs, lateness as a ratio of the customer's own rhythm, spend per order against the
    shop's typical order (``typical_order_value``: the median over its buyers; ``None`` before the
    daily job has one, when every buyer counts as typical)."""
    return {
        "log_order_count": math.log1p(order_count),
        "log_days_since_last_order": math.log1p(days_since_last),
        "overdue_ratio": min(MAX_OVERDUE, days_since_last / gap) if gap > 0 else MAX_OVERDUE,
        "log_days_since_first_order": math.log1p(days_since_first),
        "log_relative_order_value": relative_order_value(average_order_value, typical_order_value),
    }


def relative_order_value(average_order_value: float, typical_order_value: float | None) -> float:
    """log((1 + AOV) / (1 + the shop's typical AOV)): 0 for a typical buyer, about +0.7 for one who
    spends twice as much per order; the 1 keeps free orders finite."""
    if typical_order_value is None:
        return 0.0
    return math.log1p(max(0.0, average_order_value)) - math.log1p(max(0.0, typical_order_value))


def return_probability(features: dict[str, float], model: ChurnModel) -> float:
    z = model.intercept + sum(weight * features[name] for name, weight in model.weights.items())
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))


def risk_of(features: dict[str, float], model: ChurnModel) -> float:
    """1 - P(an order within the horizon), rounded as stored on the profile and in the percentiles."""
    return round(1 - return_probability(features, model), 4)


def churn_risk(
    profile: CustomerProfile, as_of: datetime, model: ChurnModel, gap_days: float, typical_order_value: float | None
) -> float:
    """Risk in 0..1 that the customer does not order within the model's horizon; 0 for non-buyers."""
    if profile.order_count == 0 or profile.last_order_at is None or profile.first_order_at is None:
        return 0.0
    features = model_features(
        profile.order_count,
        days_between(profile.last_order_at, as_of),
        days_between(profile.first_order_at, as_of),
        gap_days,
        average_order_value(profile),
        typical_order_value,
    )
    return risk_of(features, model)


def average_order_value(profile: CustomerProfile) -> float:
    """Spend per counted order (refunds taken off), 0 without an order."""
    return float(profile.total_spent) / profile.order_count if profile.order_count else 0.0


def expected_next_order_at(profile: CustomerProfile, gap_days: float) -> datetime | None:
    """When the next order is due; None without an order, or when the date would fall outside
    what a datetime holds (a last order near year 9999, a gap of millions of days): no
    expectation is better than an ``OverflowError`` that fails every event of the customer."""
    if profile.last_order_at is None:
        return None
    return days_after(profile.last_order_at, gap_days)


def days_after(start: datetime, days: float) -> datetime | None:
    """``start`` plus ``days``, or None when that is not a date (out of datetime's range, or the
    days are not finite)."""
    if not math.isfinite(days):
        return None
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return None
