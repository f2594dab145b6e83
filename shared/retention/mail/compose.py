"""The send path's half of email: render, refuse promotion over the limit, sign links, build MIME.

:func:`compose` is what the journeys call for every email. It refuses (raises) rather than send
an email that breaks the 80/20 rule or the link and markup policy (only https and mailto links
leave the engine; no script, frame, form, handler attribute or refresh), and it returns the
exact bytes for SES ``SendEmail`` (raw, because ``List-Unsubscribe`` needs custom headers) plus
what the send record stores: the message's original URLs by link index and its promotion share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from urllib.parse import quote

from retention.mail import mime
from retention.mail.addresses import deliverable_address, to_header
from retention.mail.context import Links, Shop
from retention.mail.html_policy import unsafe_markup
from retention.mail.links import add_tracking
from retention.mail.render import RenderedEmail, Renderer
from retention.mail.settings import MailSettings
from retention.mail.signing import KeyRing, Purpose
from retention.models.emails import CouponOffer
from retention.models.profile import CustomerProfile


class PromotionShareExceeded(ValueError):
    """The rendered email is more advert than help; it names the template, the part and the figures."""

    def __init__(self, template: str, part: str, share: float, limit: float) -> None:
        super().__init__(
            f"template {template!r} refused: promotion is {share * 100:.1f} % of the visible text "
            f"of its {part} part, above the {limit * 100:.1f} % limit"
        )
        self.template, self.part, self.share, self.limit = template, part, share, limit


class UnsafeEmail(ValueError):
    """The rendered HTML breaks the link and markup policy (:mod:`retention.mail.html_policy`); nothing is sent."""

    def __init__(self, template: str, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"template {template!r} refused: {problems[0]}{more}")
        self.template, self.problems = template, problems


class NoRecipient(ValueError):
    """The customer has no email address on file, or one SES cannot deliver to."""


@dataclass(frozen=True)
class OutgoingEmail:
    message_id: str
    template: str
    language: str
    recipient: str
    subject: str
    html: str
    text: str
    mime: bytes
    urls: tuple[str, ...]
    promotion_share: float


def shop_of(settings: MailSettings) -> Shop:
    shop_url = str(settings.shop_url).rstrip("/")
    return Shop(name=settings.sender_name, url=shop_url, postal_address=settings.postal_address)


def signed_links(ring: KeyRing, base: str, message_id: str, answers: Sequence[str] = ()) -> Links:
    """The footer links and one signed ``/f/`` link per answer (its index is the answer's place in
    the template's ``answers`` list, so the tracking API reads the answer from the token alone)."""
    return Links(
        unsubscribe=f"{base}/u/{ring.sign(Purpose.UNSUBSCRIBE, message_id)}",
        preferences=f"{base}/p/{ring.sign(Purpose.PREFERENCES, message_id)}",
        feedback={
            answer: f"{base}/f/{ring.sign(Purpose.FEEDBACK, message_id, index)}" for index, answer in enumerate(answers)
        },
    )


def answers_of(renderer: Renderer, template: str) -> tuple[str, ...]:
    entry = renderer.catalog.templates.get(template)
    return tuple(entry.answers) if entry is not None else ()


def check_promotion(rendered: RenderedEmail, limit: float) -> None:
    for part, share in (("HTML", rendered.html_share), ("text", rendered.text_share)):
        if share.ratio > limit + 1e-9:
            raise PromotionShareExceeded(rendered.template, part, share.ratio, limit)


def compose(
    renderer: Renderer,
    template: str,
    profile: CustomerProfile,
    *,
    message_id: str,
    ring: KeyRing,
    settings: MailSettings,
    now: datetime,
    coupon: CouponOffer | None = None,
) -> OutgoingEmail:
    recipient = deliverable_address(profile.email)
    if recipient is None:
        raise NoRecipient(f"customer {profile.customer_id} has no address SES can deliver to")
    base = settings.tracking_base
    links = signed_links(ring, base, message_id, answers_of(renderer, template))
    rendered = renderer.render(template, profile, shop=shop_of(settings), links=links, now=now, coupon=coupon)
    check_promotion(rendered, settings.promotion_share_limit)
    problems = unsafe_markup(rendered.html, trusted_base=base)
    if problems:
        raise UnsafeEmail(template, problems)
    tracked = add_tracking(rendered.html, rendered.text, message_id, ring, base)
    to = to_header(profile.name, recipient)
    raw = _mime(rendered, tracked.html, tracked.text, to, links, message_id, settings, now)
    return OutgoingEmail(
        message_id=message_id,
        template=template,
        language=rendered.language,
        recipient=recipient,
        subject=rendered.subject,
        html=tracked.html,
        text=tracked.text,
        mime=raw,
        urls=tracked.urls,
        promotion_share=round(rendered.promotion_share, 4),
    )


def _mime(
    rendered: RenderedEmail,
    html: str,
    text: str,
    recipient: str,
    links: Links,
    message_id: str,
    settings: MailSettings,
    now: datetime,
) -> bytes:
    """multipart/alternative, quoted-printable UTF-8 parts; ASCII headers stay plain text.

    Written by :mod:`retention.mail.mime` to the bytes the compat32 classes wrote (the
    header-registry API encodes a long ASCII header such as List-Unsubscribe as RFC 2047 encoded
    words, which mailbox providers do not decode there).
    """
    sender_domain = settings.sender_address.partition("@")[2]
    token = links.unsubscribe.rsplit("/", 1)[1]
    subject = rendered.subject if rendered.subject.isascii() else Header(rendered.subject, "utf-8")
    headers: list[tuple[str, str | Header]] = [
        ("From", formataddr((settings.sender_name, settings.sender_address), charset="utf-8")),
        ("To", recipient),
        ("Subject", subject),
        ("Date", format_datetime(now)),
        ("Message-ID", f"<{message_id}@{sender_domain}>"),
        # RFC 2369 + RFC 8058: one-click unsubscribe over https; mailto for clients that only do mail.
        (
            "List-Unsubscribe",
            f"<{links.unsubscribe}>, <mailto:{settings.sender_address}?subject={quote('unsubscribe ' + token)}>",
        ),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Retention-Message-Id", message_id),
        ("X-Retention-Template", rendered.template),
    ]
    return mime.alternative(headers, text, html)
