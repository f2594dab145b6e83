"""Segments from profile facts: lifecycle stage, customer type, tags, RFM and churn risk.

Everything here is pure: the rules come from ``templates/segments.yaml`` (validated with
clear errors), the population statistics from the daily job, the profile from the store.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml

from retention import churn
from retention.models.profile import CustomerProfile
from retention.models.segments import RISK_PERCENTILE, Classification, PopulationStats, Rule, SegmentDefinitions
from retention.paths import templates_dir

_COMPARE = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


class DefinitionError(ValueError):
    """The segment file is invalid; the message says which file and what is wrong."""


def parse_definitions(text: str, source: str = "segments.yaml") -> SegmentDefinitions:
    from pydantic import ValidationError

    try:
        return SegmentDefinitions.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{source}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise DefinitionError(f"{source}: {problems}") from exc


def load_definitions(path: Path | None = None) -> SegmentDefinitions:
    """The segment definitions, parsed once per process (a Lambda container) and templates version."""
    return _definitions_in(path or templates_dir() / "segments.yaml")


@cache
def _definitions_in(path: Path) -> SegmentDefinitions:
    return parse_definitions(path.read_text(encoding="utf-8"), str(path.name))


def facts(profile: CustomerProfile, as_of: datetime, stats: PopulationStats, definitions: SegmentDefinitions) -> dict:
    """Every fact a rule may test, computed from the profile at ``as_of``.

    Churn risk uses the weights fitted on this shop when the statistics carry them, else the
    shipped ones from segments.yaml.
    """
    gap = churn.expected_gap_days(profile, stats.median_gap_days)
    model = stats.churn_model or definitions.churn_model
    since_last = churn.days_between(profile.last_order_at, as_of) if profile.last_order_at else 0.0
    since_first = churn.days_between(profile.first_order_at, as_of) if profile.first_order_at else 0.0
    registered = profile.registered_at or profile.first_order_at or profile.created_at
    values: dict[str, float] = {
        "order_count": profile.order_count,
        "total_spent": float(profile.total_spent),
        "days_since_last_order": since_last,
        "days_since_first_order": since_first,
        "days_since_registered": churn.days_between(registered, as_of) if registered else 0.0,
        "expected_gap_days": gap,
        "overdue_ratio": (since_last / gap) if profile.order_count and gap > 0 else 0.0,
        "churn_risk": churn.churn_risk(profile, as_of, model, gap, stats.median_order_value),
        "referral_count": profile.referral_count,
        "coupon_order_share": (len(profile.coupons_used) / profile.order_count) if profile.order_count else 0.0,
        "category_count": len(profile.categories),
        "gap_regularity": churn.gap_regularity(profile),
    }
    r, f, m = rfm_scores(values, stats) if profile.order_count else (0, 0, 0)
    values.update(rfm_r=r, rfm_f=f, rfm_m=m)
    return values


def _score(value: float, cuts: list[float], higher_is_better: bool = True) -> int:
    """Quintile of ``value`` given the four cut points; 3 (the middle) before statistics exist."""
    if not cuts:
        return 3
    score = 1 + bisect.bisect_left(cuts, value) if higher_is_better else 5 - bisect.bisect_left(cuts, value)
    return max(1, min(5, score))


def rfm_scores(values: dict[str, float], stats: PopulationStats) -> tuple[int, int, int]:
    """1–5 per dimension against the population's quintile cut points (5 = best)."""
    return (
        _score(values["days_since_last_order"], stats.recency_cuts, higher_is_better=False),
        _score(values["order_count"], stats.frequency_cuts),
        _score(values["total_spent"], stats.monetary_cuts),
    )


def statistic(name: str, stats: PopulationStats, definitions: SegmentDefinitions) -> float:
    """What ``$name`` in a rule stands for today: a population statistic, or a percentile of the
    shop's churn risk (``churn_model.fallback_risk_threshold`` until the daily job has one)."""
    percentile = RISK_PERCENTILE.match(name)
    if percentile:
        value = stats.risk_percentile(int(percentile.group(1)))
        return definitions.churn_model.fallback_risk_threshold if value is None else value
    return float(getattr(stats, name))


def matches(rule: Rule, values: dict[str, float], stats: PopulationStats, definitions: SegmentDefinitions) -> bool:
    for fact, conditions in rule.when.items():
        for op, expected in conditions.items():
            target = statistic(expected[1:], stats, definitions) if isinstance(expected, str) else expected
            if not _COMPARE[op](values[fact], target):
                return False
    return True


def classify(
    profile: CustomerProfile, as_of: datetime, stats: PopulationStats, definitions: SegmentDefinitions | None = None
) -> Classification:
    definitions = definitions or load_definitions()
    values = facts(profile, as_of, stats, definitions)
    lifecycle = next((r.name for r in definitions.lifecycle if matches(r, values, stats, definitions)), "unclassified")
    customer_type = next(
        (r.name for r in definitions.customer_types if matches(r, values, stats, definitions)), "unknown"
    )
    tags = [r.name for r in definitions.tags if matches(r, values, stats, definitions)]
    gap = values["expected_gap_days"]
    return Classification(
        lifecycle=lifecycle,
        customer_type=customer_type,
        tags=tags,
        rfm=f"{int(values['rfm_r'])}{int(values['rfm_f'])}{int(values['rfm_m'])}" if profile.order_count else "",
        churn_risk=values["churn_risk"],
        expected_next_order_at=churn.expected_next_order_at(profile, gap),
    )


def _quintile_cuts(values: list[float]) -> list[float]:
    if len(values) < 5:
        return []
    return [round(q, 4) for q in statistics.quantiles(values, n=5, method="inclusive")]


@dataclass
class StatsInputs:
    """The few numbers per buyer the statistics need; a scan segment reduces its profiles to
    these as it reads, so the daily job's memory is floats per buyer, not profiles."""

    recency: list[float] = field(default_factory=list)
    frequency: list[float] = field(default_factory=list)
    monetary: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    order_values: list[float] = field(default_factory=list)

    def add(self, profile: CustomerProfile, as_of: datetime) -> None:
        if not profile.order_count or profile.last_order_at is None:
            return
        self.recency.append(churn.days_between(profile.last_order_at, as_of))
        self.frequency.append(profile.order_count)
        self.monetary.append(float(profile.total_spent))
        self.order_values.append(churn.average_order_value(profile))
        if len(profile.order_dates) >= 2:
            span = churn.days_between(profile.order_dates[0], profile.order_dates[-1])
            self.gaps.append(span / (len(profile.order_dates) - 1))

    def merge(self, other: StatsInputs) -> StatsInputs:
        return StatsInputs(
            self.recency + other.recency,
            self.frequency + other.frequency,
            self.monetary + other.monetary,
            self.gaps + other.gaps,
            self.order_values + other.order_values,
        )


def collect_inputs(profiles: Iterable[CustomerProfile], as_of: datetime) -> StatsInputs:
    inputs = StatsInputs()
    for profile in profiles:
        inputs.add(profile, as_of)
    return inputs


def stats_from_inputs(inputs: StatsInputs, as_of: datetime) -> PopulationStats:
    spend = sorted(inputs.monetary, reverse=True)
    vip_spend = Decimal(str(spend[max(0, len(spend) // 5 - 1)])) if len(spend) >= 5 else Decimal("1e12")
    return PopulationStats(
        computed_at=as_of,
        buyers=len(inputs.monetary),
        vip_spend=vip_spend,
        median_gap_days=round(statistics.median(inputs.gaps), 2)
        if inputs.gaps
        else float(load_definitions().inactivity.default_gap_days),
        median_order_value=round(statistics.median(inputs.order_values), 2) if inputs.order_values else None,
        recency_cuts=_quintile_cuts(inputs.recency),
        frequency_cuts=_quintile_cuts(inputs.frequency),
        monetary_cuts=_quintile_cuts(inputs.monetary),
    )


def compute_stats(profiles: Iterable[CustomerProfile], as_of: datetime) -> PopulationStats:
    """Population statistics for RFM and VIP thresholds (the daily job's pure core)."""
    return stats_from_inputs(collect_inputs(profiles, as_of), as_of)
