"""Driving the tracking API handler with HTTP API v2 events, and reading links out of sent mail."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

from retention import clock
from retention_tools.local.http_api import http_api_event
from retention_tools.local.runtime import invoke, load_function

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
HUMAN_IP = "203.0.113.7"
_LINK = re.compile(r"/([ocupf])/([A-Za-z0-9_.-]+)")


@dataclass
class Links:
    pixel: str
    honeypot: str
    clicks: list[str]
    unsubscribe: str
    preferences: str
    answers: list[str] = field(default_factory=list)
    """The one-click feedback answers' tokens, in the email's order."""


def html_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part")


def links_of(message: Message) -> Links:
    html = html_of(message)
    found = _LINK.findall(html)
    clicks = [token for kind, token in found if kind == "c"]
    honeypot = next(t for t in clicks if t.startswith("h."))
    return Links(
        pixel=next(token for kind, token in found if kind == "o"),
        honeypot=honeypot,
        clicks=list(dict.fromkeys(t for t in clicks if t.startswith("c."))),
        unsubscribe=next(token for kind, token in found if kind == "u"),
        preferences=next(token for kind, token in found if kind == "p"),
        answers=list(dict.fromkeys(token for kind, token in found if kind == "f")),
    )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(
    method: str,
    path: str,
    at: datetime,
    user_agent: str = BROWSER,
    ip: str = HUMAN_IP,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Answer:
    all_headers = {"User-Agent": user_agent, **(headers or {})}
    if body:
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    event = http_api_event(method, path, all_headers, body, ip)
    with clock.frozen_at(at):
        response: dict[str, Any] = invoke(load_function("tracking").handler, event)
    raw = response.get("body") or ""
    data = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    return Answer(int(response["statusCode"]), {k.lower(): v for k, v in (response.get("headers") or {}).items()}, data)
