"""The 80/20 rule over a customer's stream: at most ``limit × window`` promotional emails in any window.

An email is promotional when its template's kind is ``promotion`` (emails.yaml). The count is
taken over a fixed window (default 10: at most 2 promotional emails in any 10), not over however
many emails a new customer happens to have had, so a win-back incentive after two helpful emails
is allowed while a third promotion in a row is not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from retention.models.emails import TemplateKind


def allowed_promotions(window: int, limit: float) -> int:
    return math.floor(window * limit + 1e-9)


def stream_promotion_share(recent: Sequence[TemplateKind], window: int) -> float:
    """Share of promotional emails in the last ``window`` emails (oldest first in ``recent``)."""
    last = list(recent)[-window:]
    return sum(kind is TemplateKind.PROMOTION for kind in last) / window if window else 0.0


def stream_allows(recent: Sequence[TemplateKind], next_kind: TemplateKind, window: int, limit: float) -> bool:
    """Whether sending an email of ``next_kind`` keeps the last ``window`` emails within the limit."""
    if next_kind is not TemplateKind.PROMOTION:
        return True
    earlier = list(recent)[-(window - 1) :] if window > 1 else []
    promotions = sum(kind is TemplateKind.PROMOTION for kind in earlier) + 1
    return promotions <= allowed_promotions(window, limit)
