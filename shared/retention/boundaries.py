"""When a customer's segment next changes with no new order: the inactivity timer's due time.

A segment is a set of rules over profile facts; with no new order (and the day's statistics
fixed) only a few facts move, and each moves along a known curve of time:

* ``days_since_last_order``, ``days_since_first_order``, ``days_since_registered`` grow by one a
  day, so a rule's threshold is crossed at a date computed exactly (last order + N days);
* ``overdue_ratio`` grows by ``1 / expected_gap_days`` a day (the gap is fixed without an order):
  it reaches R at last order + R gaps; ``rfm_r`` steps at the recency quintile cut points;
* ``churn_risk`` follows the logistic model over the features above. With fitted weights it
  need not be monotone (a positive weight on the customer's age), but its log-odds are a sum of
  ``log1p`` terms and one linear term capped at ``MAX_OVERDUE``, so their derivative has at most
  two roots on each side of the cap: between those turning points risk is monotone and each
  threshold is found by bisection.

Every other fact is constant. So the classification is a step function of time whose steps can
only lie at these candidate crossings; :func:`next_change_at` walks them in time order and
returns the first whole second at which the classification (lifecycle, customer type, tags)
differs from the one now, checked with :func:`retention.segments.classify` itself, so the
rounding of risk and the rule order are those of every event. Nothing here reads a table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from retention import churn, segments
from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats, Rule, SegmentDefinitions

HORIZON = timedelta(days=3650)
"""How far ahead to look. With the shipped rules a buyer is churned for good after 365 days; a
boundary beyond ten years is treated as none (the next order re-arms anyway)."""
SECOND = timedelta(seconds=1)
RISK_RESOLUTION = timedelta(minutes=1)
"""Bisection stops here on churn risk; the final search over the classification pins the second."""
_LINEAR = {"days_since_last_order", "days_since_first_order", "days_since_registered", "overdue_ratio"}

Labels = tuple[str, str, tuple[str, ...]]


def labels_at(
    profile: CustomerProfile, at: datetime, stats: PopulationStats, definitions: SegmentDefinitions
) -> Labels:
    """What a change is judged on: lifecycle, customer type and tags (as ``lifecycle._changed``)."""
    found = segments.classify(profile, at, stats, definitions)
    return found.lifecycle, found.customer_type, tuple(found.tags)


def next_change_at(
    profile: CustomerProfile, after: datetime, stats: PopulationStats, definitions: SegmentDefinitions
) -> datetime | None:
    """The first whole second after ``after`` at which the classification differs from the one at
    ``after``, if the customer orders nothing and the statistics stay as they are; ``None`` if
    it stays the same for :data:`HORIZON`."""
    start = after.replace(microsecond=0)
    current = labels_at(profile, start, stats, definitions)
    end = start + min(HORIZON, datetime.max.replace(tzinfo=start.tzinfo) - start - timedelta(days=2))
    settled = start  # the latest moment known to carry the current classification
    for candidate in sorted(set(_candidates(profile, start, end, stats, definitions))):
        if candidate > end:
            break
        probe = _ceil_second(candidate) + SECOND
        if probe <= settled:
            continue
        if labels_at(profile, probe, stats, definitions) == current:
            settled = probe
            continue
        return _first_differing_second(settled, probe, lambda t: labels_at(profile, t, stats, definitions) != current)
    return None


def _first_differing_second(settled: datetime, changed: datetime, differs: Callable[[datetime], bool]) -> datetime:
    low, high = settled, changed  # differs(low) is False, differs(high) is True
    while high - low > SECOND:
        middle = low + timedelta(seconds=(high - low) // SECOND // 2)
        if differs(middle):
            high = middle
        else:
            low = middle
    return high


def _ceil_second(at: datetime) -> datetime:
    return at if at.microsecond == 0 else at.replace(microsecond=0) + SECOND


def _thresholds(definitions: SegmentDefinitions, stats: PopulationStats) -> Iterator[tuple[str, float]]:
    rules: list[Rule] = [*definitions.lifecycle, *definitions.customer_types, *definitions.tags]
    for rule in rules:
        for fact, conditions in rule.when.items():
            for expected in conditions.values():
                if isinstance(expected, str):
                    yield fact, segments.statistic(expected[1:], stats, definitions)
                else:
                    yield fact, float(expected)


def _candidates(
    profile: CustomerProfile, start: datetime, end: datetime, stats: PopulationStats, definitions: SegmentDefinitions
) -> Iterator[datetime]:
    """Every moment up to ``end`` at which some rule's condition may flip (none is built past
    ``end``, so a far threshold never overflows the calendar)."""
    gap = churn.expected_gap_days(profile, stats.median_gap_days)
    registered = profile.registered_at or profile.first_order_at or profile.created_at
    origins: dict[str, tuple[datetime | None, float]] = {
        "days_since_last_order": (profile.last_order_at, 1.0),
        "days_since_first_order": (profile.first_order_at, 1.0),
        "days_since_registered": (registered, 1.0),
        "overdue_ratio": (profile.last_order_at if profile.order_count and gap > 0 else None, gap),
    }
    risk_thresholds: set[float] = set()
    uses_recency_score = False
    for fact, threshold in _thresholds(definitions, stats):
        if fact in _LINEAR:
            origin, days_per_unit = origins[fact]
            if origin is not None and 0 <= threshold * days_per_unit <= churn.days_between(origin, end):
                yield origin + timedelta(days=threshold * days_per_unit)
        elif fact == "churn_risk":
            risk_thresholds.add(threshold)
        elif fact == "rfm_r":
            uses_recency_score = True
    if uses_recency_score and profile.last_order_at is not None:
        for cut in stats.recency_cuts:
            if 0 <= cut <= churn.days_between(profile.last_order_at, end):
                yield profile.last_order_at + timedelta(days=cut)
    if risk_thresholds:
        yield from _risk_crossings(profile, start, end, stats, definitions, gap, sorted(risk_thresholds))


def _risk_crossings(
    profile: CustomerProfile,
    start: datetime,
    end: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
    gap: float,
    thresholds: list[float],
) -> Iterator[datetime]:
    """The moments churn risk reaches or passes each threshold, one monotone stretch at a time."""
    if not profile.order_count or profile.last_order_at is None or profile.first_order_at is None:
        return  # risk is 0 for non-buyers, whatever the time
    model = stats.churn_model or definitions.churn_model

    def risk(at: datetime) -> float:
        return churn.churn_risk(profile, at, model, gap, stats.median_order_value)

    since_last = churn.days_between(profile.last_order_at, start)
    since_first = churn.days_between(profile.first_order_at, start)
    turns = [start, *_turning_points(since_last, since_first, start, end, gap, model.weights), end]
    for low, high in itertools.pairwise(turns):
        for threshold in thresholds:
            for holds in (lambda r, t=threshold: r >= t, lambda r, t=threshold: r > t):
                if holds(risk(low)) != holds(risk(high)):
                    yield _bisect(low, high, lambda at, h=holds: h(risk(at)))


def _bisect(low: datetime, high: datetime, holds_at: Callable[[datetime], bool]) -> datetime:
    """Where ``holds_at`` flips between ``low`` and ``high`` (it differs at the two ends), to
    :data:`RISK_RESOLUTION`: the moment just after the flip."""
    at_low = holds_at(low)
    while high - low > RISK_RESOLUTION:
        middle = low + (high - low) / 2
        if holds_at(middle) == at_low:
            low = middle
        else:
            high = middle
    return high


def _turning_points(
    since_last: float, since_first: float, start: datetime, end: datetime, gap: float, weights: dict[str, float]
) -> list[datetime]:
    """Where the log-odds of returning stop rising or falling, in (``start``, ``end``).

    With u days from ``start``, L and F the days since the last and first order then:
    z'(u) = w_l / (1 + L + u) + w_f / (1 + F + u) + k, with k = w_o / gap until the overdue ratio
    reaches its cap and 0 after. Times (1 + L + u)(1 + F + u) > 0 this is a quadratic in u.
    """
    horizon = churn.days_between(start, end)
    w_l = weights.get("log_days_since_last_order", 0.0)
    w_f = weights.get("log_days_since_first_order", 0.0)
    w_o = weights.get("overdue_ratio", 0.0)
    cap = churn.MAX_OVERDUE * gap - since_last if gap > 0 else 0.0
    points: list[float] = []
    if 0 < cap < horizon:
        points.append(cap)
    pieces = [(0.0, min(cap, horizon), w_o / gap if gap > 0 else 0.0), (max(cap, 0.0), horizon, 0.0)]
    a, b = 1 + since_last, 1 + since_first
    for low, high, k in pieces:
        if low >= high:
            continue
        # k (a + u)(b + u) + w_l (b + u) + w_f (a + u) = 0
        quadratic, linear, constant = k, k * (a + b) + w_l + w_f, k * a * b + w_l * b + w_f * a
        points.extend(root for root in _roots(quadratic, linear, constant) if low < root < high)
    return [start + timedelta(days=u) for u in sorted(points)]


def _roots(quadratic: float, linear: float, constant: float) -> list[float]:
    if abs(quadratic) < 1e-15:
        return [] if abs(linear) < 1e-15 else [-constant / linear]
    discriminant = linear * linear - 4 * quadratic * constant
    if discriminant < 0:
        return []
    root = math.sqrt(discriminant)
    return [(-linear - root) / (2 * quadratic), (-linear + root) / (2 * quadratic)]
