"""A small world for journey tests: shop events in, engine events to the real dispatcher, mail out.

Engine events go to the dispatcher handler in the SQS shape the JourneyQueue delivers, so
the whole path (parsing, partial batch failures, SES v2 through the embedded AWS) is the
deployed one. Sent mail is read from the embedded SES; each world counts only its own.
"""

from __future__ import annotations

import email
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from email.utils import parseaddr
from typing import Any

from factories import envelope, order_detail

from retention import clock
from retention.ingest import apply_shop_event
from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.lifecycle import default_stats
from retention.models.engine_events import JOURNEY_DETAIL_TYPES, EngineEvent, InactiveDetail
from retention.models.events import ShopEventAdapter
from retention.models.messaging import ContactState
from retention.segments import load_definitions
from retention.settings import settings
from retention.store import dynamo, keys
from retention.store.customers import CustomerStore
from retention.store.journeys import JourneyStore
from retention.store.timers import TimerStore
from retention.sweep import run_sweep
from retention_tools.local.embedded import ACCOUNT, REGION
from retention_tools.local.runtime import invoke, load_function

_ids = itertools.count(1)


@dataclass(frozen=True)
class RawEngineEvent:
    """An engine event exactly as given, valid or not (what a broken producer could publish)."""

    detail_type: str
    detail: dict[str, Any]
    time: datetime

    def detail_json(self) -> dict[str, Any]:
        return self.detail


def seed_contact(table: str, contact: ContactState) -> None:
    """Store a contact state as the dispatcher would have left it (the test's starting point)."""
    stored = contact.model_copy(update={"version": contact.version + 1})  # a stored contact has been written
    item = dynamo.stored_item(
        keys.key(keys.customer_pk(stored.customer_id), keys.CONTACT), "contact", stored.model_dump()
    )
    dynamo.client().put_item(TableName=table, Item=item)


def recipient_of(message: Message) -> str:
    """The address in a sent email's To header (which also carries the customer's name)."""
    return parseaddr(message["To"])[1]


def sent_messages() -> list[Any]:
    from moto.ses.models import ses_backends

    return ses_backends[ACCOUNT][REGION].sent_messages


def as_record(event: EngineEvent, message_id: str) -> dict[str, Any]:
    body = {
        "version": "0",
        "id": f"ev-{message_id}",
        "detail-type": event.detail_type,
        "source": "retention.engine",
        "account": ACCOUNT,
        "time": event.time.isoformat(),
        "region": REGION,
        "resources": [],
        "detail": event.detail_json(),
    }
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:journeys",
        "awsRegion": REGION,
    }


def treated(prefix: str, count: int = 1, journey: str = "winback") -> list[str]:
    """The first ``count`` ids ``prefix0, prefix1, …`` outside the journey's hold-out (which gets no email)."""
    share = load_journeys().frequency.holdout_share
    ids = (f"{prefix}{n}" for n in itertools.count())
    return list(itertools.islice((c for c in ids if not in_holdout(c, journey, share)), count))


@dataclass
class World:
    pending: list[EngineEvent] = field(default_factory=list)
    published: list[EngineEvent] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.table = settings().customers_table
        self.handler = load_function("journey_dispatch").handler
        self.first_mail = len(sent_messages())
        self.store = JourneyStore(self.table)

    # ---------------------------------------------------------------- inputs
    def order(self, customer_id: str, at: datetime, order_id: str | None = None, **extra: Any) -> str:
        order_id = order_id or f"O{next(_ids)}"
        detail = order_detail(order_id=order_id, customer_id=customer_id, placed_at=at, **extra)
        self._shop(envelope("OrderPlaced", detail, event_id=f"e-{order_id}"), at)
        return order_id

    def _shop(self, raw: dict[str, Any], at: datetime) -> None:
        with clock.frozen_at(at):
            apply_shop_event(ShopEventAdapter.validate_python(raw), CustomerStore(self.table), publish=self._collect)

    def _collect(self, events: list[EngineEvent]) -> None:
        self.published.extend(events)
        self.pending.extend(e for e in events if e.detail_type in JOURNEY_DETAIL_TYPES)

    def inactive(self, customer_id: str, at: datetime, lifecycle: str = "at_risk", firing: int = 1) -> None:
        profile = CustomerStore(self.table).get_profile(customer_id)
        detail = InactiveDetail(
            customer_id=customer_id,
            firing=firing,
            last_order_at=profile.last_order_at if profile else None,
            lifecycle=lifecycle,
            fired_at=at,
        )
        self.pending.append(EngineEvent("CustomerInactive", detail, at))

    def drop_pending(self) -> None:
        self.pending.clear()

    def winback_sent(self, customer_ids: list[str], ordered_at: datetime, sent_at: datetime) -> None:
        """Each customer ordered once at ``ordered_at`` and went inactive: the win-back's first
        email goes out at ``sent_at`` (the order's own journeys are dropped)."""
        for cid in customer_ids:
            self.order(cid, ordered_at)
        self.drop_pending()
        for cid in customer_ids:
            self.inactive(cid, sent_at)
        self.deliver(sent_at)

    # ---------------------------------------------------------------- running
    def deliver(self, at: datetime, times: int = 1) -> dict[str, Any]:
        """Hand the pending events to the dispatcher, each ``times`` times (at-least-once delivery)."""
        events, self.pending = self.pending, []
        records = [as_record(e, f"m{next(_ids)}") for e in events for _ in range(times)]
        if not records:
            return {"batchItemFailures": []}
        response: dict[str, Any] = {"batchItemFailures": []}
        for start in range(0, len(records), 10):
            with clock.frozen_at(at):
                part = invoke(self.handler, {"Records": records[start : start + 10]})
            response["batchItemFailures"].extend(part["batchItemFailures"])
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        self.failures.extend(failed)
        by_id = {r["messageId"]: e for r, e in zip(records, [e for e in events for _ in range(times)], strict=True)}
        self.pending.extend(by_id[m] for m in failed)  # SQS would deliver them again
        return response

    def sweep(self, at: datetime, times: int = 1) -> dict[str, Any]:
        run_sweep(
            now=at,
            customers=CustomerStore(self.table),
            timers=TimerStore(self.table),
            stats=default_stats(at, load_definitions()),
            definitions=load_definitions(),
            publish=self._collect,
        )
        return self.deliver(at, times=times)

    def run_days(self, start: datetime, days: int, hour: int = 10) -> None:
        """Sweep once a day at ``hour`` UTC for ``days`` days (what the 15-minute schedule would do)."""
        first = start.replace(hour=hour, minute=0, second=0, microsecond=0)
        for n in range(days + 1):
            self.sweep(first + timedelta(days=n))

    # ---------------------------------------------------------------- outputs
    def mail(self) -> list[Message]:
        return [email.message_from_string(m.raw_data) for m in sent_messages()[self.first_mail :]]

    def mail_to(self, customer_id: str) -> list[Message]:
        return [m for m in self.mail() if recipient_of(m) == f"{customer_id.lower()}@example.com"]

    def templates_to(self, customer_id: str) -> list[str]:
        return [m["X-Retention-Template"] for m in self.mail_to(customer_id)]
