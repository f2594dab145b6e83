"""Rates from the counters, and the "pushing too hard" warnings a marketer acts on.

Denominators: delivery, open, click, unsubscribe and complaint rates are per *delivered*
email (SES delivery events), or per sent email where no delivery events arrived (the
configuration set's destination not set up yet). Open and click rates count unique messages
opened or clicked by a human (machine opens and link scanners excluded); the "all" figures
beside them include the machines, so the gap is visible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from retention.models.tracking import HealthRules

MESSAGE_FIELDS = (
    "sent",
    "sent_promotion",
    "delivered",
    "bounced",
    "bounced_hard",
    "complained",
    "rejected",
    "opens",
    "opens_human",
    "opens_machine",
    "unique_opens",
    "unique_opens_human",
    "clicks",
    "clicks_human",
    "clicks_machine",
    "unique_clicks",
    "unique_clicks_human",
    "honeypot_hits",
    "unsubscribed",
    "paused",
    "attributed_orders",
    "attributed_revenue",
)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Rates:
    counts: Counter[str]

    def __getitem__(self, name: str) -> Any:
        return self.counts.get(name, 0)

    @property
    def base(self) -> int:
        """Delivered emails, or sent ones while no delivery events have arrived."""
        return self["delivered"] or self["sent"]

    @property
    def delivery_rate(self) -> float | None:
        return _ratio(self["delivered"], self["sent"]) if self["delivered"] else None

    @property
    def bounce_rate(self) -> float | None:
        return _ratio(self["bounced"], self["sent"])

    @property
    def open_rate_human(self) -> float | None:
        return _ratio(self["unique_opens_human"], self.base)

    @property
    def open_rate_all(self) -> float | None:
        return _ratio(self["unique_opens"], self.base)

    @property
    def click_rate(self) -> float | None:
        return _ratio(self["unique_clicks_human"], self.base)

    @property
    def click_rate_all(self) -> float | None:
        return _ratio(self["unique_clicks"], self.base)

    @property
    def click_to_open(self) -> float | None:
        return _ratio(self["unique_clicks_human"], self["unique_opens_human"])

    @property
    def unsubscribe_rate(self) -> float | None:
        return _ratio(self["unsubscribed"], self.base)

    @property
    def complaint_rate(self) -> float | None:
        return _ratio(self["complained"], self.base)

    @property
    def promotion_share(self) -> float | None:
        return _ratio(self["sent_promotion"], self["sent"])

    @property
    def attributed_revenue(self) -> Decimal:
        return Decimal(self["attributed_revenue"])

    def as_dict(self) -> dict[str, Any]:
        rates = {
            name: getattr(self, name)
            for name in (
                "delivery_rate",
                "bounce_rate",
                "open_rate_human",
                "open_rate_all",
                "click_rate",
                "click_rate_all",
                "click_to_open",
                "unsubscribe_rate",
                "complaint_rate",
                "promotion_share",
            )
        }
        counts = {name: self[name] for name in MESSAGE_FIELDS}
        counts["attributed_revenue"] = str(self.attributed_revenue)
        return {"counts": counts, "rates": {k: (round(v, 6) if v is not None else None) for k, v in rates.items()}}


def pushing_too_hard(rates: Rates, rules: HealthRules) -> list[str]:
    """Warnings for one journey's recent emails; none until ``min_sent`` emails say something."""
    if rates["sent"] < rules.min_sent:
        return []
    warnings = []
    checks = (
        (rates.open_rate_human, rules.min_human_open_rate, "human open rate", "below"),
        (rates.click_rate, rules.min_click_rate, "human click rate", "below"),
        (rates.unsubscribe_rate, rules.max_unsubscribe_rate, "unsubscribe rate", "above"),
        (rates.complaint_rate, rules.max_complaint_rate, "complaint rate", "above"),
    )
    for value, limit, label, side in checks:
        if value is None:
            continue
        if (side == "below" and value < limit) or (side == "above" and value > limit):
            bound = "floor" if side == "below" else "ceiling"
            warnings.append(f"{label} {value:.1%} is {side} the {bound} {limit:.1%}")
    return warnings
