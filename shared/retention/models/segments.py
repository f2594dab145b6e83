"""The segment definition file (templates/segments.yaml) and what classification produces."""

from __future__ import annotations

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
                if isinstance(value, str) and value.removeprefix("$") not in STATISTICS:
                    raise ValueError(f"{fact}: {value!r} is not a number or one of ${', $'.join(STATISTICS)}")
        return when


class InactivitySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    floor_days: Annotated[int, Field(ge=1, le=3650)] = 30
    ceiling_days: Annotated[int, Field(ge=1, le=3650)] = 120
    max_firings: Annotated[int, Field(ge=1, le=12)] = 3
    default_gap_days: Annotated[int, Field(ge=1, le=3650)] = 60

    @model_validator(mode="after")
    def _ordered(self) -> InactivitySettings:
        if self.floor_days > self.ceiling_days:
            raise ValueError("inactivity.floor_days must not exceed ceiling_days")
        return self


class ChurnModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: Annotated[int, Field(ge=1, le=3650)] = 90
    intercept: float
    weights: dict[
        Literal["log_order_count", "log_days_since_last_order", "overdue_ratio", "log_days_since_first_order"], float
    ]


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
    """Daily population statistics: RFM quintile cut points and the VIP spend threshold."""

    model_config = ConfigDict(frozen=True)

    computed_at: datetime
    buyers: int = 0
    vip_spend: Decimal = Decimal("1e12")
    median_gap_days: float = 60.0
    recency_cuts: list[float] = Field(default_factory=list)
    frequency_cuts: list[float] = Field(default_factory=list)
    monetary_cuts: list[float] = Field(default_factory=list)


class Classification(BaseModel):
    """What the engine currently thinks of a customer; stored on the profile."""

    model_config = ConfigDict(frozen=True)

    lifecycle: str
    customer_type: str
    tags: list[str] = Field(default_factory=list)
    rfm: str = ""
    churn_risk: float = 0.0
    expected_next_order_at: datetime | None = None
