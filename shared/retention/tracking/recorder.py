"""What each tracking request does, independent of HTTP: verify, classify, record, answer.

Every request starts from the signed token alone. A token that does not parse, one this
deployment did not sign, one used on the wrong route, one naming a message that does not exist
or a link index the email did not have is refused with a domain exception (tracking/errors.py)
that the handler maps to its answer. Nothing about the request decides where a click goes
except the URL stored with the email.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from retention.mail.signing import InvalidToken, KeyRing, LinkToken, MalformedToken, Purpose
from retention.models.engine_events import EngineEvent, customer_unsubscribed, nps_answered
from retention.models.messaging import SendRecord, Suppression
from retention.models.tracking import TrackingRules, Visit
from retention.store.engagement import EngagementStore, Firsts, TrackedMessage
from retention.store.errors import UnknownMessage
from retention.store.journeys import JourneyStore
from retention.tracking.errors import MalformedLink, UnknownLink, WrongPurpose
from retention.tracking.machine import machine_click, machine_open

T = TypeVar("T")


@dataclass(frozen=True)
class Recorded:
    """An open or a click as recorded: why it was a machine's (None for a person's) and, for a
    click, the URL of the email it sends the reader to (None for the hidden honeypot link)."""

    message: TrackedMessage
    machine: str | None = None
    redirect_to: str | None = None


@dataclass(frozen=True)
class Answered:
    """A one-click feedback answer: which one, why it was a machine's (None for a person's, the
    only kind recorded) and whether this request recorded it (False for a replay or a machine)."""

    message: TrackedMessage
    answer: str
    machine: str | None
    newly: bool


@dataclass(frozen=True)
class PreferenceChange:
    """An unsubscribe or a pause: whether this request changed anything, and until when a pause runs."""

    message: TrackedMessage
    newly: bool
    paused_until: datetime | None = None


class Tracker:
    def __init__(
        self,
        engagement: EngagementStore,
        journeys: JourneyStore,
        ring: KeyRing,
        rules: TrackingRules,
        publish: Callable[[list[EngineEvent]], object] | None = None,
        answers: Callable[[str], Sequence[str]] = lambda template: (),
    ) -> None:
        self.store = engagement
        self.journeys = journeys
        self.ring = ring
        self.rules = rules
        self.publish = publish
        self.answers = answers
        """A template's answer ids in emails.yaml order (a feedback token's index picks one)."""

    def verify(self, token: str, *purposes: Purpose) -> tuple[LinkToken, TrackedMessage]:
        try:
            link = self.ring.verify(token)
        except MalformedToken as error:
            raise MalformedLink(str(error)) from error
        except InvalidToken as error:
            raise UnknownLink(str(error)) from error
        if link.purpose not in purposes:
            raise WrongPurpose(f"a {link.purpose.name.lower()} token on the wrong path")
        message = self.store.message(link.message_id)
        if message is None:
            raise UnknownLink("no such message")
        return link, message

    def open(self, token: str, visit: Visit) -> Recorded:
        _, message = self.verify(token, Purpose.OPEN)
        machine = machine_open(visit, message.record.sent_at, self.rules)
        firsts = self._marked(lambda: self.store.mark_open(message.record.message_id, machine is None, visit.at))
        if firsts.human_open:
            self.store.engaged(message.record, visit.at, clicked=False)
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
            raise UnknownLink("link index the email did not contain")
        machine = machine_click(visit, record.sent_at, message.honeypot_at, self.rules)
        human = machine is None
        firsts = self._marked(lambda: self.store.mark_click(record.message_id, human, visit.at))
        if human:
            self.store.engaged(record, visit.at, clicked=True, url=record.urls[link.index])
        self.store.count(message, _click_counts(human, firsts))
        return Recorded(message, machine, redirect_to=with_utm(record.urls[link.index], record, self.rules))

    def feedback(self, token: str, visit: Visit) -> Answered:
        """A one-click answer: a person's first answer to a message is recorded (marker, contact,
        counter) and counted as a click of the email; a machine's (link scanner, HEAD, near the
        honeypot) is counted as a machine click and records no answer; a replay changes nothing."""
        link, message = self.verify(token, Purpose.FEEDBACK)
        record = message.record
        answers = self.answers(record.template)
        if link.index >= len(answers):
            raise UnknownLink("answer index the email's template does not have")
        answer = answers[link.index]
        machine = machine_click(visit, record.sent_at, message.honeypot_at, self.rules)
        human = machine is None
        firsts = self._marked(lambda: self.store.mark_click(record.message_id, human, visit.at))
        kept = self.store.record_answer(record, answer, visit.at, answers) if human else None
        if human:
            self.store.engaged(record, visit.at, clicked=True)
        self.store.count(message, _click_counts(human, firsts))
        if kept is not None and kept.score is not None and self.publish is not None:
            # Told on every person's click, not only the first (the kept score, whichever was
            # clicked): a publish lost to a failure is told again by the retry, and the
            # dispatcher enters a journey once per survey (the trigger key is the message).
            told = nps_answered(record.customer_id, kept.score, record.message_id, record.journey, kept.answer.at)
            self.publish([told])
        return Answered(message, answer, machine, kept is not None and kept.newly)

    def unsubscribe(self, token: str, visit: Visit) -> PreferenceChange:
        _, message = self.verify(token, Purpose.UNSUBSCRIBE)
        record = message.record
        newly = self.journeys.suppress(record.customer_id, Suppression.UNSUBSCRIBED, visit.at)
        self.store.count(message, {"unsubscribed": int(newly)})
        if self.publish is not None:
            # Told to the shop on every request, not only the first: if a publish fails, the
            # person's retry (or the mail client's) tells it again; the shop's mirror is idempotent.
            self.publish([customer_unsubscribed(record.customer_id, visit.at, record.journey, record.message_id)])
        return PreferenceChange(message, newly)

    def pause(self, token: str, visit: Visit) -> PreferenceChange:
        _, message = self.verify(token, Purpose.PREFERENCES)
        until = visit.at + timedelta(days=self.rules.pause_days)
        newly = self.journeys.pause(message.record.customer_id, until)
        self.store.count(message, {"paused": int(newly)})
        return PreferenceChange(message, newly, paused_until=until)

    def peek(self, token: str, *purposes: Purpose) -> TrackedMessage:
        """The message behind a page's token, for showing the page (no write)."""
        return self.verify(token, *purposes)[1]

    @staticmethod
    def _marked(write: Callable[[], T]) -> T:
        try:
            return write()
        except UnknownMessage as error:  # deleted between the read and the write (a forget request)
            raise UnknownLink("no such message") from error


def _click_counts(human: bool, firsts: Firsts) -> dict[str, int]:
    """The counters one click adds (a link's or an answer's: an answer is a click of the email too)."""
    return {
        "clicks": 1,
        "clicks_human": int(human),
        "clicks_machine": int(not human),
        "unique_clicks": int(firsts.click),
        "unique_clicks_human": int(firsts.human_click),
        "unique_opens": int(firsts.open),
        "unique_opens_human": int(firsts.human_open),
    }


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
