"""The demo's simulated audience: people, mail clients and mail servers reacting to each email.

Everything goes through the real code paths: SES events are published to the default event
bus (as a configuration set's EventBridge destination would) and drained through the real
``ses_events`` handler; opens, clicks, unsubscribes and pauses are real HTTP requests to the
tracking API served on 127.0.0.1 (the real handler behind the local HTTP API adapter), with
the simulated clock set to when they happen; orders that follow a click are shop events the
replay publishes on their day.

Each customer has fixed traits, drawn from a hash of their id: an open propensity (10–80 %),
Apple Mail (its privacy proxy fetches every pixel on delivery, so their human opens are
invisible — a real blind spot the report shows as machine opens), a corporate mail filter
(which fetches every link, the hidden honeypot included, seconds after delivery), or a dead
mailbox (hard bounce). The mix is what an honest report must see through. Some readers of a
feedback email ("what went wrong?") click one of its one-click answers, sometimes twice, and
some readers of the NPS survey click their score; the corporate filters fetch every answer
link too, which must record nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from retention import clock, nps
from retention.mail.catalog import catalog
from retention.store.customers import CustomerStore
from retention.store.journeys import JourneyStore
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.history import CONSUMABLES, ShopEventRecord
from retention_tools.local.outbox import OutboxMail, sent_count, sent_mail
from retention_tools.local.runtime import QueueDriver, put_events

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5; rv:132.0) Gecko/20100101 Firefox/132.0",
)
APPLE_PROXY = ("Mozilla/5.0", "17.58.101.4")
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel; +https://www.barracuda.com)"
_LINK = re.compile(r'href="[^"]*/([cupf])/([A-Za-z0-9_.-]+)"|src="[^"]*/o/([A-Za-z0-9_.-]+)"')
ANSWER_WEIGHTS = (0.30, 0.15, 0.25, 0.15, 0.15)
"""How likely a reader picks each answer of a feedback email, in its order (the rest split evenly)."""
SCORE_SHARES = (0.02, 0.01, 0.02, 0.03, 0.03, 0.05, 0.06, 0.10, 0.16, 0.22, 0.30)
"""How the simulated audience scores an NPS survey, 0 to 10 (52 % promoters, 22 % detractors:
NPS about +30, a typical retail shop's). Each person's score comes from a fixed trait, so the
same person answers alike every year."""


def _trait(customer_id: str, name: str) -> float:
    digest = hashlib.sha256(f"{name}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _is_survey(template: str) -> bool:
    entry = catalog().templates.get(template)
    return entry is not None and nps.is_survey(entry.answers)


def open_propensity(customer_id: str) -> float:
    return 0.10 + 0.70 * _trait(customer_id, "reader")


@dataclass
class Audience:
    """Reacts to every email sent since the last call; counts what it did."""

    aws: EmbeddedAws
    api_url: str
    table: str
    seed: int = 5
    apple_share: float = 0.30
    scanner_share: float = 0.08
    dead_mailbox_share: float = 0.015
    click_share: float = 0.30
    answer_share: float = 0.35
    order_after_click: float = 0.2
    did: dict[str, int] = field(default_factory=dict)
    pending_orders: list[ShopEventRecord] = field(default_factory=list)
    _seen: int = field(default=0, init=False)
    _rng: random.Random = field(init=False)
    _ses: QueueDriver = field(init=False)
    _orders: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._seen = sent_count()
        self._ses = QueueDriver(self.aws, "SesEventsQueue", "ses_events")
        self._configuration_set = next(iter(self.aws.resources.configuration_sets.values()), "")
        self._store = JourneyStore(self.table)

    def _count(self, what: str, n: int = 1) -> None:
        self.did[what] = self.did.get(what, 0) + n

    # ------------------------------------------------------------------ per email
    def react(self) -> None:
        mails = list(sent_mail(self._seen))
        self._seen += len(mails)
        ses_events = []
        for mail in mails:
            record = self._store.send_record(mail.message_id) if mail.message_id else None
            if record is None or record.sent_at is None:
                continue
            dead = _trait(record.customer_id, "dead") < self.dead_mailbox_share
            ses_events.append(self._ses_event(mail, record.sent_at, record, bounce=dead))
            if not dead:
                self._read(mail, record.customer_id, record.sent_at)
        if ses_events:
            bus = "default"
            put_events(self.aws, ((e["source"], e["detail-type"], e["detail"], e["time"]) for e in ses_events), bus)
            self._ses.drain()
            self._count("ses_events", len(ses_events))

    def _ses_event(self, mail: OutboxMail, sent_at: datetime, record: Any, bounce: bool) -> dict[str, Any]:
        at = sent_at + timedelta(seconds=2)
        tags = {
            "ses:configuration-set": [self._configuration_set],
            "journey": [record.journey],
            "step": [record.step],
            "variant": [record.variant],
            "message": [record.message_id],
        }
        detail: dict[str, Any] = {
            "eventType": "Bounce" if bounce else "Delivery",
            "mail": {"timestamp": at.isoformat(), "messageId": f"ses-{record.message_id}", "tags": tags},
        }
        if bounce:
            detail["bounce"] = {"bounceType": "Permanent", "bounceSubType": "NoEmail"}
            self._count("hard_bounces")
        return {
            "source": "aws.ses",
            "detail-type": "Email Bounced" if bounce else "Email Delivered",
            "detail": detail,
            "time": at,
        }

    def _read(self, mail: OutboxMail, customer_id: str, sent_at: datetime) -> None:
        links = _links(mail.html())
        if not links.get("o"):
            return
        rng = self._rng
        if _trait(customer_id, "apple") < self.apple_share:
            self._get(f"/o/{links['o'][0]}", sent_at + timedelta(seconds=2), *APPLE_PROXY)
            self._count("proxy_opens")
        if _trait(customer_id, "scanner") < self.scanner_share:
            at = sent_at + timedelta(seconds=5)
            for token in links.get("h", []):  # the hidden honeypot comes first in the body
                self._get(f"/c/{token}", at, SCANNER, "198.51.100.50")
            for token in links.get("c", [])[:3]:
                self._get(f"/c/{token}", at + timedelta(seconds=1), SCANNER, "198.51.100.50", method="HEAD")
            for token in links.get("f", []):
                self._get(f"/f/{token}", at + timedelta(seconds=2), SCANNER, "198.51.100.50")
            self._count("scanner_visits")
        if rng.random() >= open_propensity(customer_id):
            return
        browser = BROWSERS[int(_trait(customer_id, "browser") * len(BROWSERS))]
        ip = f"203.0.113.{1 + int(_trait(customer_id, 'ip') * 250)}"
        opened = sent_at + timedelta(hours=rng.uniform(0.5, 30))
        if _trait(customer_id, "apple") >= self.apple_share:  # behind Apple's proxy a person's open is invisible
            self._get(f"/o/{links['o'][0]}", opened, browser, ip)
            self._count("human_opens")
        roll = rng.random()
        if roll < 0.006 and links.get("u"):
            self._post(f"/u/{links['u'][0]}", opened + timedelta(minutes=2), b"List-Unsubscribe=One-Click", browser, ip)
            self._count("unsubscribes")
            return
        if roll < 0.009 and links.get("p"):
            self._post(f"/p/{links['p'][0]}", opened + timedelta(minutes=2), b"action=pause", browser, ip)
            self._count("pauses")
            return
        answers = links.get("f", [])
        if answers and rng.random() < self.answer_share:
            at = opened + timedelta(minutes=rng.uniform(0.5, 5))
            if _is_survey(mail.template):
                self._score(answers, customer_id, at, browser, ip)
            else:
                self._answer(answers, at, browser, ip)
            return
        content = links.get("c", [])
        if content and rng.random() < self.click_share:
            clicked = opened + timedelta(minutes=rng.uniform(0.5, 5))
            self._get(f"/c/{rng.choice(content)}", clicked, browser, ip)
            self._count("human_clicks")
            if rng.random() < self.order_after_click:
                self._order_after(customer_id, clicked + timedelta(hours=rng.uniform(1, 96)))

    def _answer(self, answers: list[str], at: datetime, browser: str, ip: str) -> None:
        """One click on an answer (the tracking API keeps it); one in five clicks it again."""
        weights = [*ANSWER_WEIGHTS[: len(answers)]]
        weights += [max(0.0, 1 - sum(weights)) / len(answers)] * (len(answers) - len(weights))
        token = self._rng.choices(answers, weights=weights)[0]
        self._get(f"/f/{token}", at, browser, ip)
        self._count("feedback_answers")
        if self._rng.random() < 0.2:
            self._get(f"/f/{token}", at + timedelta(minutes=1), browser, ip)
            self._count("feedback_answers_repeated")

    def _score(self, answers: list[str], customer_id: str, at: datetime, browser: str, ip: str) -> None:
        """One click on a score of an NPS survey: the person's own score (a fixed trait)."""
        point, score = _trait(customer_id, "satisfaction"), len(SCORE_SHARES) - 1
        for candidate, share in enumerate(SCORE_SHARES):
            point -= share
            if point < 0:
                score = candidate
                break
        self._get(f"/f/{answers[score]}", at, browser, ip)
        self._count("nps_scores")

    # ------------------------------------------------------------------ follow-up orders
    def _order_after(self, customer_id: str, at: datetime) -> None:
        profile = CustomerStore(self.table).get_profile(customer_id)
        if profile is None or not profile.email:
            return
        self._orders += 1
        sku, name, category, price = self._rng.choice(CONSUMABLES)
        qty = self._rng.randint(1, 2)
        detail = {
            "order_id": f"F{self.seed:02d}{self._orders:06d}",
            "customer_id": customer_id,
            "email": profile.email,
            "name": profile.name or "",
            "placed_at": at,
            "currency": "EUR",
            "total": str(Decimal(price) * qty),
            "items": [{"sku": sku, "name": name, "category": category, "price": str(price), "qty": qty}],
            "locale": profile.locale,
            "time_zone": profile.time_zone,
        }
        self.pending_orders.append(ShopEventRecord(at, "OrderPlaced", {k: v for k, v in detail.items() if v}))
        self._count("orders_after_click")

    def orders_due(self, day_end: datetime) -> list[ShopEventRecord]:
        """Follow-up orders placed up to ``day_end`` (published with that day's shop events)."""
        due = [e for e in self.pending_orders if e.time <= day_end]
        self.pending_orders = [e for e in self.pending_orders if e.time > day_end]
        if due:
            self._count("follow_up_orders_published", len(due))
        return due

    # ------------------------------------------------------------------ HTTP
    def _get(self, path: str, at: datetime, agent: str, ip: str, method: str = "GET") -> int:
        return self._request(method, path, at, agent, ip)

    def _post(self, path: str, at: datetime, body: bytes, agent: str, ip: str) -> int:
        return self._request("POST", path, at, agent, ip, body)

    def _request(self, method: str, path: str, at: datetime, agent: str, ip: str, body: bytes | None = None) -> int:
        headers = {"User-Agent": agent, "X-Simulated-Client-Ip": ip}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.api_url + path, data=body, method=method, headers=headers)  # noqa: S310
        opener = urllib.request.build_opener(_NoRedirect)
        with clock.frozen_at(at):
            try:
                with opener.open(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
        self._count(f"http_{status}")
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A click's 302 goes to the shop; the simulation stops at the redirect."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _links(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, token, pixel in _LINK.findall(html):
        key, value = ("o", pixel) if pixel else (kind, token)
        if key == "c" and value.startswith("h."):
            key = "h"
        if value not in found.setdefault(key, []):
            found[key].append(value)
    return found


def summary(did: dict[str, int]) -> str:
    return json.dumps(did, sort_keys=True)
