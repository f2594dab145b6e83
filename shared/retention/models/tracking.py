"""Tracking: the marketer-edited rules (templates/tracking.yaml) and what a request looked like.

Engagement lives on the send record: first-open and first-click markers written with
``if_not_exists`` make unique counts exact under repeated requests; a person's opens and clicks
also move the engagement summary on the contact, which the dispatcher reads for the unopened
streak (engagement back-off) and for attribution (store/engagement.py).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MachineOpenRules(_Strict):
    user_agents: list[str] = Field(default_factory=list)
    exact_user_agents: list[str] = Field(default_factory=list)
    ip_ranges: list[str] = Field(default_factory=list)
    seconds_after_send: Annotated[int, Field(ge=0, le=3600)] = 10

    @field_validator("ip_ranges")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not an IP range such as 17.0.0.0/8") from error
        return value

    def networks(self) -> list[Network]:
        return [ipaddress.ip_network(cidr, strict=False) for cidr in self.ip_ranges]


class MachineClickRules(MachineOpenRules):
    seconds_after_send: Annotated[int, Field(ge=0, le=3600)] = 30
    seconds_around_honeypot: Annotated[int, Field(ge=0, le=3600)] = 120


class Utm(_Strict):
    source: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")] = "retention-engine"
    medium: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")] = "email"


class HealthRules(_Strict):
    window_days: Annotated[int, Field(ge=1, le=90)] = 14
    min_sent: Annotated[int, Field(ge=1)] = 50
    min_human_open_rate: Annotated[float, Field(ge=0, le=1)] = 0.15
    min_click_rate: Annotated[float, Field(ge=0, le=1)] = 0.015
    max_unsubscribe_rate: Annotated[float, Field(ge=0, le=1)] = 0.005
    max_complaint_rate: Annotated[float, Field(ge=0, le=1)] = 0.001


class TrackingRules(_Strict):
    machine_opens: MachineOpenRules = MachineOpenRules()
    machine_clicks: MachineClickRules = MachineClickRules()
    attribution_window_days: Annotated[int, Field(ge=1, le=60)] = 5
    pause_days: Annotated[int, Field(ge=1, le=365)] = 30
    utm: Utm = Utm()
    health: HealthRules = HealthRules()
    feedback_redirect: Annotated[str | None, Field(pattern=r"^/[A-Za-z0-9/_-]{0,100}$")] = None
    """A path on the shop to send a feedback answer to (``?answer=<id>`` added) instead of the
    engine's thank-you page; unset, the reader sees the thank-you page in the email's language."""


class Visit(BaseModel):
    """One tracking request as the handler saw it (untrusted, only ever compared)."""

    model_config = ConfigDict(frozen=True)

    method: str = "GET"
    user_agent: str = ""
    source_ip: str = ""
    at: datetime
