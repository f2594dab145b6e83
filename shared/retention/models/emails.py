"""What the rest of the engine needs to know about an email without rendering one.

The kind of a template (content, feedback, promotion: the 80/20 rule counts promotions) and a
coupon offer shown in an email are plain values shared by the journeys, the stored messaging
records and the renderer; they live here so that storing or counting an email never imports
the renderer (Jinja2, Babel, css-inline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TemplateKind(StrEnum):
    CONTENT = "content"
    FEEDBACK = "feedback"
    PROMOTION = "promotion"


@dataclass(frozen=True)
class CouponOffer:
    """A unique, time-limited discount issued to one customer (the journeys issue it)."""

    code: str
    percent_off: int
    expires_at: datetime
