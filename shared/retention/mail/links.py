"""Every link of a rendered email turned into a signed tracking link, plus the open pixel and a honeypot.

The email's original URLs are returned in index order: the send record stores them, and the
click redirect sends a reader only to ``urls[index]`` of the message the signed token names.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from retention.mail.signing import KeyRing, Purpose

_ANCHOR_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_END = re.compile(r"</body>", re.IGNORECASE)
_TEXT_URL = re.compile(r"https://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}"


@dataclass(frozen=True)
class TrackedEmail:
    html: str
    text: str
    urls: tuple[str, ...]


class _Links:
    def __init__(self, ring: KeyRing, base: str, message_id: str) -> None:
        self.ring, self.base, self.message_id = ring, base, message_id
        self.ours = base + "/"
        self.urls: list[str] = []
        self.links: dict[str, str] = {}  # url -> its tracking link (a URL used twice is signed once)

    def tracked(self, url: str) -> str:
        if url.startswith(self.ours) or not url.startswith("https://"):
            return url  # already ours (unsubscribe, preferences), or not a web link (the lint reports those)
        link = self.links.get(url)
        if link is None:
            token = self.ring.sign(Purpose.CLICK, self.message_id, len(self.urls))
            self.urls.append(url)
            link = self.links[url] = f"{self.base}/c/{token}"
        return link


def pixel(ring: KeyRing, base: str, message_id: str) -> str:
    token = ring.sign(Purpose.OPEN, message_id)
    return (
        f'<img src="{base}/o/{token}" width="1" height="1" alt="" role="presentation" '
        'style="display:block;border:0;width:1px;height:1px;">'
    )


def honeypot(ring: KeyRing, base: str, message_id: str) -> str:
    """A link no reader sees or can tab to; only link scanners, which fetch every href, follow it.

    It comes first in the body, so a scanner walking the links in order hits it before the
    real ones and its later clicks are recognised (see tracking/machine.py).
    """
    token = ring.sign(Purpose.HONEYPOT, message_id)
    return (
        f'<a href="{base}/c/{token}" aria-hidden="true" tabindex="-1" '
        'style="display:none;font-size:0;line-height:0;max-height:0;overflow:hidden;mso-hide:all;"></a>'
    )


def add_tracking(html: str, text: str, message_id: str, ring: KeyRing, base: str) -> TrackedEmail:
    """Rewrite the links of both parts (same URL, same index) and add the open pixel."""
    links = _Links(ring, base, message_id)

    def rewrite_anchor(match: re.Match[str]) -> str:
        url = html_lib.unescape(match[2]).strip()
        return f"{match[1]}{html_lib.escape(links.tracked(url), quote=True)}{match[3]}"

    def rewrite_text(match: re.Match[str]) -> str:
        url = match[0]
        trailing = ""
        while url and url[-1] in _TRAILING:
            url, trailing = url[:-1], url[-1] + trailing
        return links.tracked(url) + trailing

    tracked_html = _ANCHOR_HREF.sub(rewrite_anchor, html)
    tracked_text = _TEXT_URL.sub(rewrite_text, text)
    trap = honeypot(ring, base, message_id)
    body = _BODY_START.search(tracked_html)  # the first one, as a substitution with count=1 would
    at = body.end() if body else 0  # right after <body ...>, else first
    tracked_html = tracked_html[:at] + trap + tracked_html[at:]
    open_pixel = pixel(ring, base, message_id)
    body_end = _BODY_END.search(tracked_html)
    if body_end:
        tracked_html = f"{tracked_html[: body_end.start()]}{open_pixel}</body>{tracked_html[body_end.end() :]}"
    else:
        tracked_html += open_pixel
    return TrackedEmail(tracked_html, tracked_text, tuple(links.urls))
