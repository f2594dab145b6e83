"""The segment definition file (templates/segments.yaml) and what classification produces."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FACTS = (
    "order_count",
    "total_spent",
    "days_since_last_order",
    "days_since_first_order",
    "days_since_registered",
    "expected_gap_days",
    "overdue_ratio",
    "churn_risk",
    "referral_count",
    "coupon_order_share",
    "category_count",
    "gap_regularity",
    "rfm_r",
    "rfm_f",
    "rfm_m",
)
STATISTICS = ("vip_spend", "median_gap_days")
RISK_PERCENTILE = re.compile(r"^churn_risk_p([1-9][0-9]?)$")
"""``$churn_risk_p70``: the churn risk 70 % of the shop's not-yet-lapsed buyers stay below (p1..p99)."""
Operator = Literal["gt", "gte", "lt", "lte", "eq", "ne"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    when: dict[str, dict[Operator, float | bool | str]] = Field(default_factory=dict)

    @field_validator("when")
    @classmethod
    def _known_facts(cls, when: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        for fact, conditions in when.items():
            if fact not in FACTS:
                raise ValueError(f"unknown fact {fact!r}; known facts: {', '.join(FACTS)}")
            for value in conditions.values():
                if not isinstance(value, str):
                    continue
                name = value[1:] if value.startswith("$") else ""
                if RISK_PERCENTILE.match(name):
                    if fact != "churn_risk":
                        raise ValueError(f"{fact}: {value} is a percentile of churn risk; compare churn_risk with it")
                elif name not in STATISTICS:
                    raise ValueError(
                        f"{fact}: {value!r} is not a number or one of ${', $'.join(STATISTICS)}, "
                        "$churn_risk_p1 … $churn_risk_p99"
                    )
        return when


class InactivitySettings(BaseModel):
    """The inactivity timer fires at segment boundaries (retention.boundaries); what remains to
    set is the gap assumed for a customer before the shop has a median gap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_gap_days: Annotated[int, Field(ge=1, le=3650)] = 60

    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data: object) -> object:
        retired = sorted({"floor_days", "ceiling_days", "max_firings"} & set(data if isinstance(data, dict) else ()))
        if retired:
            raise ValueError(
                f"{', '.join(retired)} no longer apply: the inactivity timer fires when the segment rules say the "
                "customer changes segment; remove them"
            )
        return data


ChurnFeature = Literal[
    "log_order_count",
    "log_days_since_last_order",
    "overdue_ratio",
    "log_days_since_first_order",
    "log_relative_order_value",
]


class ChurnModel(BaseModel):
    """Logistic weights over the profile features: risk = 1 - P(an order within ``horizon_days``).

    The shipped weights live in segments.yaml; the daily statistics job stores weights fitted on
    the shop's own history in :class:`PopulationStats` once the shop has enough of it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: Annotated[int, Field(ge=1, le=3650)] = 90
    intercept: float
    weights: dict[ChurnFeature, float]


class RefitSettings(BaseModel):
    """When the daily job fits the weights on the shop's own history, and on how many rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_buyers: Annotated[int, Field(ge=100, le=100_000_000)] = 500
    min_history_days: Annotated[int, Field(ge=2, le=3650)] = 180
    sample_size: Annotated[int, Field(ge=1_000, le=200_000)] = 50_000


class ChurnModelSettings(ChurnModel):
    """The ``churn_model`` block of segments.yaml: shipped weights, refit rules, risk percentiles."""

    refit: RefitSettings = RefitSettings()
    percentiles_below_overdue_ratio: Annotated[float, Field(gt=0, le=10)] = 3.0
    fallback_risk_threshold: Annotated[float, Field(ge=0, le=1)] = 0.5

    @model_validator(mode="after")
    def _history_covers_a_horizon(self) -> ChurnModelSettings:
        if self.refit.min_history_days <= self.horizon_days:
            raise ValueError("refit.min_history_days must exceed horizon_days (the fit looks back one horizon)")
        return self

    def shipped(self) -> ChurnModel:
        return ChurnModel(horizon_days=self.horizon_days, intercept=self.intercept, weights=self.weights)


class SegmentDefinitions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lifecycle: Annotated[list[Rule], Field(min_length=1)]
    customer_types: Annotated[list[Rule], Field(min_length=1)]
    tags: list[Rule] = Field(default_factory=list)
    inactivity: InactivitySettings = InactivitySettings()
    churn_model: ChurnModelSettings

    @model_validator(mode="after")
    def _unique_names(self) -> SegmentDefinitions:
        for group in ("lifecycle", "customer_types", "tags"):
            names = [rule.name for rule in getattr(self, group)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{group}: duplicate names {duplicates}")
        return self


class PopulationStats(BaseModel):
    """Daily population statistics: RFM quintile cut points, the VIP spend threshold, the churn
    weights fitted on this shop (``None``: the shipped ones apply) and the percentiles of churn
    risk among its not-yet-lapsed buyers (empty until the job has ranked enough of them)."""

    model_config = ConfigDict(frozen=True)

    computed_at: datetime
    buyers: int = 0
    vip_spend: Decimal = Decimal("1e12")
    median_gap_days: float = 60.0
    median_order_value: float | None = None
    """The median of the buyers' average order values: the churn model's typical order
    (``None`` in statistics stored before it was computed, or without a buyer)."""
    recency_cuts: list[float] = Field(default_factory=list)
    frequency_cuts: list[float] = Field(default_factory=list)
    monetary_cuts: list[float] = Field(default_factory=list)
    churn_model: ChurnModel | None = None
    churn_training_rows: int = 0
    churn_risk_percentiles: list[float] = Field(default_factory=list)

    def risk_percentile(self, percent: int) -> float | None:
        """The ``percent``-th percentile of churn risk (1..99), or ``None`` before it was computed."""
        if len(self.churn_risk_percentiles) != 99:
            return None
        return self.churn_risk_percentiles[percent - 1]


class Classification(BaseModel):
    """What the engine currently thinks of a customer; stored on the profile."""

    model_config = ConfigDict(frozen=True)

    lifecycle: str
    customer_type: str
    tags: list[str] = Field(default_factory=list)
    rfm: str = ""
    churn_risk: float = 0.0
    expected_next_order_at: datetime | None = None
