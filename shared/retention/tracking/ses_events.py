"""SES events (delivery, bounce, complaint, reject, rendering failure, delay; optional opens and
clicks) applied to the send record, the counters and, for hard bounces and complaints, the
customer's suppression.

Each marker is set with ``if_not_exists``, so SES's at-least-once delivery of its own events
counts each once. SES's open and click events (only if open/click tracking is switched on in
the configuration set, which the template does not do) go through the same first-open and
first-click markers as the tracking API's, so an open seen by both counts once in the unique
figures. Requests: one GetItem, one marker UpdateItem, one counter ADD, plus one UpdateItem on
the contact for a hard bounce or complaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from retention.models.engine_events import EngineEvent, customer_suppressed
from retention.models.messaging import Suppression
from retention.models.ses_events import SesEvent
from retention.models.tracking import TrackingRules, Visit
from retention.store.engagement import EngagementStore, TrackedMessage
from retention.store.errors import UnknownMessage
from retention.store.journeys import JourneyStore
from retention.tracking.machine import machine_click, machine_open

MARKERS = {
    "Send": ("ses_sent_at", "ses_sent"),
    "Delivery": ("delivered_at", "delivered"),
    "Complaint": ("complained_at", "complained"),
    "Reject": ("rejected_at", "rejected"),
    "Rendering Failure": ("rendering_failed_at", "rendering_failed"),
    "DeliveryDelay": ("delivery_delayed_at", "delivery_delayed"),
}


@dataclass(frozen=True)
class Applied:
    outcome: str  # "counted", "duplicate", "not_ours", "unknown_message"
    suppressed: Suppression | None = None
    """Set when this event newly suppressed the customer."""
    reported: EngineEvent | None = None
    """``CustomerSuppressed`` for the shop, on every hard bounce or complaint (also a redelivered
    one: a publish that failed is retried with the SQS message, the shop's mirror is idempotent)."""


def apply_ses_event(event: SesEvent, store: EngagementStore, journeys: JourneyStore, rules: TrackingRules) -> Applied:
    message_id = event.message_id
    if message_id is None:
        return Applied("not_ours")
    message = store.message(message_id)
    if message is None:
        return Applied("unknown_message")
    at = event.mail.timestamp
    try:
        if event.eventType in ("Open", "Click"):
            return _engagement(event, store, message, rules)
        if event.eventType == "Bounce":
            hard = event.bounce is not None and event.bounce.bounceType == "Permanent"
            marker, counter = ("bounced_at", "bounced_hard") if hard else ("soft_bounced_at", "bounced_soft")
            first = store.mark_event(message_id, marker, at)
            if first:
                store.count(message, {"bounced": 1, counter: 1})
            suppressed = None
            if hard and journeys.suppress(message.record.customer_id, Suppression.BOUNCED, at):
                suppressed = Suppression.BOUNCED
            reported = _reported(message, "bounced", at) if hard else None
            return Applied("counted" if first else "duplicate", suppressed, reported)
        marker, counter = MARKERS[event.eventType]
        first = store.mark_event(message_id, marker, at)
        if first:
            store.count(message, {counter: 1})
        suppressed = None
        complaint = event.eventType == "Complaint"
        if complaint and journeys.suppress(message.record.customer_id, Suppression.COMPLAINED, at):
            suppressed = Suppression.COMPLAINED
        reported = _reported(message, "complained", at) if complaint else None
        return Applied("counted" if first else "duplicate", suppressed, reported)
    except UnknownMessage:
        return Applied("unknown_message")


def _reported(message: TrackedMessage, reason: Literal["bounced", "complained"], at: datetime) -> EngineEvent:
    return customer_suppressed(message.record.customer_id, reason, at, message.record.message_id)


def _engagement(event: SesEvent, store: EngagementStore, message: TrackedMessage, rules: TrackingRules) -> Applied:
    detail = event.open if event.eventType == "Open" else event.click
    at = (detail.timestamp if detail and detail.timestamp else None) or event.mail.timestamp
    visit = Visit(user_agent=detail.userAgent if detail else "", source_ip=detail.ipAddress if detail else "", at=at)
    if event.eventType == "Open":
        human = machine_open(visit, message.record.sent_at, rules) is None
        firsts = store.mark_open(message.record.message_id, human, at)
        if firsts.human_open:
            store.engaged(message.record, at, clicked=False)
        store.count(
            message,
            {"ses_opens": 1, "unique_opens": int(firsts.open), "unique_opens_human": int(firsts.human_open)},
        )
    else:
        human = machine_click(visit, message.record.sent_at, message.honeypot_at, rules) is None
        firsts = store.mark_click(message.record.message_id, human, at)
        if human:
            store.engaged(message.record, at, clicked=True)
        store.count(
            message,
            {
                "ses_clicks": 1,
                "unique_clicks": int(firsts.click),
                "unique_clicks_human": int(firsts.human_click),
                "unique_opens": int(firsts.open),
                "unique_opens_human": int(firsts.human_open),
            },
        )
    return Applied("counted")
