"""Every link becomes a signed tracking link that maps back to the exact URL the email contained."""

from __future__ import annotations

import email
import re
from email.policy import default

from mail_helpers import COUPON, composed, profile

from retention.mail.render import Renderer
from retention.mail.signing import Purpose
from retention.mail.tracking import add_tracking
from retention_tools.authoring.preview import PREVIEW_RING

BASE = "https://track.example.com"


def test_links_are_rewritten_and_map_back_by_index() -> None:
    html = (
        '<html><body><a href="https://shop.example.com/a?x=1&amp;y=2">A</a>'
        '<a class="b" href="https://shop.example.com/b">B</a><a href="https://shop.example.com/a?x=1&amp;y=2">A</a>'
        f'<a href="{BASE}/u/already-signed">unsubscribe</a></body></html>'
    )
    text = "See https://shop.example.com/b. And https://shop.example.com/c)"
    tracked = add_tracking(html, text, "msg-0000000001", PREVIEW_RING, BASE)
    assert tracked.urls == (
        "https://shop.example.com/a?x=1&y=2",
        "https://shop.example.com/b",
        "https://shop.example.com/c",
    )
    all_hrefs = re.findall(r'href="([^"]+)"', tracked.html)
    assert "/c/h." in all_hrefs[0]  # the honeypot comes first, hidden from readers
    assert re.search(r'<a href="[^"]+/c/h\.[^"]+" aria-hidden="true" tabindex="-1" style="display:none', tracked.html)
    hrefs = all_hrefs[1:]
    assert hrefs[3] == f"{BASE}/u/already-signed"
    tokens = [href.rsplit("/", 1)[1] for href in hrefs[:3]]
    indexes = [PREVIEW_RING.verify(token).index for token in tokens]
    assert indexes == [0, 1, 0]
    assert tracked.text.endswith(")") and ". And" in tracked.text  # trailing punctuation stays outside the link
    assert "shop.example.com" not in tracked.text


def test_open_pixel_is_signed_for_opens_only() -> None:
    tracked = add_tracking("<html><body><p>x</p></body></html>", "", "msg-0000000001", PREVIEW_RING, BASE)
    pixel = re.search(r'<img src="https://track\.example\.com/o/([^"]+)"[^>]*alt=""', tracked.html)
    assert pixel and PREVIEW_RING.verify(pixel[1]).purpose is Purpose.OPEN
    assert tracked.html.index("<img") < tracked.html.index("</body>")


def test_composed_email_has_one_click_unsubscribe_headers_and_both_parts() -> None:
    outgoing = composed(Renderer(), "winback_incentive", profile(), coupon=COUPON)
    message = email.message_from_bytes(outgoing.mime, policy=default)
    unsubscribe = message["List-Unsubscribe"].strip()  # folded after the colon: legal whitespace
    assert unsubscribe.startswith(f"<{BASE}/u/u.msg-0000000001.0.") and "mailto:hello@shop.example.com" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw_header = outgoing.mime.split(b"List-Unsubscribe:", 1)[1].split(b"List-Unsubscribe-Post")[0]
    assert b"=?" not in raw_header and b"<https://track.example.com/u/" in raw_header  # plain, not encoded words
    assert message["To"] == "Leyla Mammadova <leyla@example.com>"
    assert message["From"] == "The Coffee Corner <hello@shop.example.com>"
    assert message["Message-ID"] == "<msg-0000000001@shop.example.com>"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "SAVE-7K2Q" in parts["text/plain"] and "SAVE-7K2Q" in parts["text/html"]
    assert f"{BASE}/o/" in parts["text/html"]
    assert "1 Example Street, Berlin" in parts["text/plain"]
    assert all(url.startswith("https://") for url in outgoing.urls)
    for href in re.findall(r'href="(https://[^"]+)"', parts["text/html"]):
        assert href.startswith(BASE + "/")  # every link goes through tracking


def test_no_recipient_is_a_clear_error() -> None:
    import pytest

    from retention.mail.compose import NoRecipient

    with pytest.raises(NoRecipient):
        composed(Renderer(), "winback_miss_you", profile(email=None))
