"""What the journeys store: each customer's journey state, contact state, send records and coupons.

One :class:`JourneyState` per customer and journey, one :class:`ContactState` per customer (how
they may be contacted), a :class:`Coupon` per code issued, and a :class:`SendRecord` per email
(in its own partition: the tracking links carry only the message id). The keys are spelt in
store/keys.py; these models are what the items hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from retention.models.emails import CouponOffer, TemplateKind
from retention.models.profile import CustomerProfile
from retention.models.types import UtcDatetime
from retention.nps import NpsGroup, group_of

RECENT_TRIGGERS = 5
RECENT_SENDS = 12
CONVERSIONS_KEPT = 20


@dataclass(frozen=True)
class SendHistory:
    """A customer's recent marketing emails (oldest first) and how many in a row went unopened."""

    sent_at: Sequence[datetime] = field(default_factory=tuple)
    unopened_streak: int = 0


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
    UNDELIVERABLE = "undeliverable"  # SES refused the address for good when sending (suppressed_detail: its code)


class Attribution(BaseModel):
    """An order credited to one email of the cycle (the counter it added its revenue to), kept so
    a refund can take exactly that revenue off exactly that counter."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    sent_day: date
    step: str
    variant: str
    revenue: Decimal


class BranchCheck(BaseModel):
    """A step with branches was sent: at the check, what the customer did since ``since`` decides
    which step comes next (journeys.yaml ``branches``)."""

    model_config = ConfigDict(frozen=True)

    step: int
    since: datetime


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
    attributions: list[Attribution] = Field(default_factory=list)
    refunds_counted: list[str] = Field(default_factory=list)
    """Trigger keys of the refunds already taken off this cycle's revenue (a redelivery changes nothing)."""
    branch_check: BranchCheck | None = None
    """Set while the journey waits to see how the customer reacts to a step with branches."""
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


class LastClick(BaseModel):
    """The email a person last clicked, kept on the contact so an order can be credited to it
    without reading send records (the counters it credits are keyed by the email's send day)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    journey: str
    step: str
    variant: str
    sent_day: date
    at: datetime
    url: str | None = None
    """The address of the link (none for a one-click answer): a journey may branch on it."""


class LastAnswer(BaseModel):
    """The customer's latest one-click feedback answer (set by the tracking API, never by a send)."""

    model_config = ConfigDict(frozen=True)

    answer: str
    template: str
    journey: str
    step: str
    message_id: str
    at: datetime


class NpsAnswer(BaseModel):
    """The customer's latest NPS score (an answer to an NPS survey, set by the tracking API).

    "Latest" is by the survey's send time, not by the click's: a first click on last year's
    unanswered survey arriving today must not replace this year's score."""

    model_config = ConfigDict(frozen=True)

    score: Annotated[int, Field(ge=0, le=10)]
    message_id: str
    sent_at: UtcDatetime
    """When the survey went out: what orders two scores."""
    at: UtcDatetime
    """When the person answered (the detractor pause counts from here)."""

    @property
    def group(self) -> NpsGroup:
        return group_of(self.score)


class ContactState(BaseModel):
    """How a customer may be contacted: suppression, pause, recent sends and engagement.

    Two writers share the item without stepping on each other: the dispatcher changes the sends
    (guarded by ``version``), the tracking API sets the engagement summary (``last_engaged_at``,
    ``last_click``) without touching the version, so a person's click never makes an email fail
    its claim. Unsubscribes, pauses and suppressions do bump the version: a send decided before
    them must be decided again.
    """

    customer_id: str
    suppressed: Suppression | None = None
    suppressed_at: datetime | None = None
    suppressed_detail: str | None = None
    paused_until: datetime | None = None
    sends: list[SentEntry] = Field(default_factory=list)
    last_engaged_at: datetime | None = None
    last_click: LastClick | None = None
    last_review_request_at: datetime | None = None
    """When the last email asking for a review went out (the review-request limit)."""
    version: int = 0
    last_answer: LastAnswer | None = None
    nps: NpsAnswer | None = None
    """The latest NPS score and when it was given (forward-only, like ``last_answer``)."""

    @property
    def unopened_streak(self) -> int:
        """Marketing emails sent since the person last opened or clicked one (every recent one if never)."""
        return self.history().unopened_streak

    def history(self, ordered_at: datetime | None = None) -> SendHistory:
        """The marketing emails that count against the cap, and the unopened streak.

        Service emails (``counts_for_cap`` false: the thanks for an order) count for neither: a
        receipt left unopened says nothing about wanting the shop's mail. An order (``ordered_at``)
        ends the streak like an open does: a purchase is the strongest sign a person still wants to
        hear from the shop. Both keep the sunset independent of the order in which two emails due
        together are sent: with either order, the same emails go out.
        """
        marketing = [entry for entry in self.sends if entry.counts_for_cap]
        engaged = [moment for moment in (self.last_engaged_at, ordered_at) if moment is not None]
        since = max(engaged) if engaged else None
        return SendHistory(
            sent_at=tuple(entry.at for entry in marketing),
            unopened_streak=sum(1 for entry in marketing if since is None or entry.at > since),
        )

    def kinds(self) -> list[TemplateKind]:
        return [entry.kind for entry in self.sends]

    def with_send(self, entry: SentEntry, now: datetime) -> list[SentEntry]:
        """The recent-send list after ``entry``: the last ``RECENT_SENDS``, plus any from the last 7 days."""
        kept = sorted([*self.sends, entry], key=lambda e: e.at)
        week_ago = now - timedelta(days=7)
        return [e for i, e in enumerate(kept) if i >= len(kept) - RECENT_SENDS or e.at > week_ago]


class SendRecord(BaseModel):
    """Every email, claimed before SES is called: its existence is the exactly-once guarantee.

    A record whose email SES refused is deleted again (with the claim's other writes), so a
    stored record means the email went out, or its container died between the claim and SES's
    answer — an email at most once, never twice. SES's delivery, bounce and complaint events
    land on the record (``delivered_at``, ``bounced_at`` …) and prove which.
    """

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
    claimed_at: datetime
    sent_at: datetime | None = None
    templates_version: str = "built-in"
    """The published templates version the email was rendered from (``retention templates publish``)."""

    @property
    def sent_day(self) -> date:
        return (self.sent_at or self.claimed_at).date()


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


@dataclass(frozen=True)
class Tally:
    """Counts to add to one journey counter (journey × day × step × variant) with a change."""

    journey: str
    day: date
    counts: dict[str, int | Decimal]
    step: str = "-"
    variant: str = "-"


@dataclass(frozen=True)
class Snapshot:
    """Everything one decision about one customer needs, read in one request."""

    profile: CustomerProfile | None
    contact: ContactState
    states: dict[str, JourneyState]
    coupons: dict[str, Coupon] = field(default_factory=dict)
