"""What the journeys store: each customer's journey state, contact state, send records and coupons.

=====================  ========================  ===========================================
pk                     sk                        item
=====================  ========================  ===========================================
``CUST#<id>``          ``JOURNEY#<journey>``     :class:`JourneyState` (one per journey)
``CUST#<id>``          ``CONTACT``               :class:`ContactState` (suppression, recent sends)
``CUST#<id>``          ``COUPON#<code>``         :class:`Coupon`
``MSG#<message id>``   ``MSG``                   :class:`SendRecord` (the exactly-once claim)
=====================  ========================  ===========================================

Send records live in their own partition because the tracking links carry only the message id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from retention.frequency import SendHistory
from retention.mail.catalog import TemplateKind
from retention.mail.context import CouponOffer

RECENT_TRIGGERS = 5
RECENT_SENDS = 12
CONVERSIONS_KEPT = 20


class JourneyStatus(StrEnum):
    ACTIVE = "active"
    HOLDOUT = "holdout"
    COMPLETED = "completed"
    EXITED = "exited"


class Suppression(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    SUNSET = "sunset"


class JourneyState(BaseModel):
    """One customer's progress through one journey; ``version`` guards every change."""

    customer_id: str
    journey: str
    cycle: int = 0
    status: JourneyStatus = JourneyStatus.COMPLETED
    entered_at: datetime | None = None
    trigger_key: str = ""
    recent_triggers: list[str] = Field(default_factory=list)
    next_step: int = 0
    deferrals: int = 0
    coupon: CouponOffer | None = None
    exit_reason: str | None = None
    finished_at: datetime | None = None
    converted_orders: list[str] = Field(default_factory=list)
    converted_revenue: Decimal = Decimal(0)
    first_conversion_at: datetime | None = None
    version: int = 0

    @property
    def holdout(self) -> bool:
        return self.status is JourneyStatus.HOLDOUT


class SentEntry(BaseModel):
    """One email in a customer's recent-send list: enough for the cap and the 80/20 stream rule."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    at: datetime
    kind: TemplateKind
    counts_for_cap: bool = True


class ContactState(BaseModel):
    """How a customer may be contacted: suppression, pause, recent sends and engagement."""

    customer_id: str
    suppressed: Suppression | None = None
    suppressed_at: datetime | None = None
    paused_until: datetime | None = None
    sends: list[SentEntry] = Field(default_factory=list)
    unopened_streak: int = 0
    last_opened_at: datetime | None = None
    version: int = 0

    def history(self) -> SendHistory:
        return SendHistory(
            sent_at=tuple(entry.at for entry in self.sends if entry.counts_for_cap),
            unopened_streak=self.unopened_streak,
        )

    def kinds(self) -> list[TemplateKind]:
        return [entry.kind for entry in self.sends]

    def with_send(self, entry: SentEntry, now: datetime) -> list[SentEntry]:
        """The recent-send list after ``entry``: the last ``RECENT_SENDS``, plus any from the last 7 days."""
        kept = sorted([*self.sends, entry], key=lambda e: e.at)
        week_ago = now - timedelta(days=7)
        return [e for i, e in enumerate(kept) if i >= len(kept) - RECENT_SENDS or e.at > week_ago]


class SendStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"


class SendRecord(BaseModel):
    """Every email: claimed (``sending``) before SES is called, ``sent`` with SES's id after."""

    message_id: str
    customer_id: str
    journey: str
    step: str
    cycle: int
    template: str
    variant: str
    kind: TemplateKind
    language: str = ""
    promotion_share: float = 0.0
    urls: list[str] = Field(default_factory=list)
    coupon_code: str | None = None
    status: SendStatus = SendStatus.SENDING
    claimed_at: datetime
    sent_at: datetime | None = None
    ses_message_id: str | None = None


class CouponStatus(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"


class Coupon(BaseModel):
    customer_id: str
    code: str
    percent_off: int
    issued_at: datetime
    expires_at: datetime
    journey: str
    message_id: str
    status: CouponStatus = CouponStatus.ISSUED
    redeemed_at: datetime | None = None
    order_id: str | None = None
