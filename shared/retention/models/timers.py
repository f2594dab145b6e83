"""A timer: something to happen for a customer at a time (inactivity, birthday, journey step, coupon)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Timer(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    kind: str = Field(pattern=r"^[a-z_]+(:[A-Za-z0-9_.\-]+)?$")
    due_at: datetime
    generation: int = 1
    firing: int = 1
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("due_at")
    @classmethod
    def _whole_seconds(cls, value: datetime) -> datetime:
        # due_at is a GSI sort key compared as text: one fixed ISO width keeps text order = time order.
        return value.replace(microsecond=0)


JOURNEY_TIMER = "journey"
COUPON_TIMER = "coupon_expiry"


def step_timer_kind(journey: str) -> str:
    """The kind of a journey's step timer (one per customer and journey)."""
    return f"{JOURNEY_TIMER}:{journey}"


def coupon_timer_kind(code: str) -> str:
    """The kind of a coupon's expiry-reminder timer."""
    return f"{COUPON_TIMER}:{code}"
