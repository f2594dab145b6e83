"""Customer export as of a date: segment, RFM, churn risk, expected next order, latest answer and NPS score."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats
from retention.segments import classify, load_definitions
from retention.store.engagement import CustomerFeedback

COLUMNS = (
    "customer_id",
    "lifecycle",
    "customer_type",
    "tags",
    "rfm",
    "churn_risk",
    "expected_next_order_at",
    "order_count",
    "total_spent",
    "first_order_at",
    "last_order_at",
    "referrals",
    "last_answer",
    "last_answer_at",
    "nps_score",
    "nps_group",
    "nps_at",
)


def export_rows(
    profiles: Iterable[CustomerProfile],
    as_of: datetime,
    stats: PopulationStats,
    feedback: Mapping[str, CustomerFeedback] | None = None,
) -> list[dict[str, Any]]:
    """One row per customer, classified at ``as_of`` (not at their last update), with their
    latest one-click feedback answer and NPS score (``feedback`` by customer id, from the contacts)."""
    feedback = feedback or {}
    definitions = load_definitions()
    rows = []
    for profile in sorted(profiles, key=lambda p: p.customer_id):
        segment = classify(profile, as_of, stats, definitions)
        given = feedback.get(profile.customer_id)
        answer, score = (given.last_answer, given.nps) if given else (None, None)
        rows.append(
            {
                "customer_id": profile.customer_id,
                "lifecycle": segment.lifecycle,
                "customer_type": segment.customer_type,
                "tags": " ".join(segment.tags),
                "rfm": segment.rfm,
                "churn_risk": segment.churn_risk,
                "expected_next_order_at": segment.expected_next_order_at.isoformat()
                if segment.expected_next_order_at
                else "",
                "order_count": profile.order_count,
                "total_spent": str(profile.total_spent),
                "first_order_at": profile.first_order_at.isoformat() if profile.first_order_at else "",
                "last_order_at": profile.last_order_at.isoformat() if profile.last_order_at else "",
                "referrals": profile.referral_count,
                "last_answer": answer.answer if answer else "",
                "last_answer_at": answer.at.isoformat() if answer else "",
                "nps_score": score.score if score else "",
                "nps_group": score.group if score else "",
                "nps_at": score.at.isoformat() if score else "",
            }
        )
    return rows


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
