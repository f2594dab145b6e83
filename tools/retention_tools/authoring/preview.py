"""Rendering for marketers' eyes: sample customers through the real renderer, links tracked, nothing sent.

Used by ``retention templates preview``, ``lint`` and ``serve``. Settings come from the
environment when a deployment's are set, else from template.yaml's parameter defaults; links
are signed with a fixed preview key, so previews never need AWS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retention.mail.catalog import SampleCustomer
from retention.mail.compose import answers_of, shop_of, signed_links
from retention.mail.links import TrackedEmail, add_tracking
from retention.mail.render import RenderedEmail, Renderer
from retention.mail.settings import MailSettings
from retention.mail.signing import KeyRing
from retention_tools.authoring.samples import sample_coupon, sample_profile

PREVIEW_RING = KeyRing(current="preview", keys={"preview": b"preview-key-not-secret-never-deployed-0000"})
PREVIEW_MESSAGE_ID = "preview-message"
PREVIEW_TRACKING_BASE = "https://track.example.com"


def preview_settings() -> MailSettings:
    """A deployment's settings when present in the environment, else template.yaml's defaults."""
    from retention_tools.local.template import load_template, parameter_defaults

    defaults = parameter_defaults(load_template())
    values = {
        "LINK_KEYS_SECRET": "preview",
        "TRACKING_BASE_URL": PREVIEW_TRACKING_BASE,  # a stack's is its API's endpoint, known once deployed
        "SENDER_ADDRESS": defaults["SenderAddress"],
        "SENDER_NAME": defaults["SenderName"],
        "SENDER_POSTAL_ADDRESS": defaults["SenderPostalAddress"],
        "SHOP_URL": defaults["ShopUrl"],
        "PROMOTION_SHARE_LIMIT": defaults["PromotionShareLimit"],
    }
    values.update({key: os.environ[key] for key in values if key in os.environ})
    return MailSettings.model_validate(values)


@dataclass(frozen=True)
class Preview:
    template: str
    sample: SampleCustomer
    rendered: RenderedEmail
    tracked: TrackedEmail
    limit: float
    coupon_code: str | None = None
    """The sample coupon's code given to the render (the email may or may not show it)."""

    @property
    def within_limit(self) -> bool:
        return self.rendered.promotion_share <= self.limit + 1e-9


def render_sample(
    renderer: Renderer,
    template: str,
    sample: SampleCustomer,
    *,
    settings: MailSettings | None = None,
    now: datetime | None = None,
    root: Path | None = None,
) -> Preview:
    settings = settings or preview_settings()
    now = now or datetime.now(UTC)
    base = settings.tracking_base
    coupon = sample_coupon(now, root or renderer.root)
    rendered = renderer.render(
        template,
        sample_profile(sample, now),
        shop=shop_of(settings),
        links=signed_links(PREVIEW_RING, base, PREVIEW_MESSAGE_ID, answers_of(renderer, template)),
        now=now,
        coupon=coupon,
    )
    tracked = add_tracking(rendered.html, rendered.text, PREVIEW_MESSAGE_ID, PREVIEW_RING, base)
    return Preview(template, sample, rendered, tracked, settings.promotion_share_limit, coupon.code)
