"""Marketing consent: the evidence a profile keeps and the one rule that reads it.

Two policies, chosen per deployment (the ``ConsentPolicy`` template parameter):

* ``explicit`` (the default): marketing email only to customers with a recorded opt-in;
* ``soft-opt-in``: customers who bought may receive marketing email (about similar products)
  until they object; prospects, who never bought, still need an explicit opt-in.

Under both, a withdrawal stops marketing email for good (until a new opt-in), and *unknown*
consent is never read as a yes. Service email (the thank-you and how-to an order causes) does
not need marketing consent; every journey step says which it is (``purpose`` in journeys.yaml).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ConsentPolicy(StrEnum):
    EXPLICIT = "explicit"
    SOFT_OPT_IN = "soft-opt-in"


class ConsentState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class Purpose(StrEnum):
    """Why an email is sent: ``service`` (caused by what the customer did, e.g. an order's
    thank-you and how-to) or ``marketing`` (reviews, win-backs, referrals, promotions)."""

    SERVICE = "service"
    MARKETING = "marketing"


class ConsentEvidence(BaseModel):
    """What the engine was told about marketing consent, and by which event: enough to show a
    regulator when and how a yes (or a no) was given."""

    model_config = ConfigDict(frozen=True)

    state: ConsentState = ConsentState.UNKNOWN
    at: datetime | None = None
    """When the customer gave or withdrew consent (the shop's ``consent_at``, else the event's time)."""
    source_event: str | None = None
    """The shop event that carried it: ``<detail-type>:<identifier>`` (order id, update id...)."""
    source: str | None = None
    """How the shop collected it ("checkout checkbox", "newsletter form"), as the shop sent it."""
    policy: ConsentPolicy | None = None
    """The deployment's policy when the evidence was recorded."""


NO_CONSENT = "no_consent"
CONSENT_WITHDRAWN = "consent_withdrawn"


def marketing_refusal(evidence: ConsentEvidence, policy: ConsentPolicy, has_ordered: bool) -> str | None:
    """Why marketing email must not go to this customer under ``policy``, or None when it may."""
    if evidence.state is ConsentState.GRANTED:
        return None
    if evidence.state is ConsentState.WITHDRAWN:
        return CONSENT_WITHDRAWN
    if policy is ConsentPolicy.SOFT_OPT_IN and has_ordered:
        return None
    return NO_CONSENT


def allows(purpose: Purpose, evidence: ConsentEvidence, policy: ConsentPolicy, has_ordered: bool) -> str | None:
    """Why an email of ``purpose`` must not go out (None: it may). Service email needs no consent."""
    if purpose is Purpose.SERVICE:
        return None
    return marketing_refusal(evidence, policy, has_ordered)
