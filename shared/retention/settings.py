"""Environment settings, parsed once into a typed model so a misconfigured function fails at cold start."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from retention.models.consent import ConsentPolicy


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: str = Field(default="dev", alias="STAGE")
    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=3)
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    timer_shards: int = Field(default=8, ge=1, le=64, alias="TIMER_SHARDS")
    timer_bucket_hours: int = Field(default=1, ge=1, le=24, alias="TIMER_BUCKET_HOURS")
    consent_policy: ConsentPolicy = Field(default=ConsentPolicy.EXPLICIT, alias="CONSENT_POLICY")
    """``explicit``: marketing email only with a recorded opt-in; ``soft-opt-in``: buyers too, until they object."""
    max_clock_skew_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400, alias="MAX_CLOCK_SKEW_SECONDS")
    """How far in the future a shop event may be dated and still be applied: shop clocks drift
    and time zones get mislabelled, but an order dated next year is an error that would pin the
    customer's "latest" facts (email, name) to it for a year."""

    @property
    def max_clock_skew(self) -> timedelta:
        return timedelta(seconds=self.max_clock_skew_seconds)


@cache
def settings() -> Settings:
    """The settings of this process; cached, because the environment of a Lambda never changes."""
    return Settings.model_validate({key: value for key, value in os.environ.items()})
