"""What each tracking request does, independent of HTTP: verify, classify, record, answer.

Every request starts from the signed token alone. A token that does not parse is a 400; one
with a bad signature, a key this deployment does not hold, the wrong purpose for its path, a
message that does not exist or a link index the email did not have is a 404. Nothing about
the request decides where a click goes except the URL stored with the email.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from retention.mail.signing import InvalidToken, KeyRing, LinkToken, Purpose
from retention.models.messaging import SendRecord, Suppression
from retention.models.tracking import TrackingRules, Visit
from retention.store.messaging import MessagingStore
from retention.store.tracking import TrackedMessage, TrackingStore, UnknownMessage
from retention.tracking.machine import machine_click, machine_open

T = TypeVar("T")


class BadLink(Exception):
    """A token the tracking API refuses, with the HTTP status to answer and a reason for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Recorded:
    message: TrackedMessage
    machine: str | None = None  # why it was a machine event, None for a human one
    location: str | None = None  # where a click goes
    newly: bool = False  # unsubscribe/pause: did this request change anything


class Tracker:
    def __init__(self, table_name: str, ring: KeyRing, rules: TrackingRules) -> None:
        self.store = TrackingStore(table_name)
        self.messaging = MessagingStore(table_name)
        self.ring = ring
        self.rules = rules

    def verify(self, token: str, *purposes: Purpose) -> tuple[LinkToken, TrackedMessage]:
        try:
            link = self.ring.verify(token)
        except InvalidToken as error:
            raise BadLink(400 if str(error) == "malformed token" else 404, str(error)) from error
        if link.purpose not in purposes:
            raise BadLink(404, f"a {link.purpose.name.lower()} token on the wrong path")
        message = self.store.message(link.message_id)
        if message is None:
            raise BadLink(404, "no such message")
        return link, message

    def open(self, token: str, visit: Visit) -> Recorded:
        _, message = self.verify(token, Purpose.OPEN)
        machine = machine_open(visit, message.record.sent_at, self.rules)
        firsts = self._marked(lambda: self.store.mark_open(message.record.message_id, machine is None, visit.at))
        self.store.count(
            message,
            {
                "opens": 1,
                "opens_human": int(machine is None),
                "opens_machine": int(machine is not None),
                "unique_opens": int(firsts.open),
                "unique_opens_human": int(firsts.human_open),
            },
        )
        return Recorded(message, machine)

    def click(self, token: str, visit: Visit) -> Recorded:
        link, message = self.verify(token, Purpose.CLICK, Purpose.HONEYPOT)
        record = message.record
        if link.purpose is Purpose.HONEYPOT:
            first = self._marked(lambda: self.store.mark_honeypot(record.message_id, visit.at))
            self.store.count(message, {"honeypot_hits": 1, "unique_honeypot": int(first)})
            return Recorded(message, "hidden honeypot link")
        if link.index >= len(record.urls):
            raise BadLink(404, "link index the email did not contain")
        machine = machine_click(visit, record.sent_at, message.honeypot_at, self.rules)
        human = machine is None
        firsts = self._marked(lambda: self.store.mark_click(record.message_id, human, visit.at))
        self.store.count(
            message,
            {
                "clicks": 1,
                "clicks_human": int(human),
                "clicks_machine": int(not human),
                "unique_clicks": int(firsts.click),
                "unique_clicks_human": int(firsts.human_click),
                "unique_opens": int(firsts.open),
                "unique_opens_human": int(firsts.human_open),
            },
        )
        return Recorded(message, machine, location=with_utm(record.urls[link.index], record, self.rules))

    def unsubscribe(self, token: str, visit: Visit) -> Recorded:
        _, message = self.verify(token, Purpose.UNSUBSCRIBE)
        newly = self.messaging.suppress(message.record.customer_id, Suppression.UNSUBSCRIBED, visit.at)
        self.store.count(message, {"unsubscribed": int(newly)})
        return Recorded(message, newly=newly)

    def pause(self, token: str, visit: Visit) -> Recorded:
        _, message = self.verify(token, Purpose.PREFERENCES)
        until = visit.at + timedelta(days=self.rules.pause_days)
        newly = self.messaging.pause(message.record.customer_id, until)
        self.store.count(message, {"paused": int(newly)})
        return Recorded(message, newly=newly, location=until.date().isoformat())

    def peek(self, token: str, *purposes: Purpose) -> TrackedMessage:
        """The message behind a page's token, for showing the page (no write)."""
        return self.verify(token, *purposes)[1]

    @staticmethod
    def _marked(write: Callable[[], T]) -> T:
        try:
            return write()
        except UnknownMessage as error:  # deleted between the read and the write (a forget request)
            raise BadLink(404, "no such message") from error


def with_utm(url: str, record: SendRecord, rules: TrackingRules) -> str:
    """``url`` with utm_* parameters added; parameters the email's author set are kept as they are."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    extra = {
        "utm_source": rules.utm.source,
        "utm_medium": rules.utm.medium,
        "utm_campaign": record.journey,
        "utm_content": f"{record.step}-{record.variant}",
    }
    query += [(name, value) for name, value in extra.items() if name not in present]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def visit_at(method: str, user_agent: str, source_ip: str, at: datetime) -> Visit:
    return Visit(method=method, user_agent=(user_agent or "")[:512], source_ip=(source_ip or "")[:64], at=at)
