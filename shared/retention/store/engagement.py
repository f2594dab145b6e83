"""Engagement writes on send records, the counters they feed and the contact's engagement summary.

Every tracking request reads the send record once (``GetItem MSG#<id>``: which journey, step,
variant and URLs, when it was sent) and then writes:

1. ``UpdateItem`` on the send record: totals ``ADD``-ed, first-open / first-click markers set
   with ``if_not_exists`` and ``ReturnValues=ALL_OLD``. A marker that came back already set
   means "not the first": unique counts stay exact however often a request is repeated.
2. ``UpdateItem`` ``ADD`` on one write-sharded counter item (journey × send day × step ×
   variant), so a campaign's thousands of opens a second spread over ``SHARDS`` partitions.
3. For a feedback answer (``/f/``, a person's click only): one transaction of the marker
   ``ANSWER#<message id>`` under the customer (conditional: the first answer to a message is
   the one kept, however often it is replayed) and the ``answers`` / ``answer_<id>`` counters
   of the email's journey/step, then the contact's ``last_answer`` from the marker; for an NPS
   survey's score also the contact's ``nps`` (latest by the survey's send time), which the
   tracking API then tells the journeys as ``NpsAnswered``.
4. Only for a person (not a machine) opening an email for the first time, or clicking: an
   ``UpdateItem`` of the engagement summary on the customer's contact item (``last_engaged_at``,
   ``last_click``) — what the dispatcher reads the unopened streak and an order's attribution
   from, without reading send records. It does not change the contact's version, so it never
   makes an email's claim fail.

Counters are keyed by the day the email was *sent* (the send cohort), so "opens of Tuesday's
emails" is one row however many days the opens trickle in over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from retention import nps
from retention.models.messaging import LastAnswer, LastClick, NpsAnswer, SendRecord
from retention.store import dynamo, keys, transaction
from retention.store.counters import ANSWER_COUNTER, Counts, counter_add
from retention.store.errors import AlreadyApplied, UnknownMessage
from retention.store.transaction import Write


@dataclass(frozen=True)
class TrackedMessage:
    record: SendRecord
    honeypot_at: datetime | None

    @property
    def day(self) -> date:
        return self.record.sent_day


@dataclass(frozen=True)
class KeptAnswer:
    """The answer a message keeps (its first), whether this request recorded it, and its NPS
    score when the message was an NPS survey."""

    answer: LastAnswer
    newly: bool
    score: int | None = None


@dataclass(frozen=True)
class CustomerFeedback:
    """What a customer last answered, and their latest NPS score (for the export)."""

    last_answer: LastAnswer | None
    nps: NpsAnswer | None


@dataclass(frozen=True)
class Firsts:
    """Which markers this request set for the first time."""

    open: bool = False
    human_open: bool = False
    click: bool = False
    human_click: bool = False


class EngagementStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def message(self, message_id: str) -> TrackedMessage | None:
        item = dynamo.client().get_item(TableName=self.table_name, Key=keys.message_key(message_id)).get("Item")
        if not item:
            return None
        data = dynamo.item_fields(item)
        honeypot = data.get("honeypot_at")
        record = SendRecord.model_validate({k: v for k, v in data.items() if k in SendRecord.model_fields})
        return TrackedMessage(record, datetime.fromisoformat(honeypot) if isinstance(honeypot, str) else None)

    def mark_open(self, message_id: str, human: bool, at: datetime) -> Firsts:
        adds = {"opens": 1, **({"human_opens": 1} if human else {"machine_opens": 1})}
        firsts = ["first_open_at", *(["first_human_open_at"] if human else [])]
        old = self._mark(message_id, adds, firsts, {}, at)
        return Firsts(open="first_open_at" not in old, human_open=human and "first_human_open_at" not in old)

    def mark_click(self, message_id: str, human: bool, at: datetime) -> Firsts:
        """A click is an open too (images may be off): it sets the open markers if they are unset."""
        adds = {"clicks": 1, **({"human_clicks": 1} if human else {"machine_clicks": 1})}
        firsts = ["first_click_at", "first_open_at"]
        if human:
            firsts += ["first_human_click_at", "first_human_open_at"]
        old = self._mark(message_id, adds, firsts, {"last_human_click_at": at} if human else {}, at)
        return Firsts(
            open="first_open_at" not in old,
            human_open=human and "first_human_open_at" not in old,
            click="first_click_at" not in old,
            human_click=human and "first_human_click_at" not in old,
        )

    def mark_honeypot(self, message_id: str, at: datetime) -> bool:
        old = self._mark(message_id, {"honeypot_hits": 1}, ["honeypot_at"], {}, at)
        return "honeypot_at" not in old

    def mark_event(self, message_id: str, marker: str, at: datetime, details: dict[str, Any] | None = None) -> bool:
        """An SES event's marker (``delivered_at``, ``bounced_at``...): True the first time it is seen."""
        old = self._mark(message_id, {}, [marker], details or {}, at)
        return marker not in old

    def count(self, message: TrackedMessage, counts: Counts) -> None:
        counts = {name: value for name, value in counts.items() if value}
        if counts:
            record = message.record
            write = counter_add(record.journey, message.day, counts, record.step, record.variant)
            dynamo.client().update_item(TableName=self.table_name, **write.parameters)

    def engaged(self, record: SendRecord, at: datetime, clicked: bool, url: str | None = None) -> None:
        """A person opened (or clicked) one of this customer's emails at ``at``: the contact's
        engagement summary moves forward (never back: an older event arriving late changes nothing)."""
        assignments = ["last_engaged_at = :at"]
        values: dict[str, Any] = {":at": {"S": at.isoformat()}}
        if clicked:
            click = LastClick(
                message_id=record.message_id,
                journey=record.journey,
                step=record.step,
                variant=record.variant,
                sent_day=record.sent_day,
                at=at,
                url=url,
            )
            assignments.append("last_click = :click")
            values[":click"] = dynamo.serialize_value(click.model_dump())
        transaction.update(
            self.table_name,
            {
                "Key": keys.key(keys.customer_pk(record.customer_id), keys.CONTACT),
                "UpdateExpression": "SET " + ", ".join(assignments),
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(last_engaged_at) OR last_engaged_at <= :at)",
                "ExpressionAttributeValues": values,
            },
        )

    def record_answer(
        self, record: SendRecord, answer: str, at: datetime, survey_answers: Sequence[str] = ()
    ) -> KeptAnswer | None:
        """The answer to this message, kept once: the kept (first) answer and whether this
        request recorded it; None when the customer was erased in between.

        The marker and the answer counters are one transaction, so a retry after a failure
        between them neither loses nor doubles a count. The contact's ``last_answer`` is then
        set from the marker's own values (the first answer and its time, also on a replay: a
        retry completes what a failed request left undone) and only moves forward (an answer
        to an older email arriving late never replaces a newer one); it does not bump the
        contact's version. ``survey_answers`` are the template's answers: when they are an NPS
        survey's, the score also sets the contact's ``nps`` the same forward-only way (one
        more request, on NPS answers only).
        """
        key = keys.key(keys.customer_pk(record.customer_id), keys.answer_sk(record.message_id))
        kept = LastAnswer(
            answer=answer,
            template=record.template,
            journey=record.journey,
            step=record.step,
            message_id=record.message_id,
            at=at,
        )
        marker = Write(
            "Put",
            {
                "Item": dynamo.stored_item(key, "answer", {**kept.model_dump(), "variant": record.variant}),
                "ConditionExpression": "attribute_not_exists(pk)",
            },
            on_conflict=AlreadyApplied,
        )
        counts = {"answers": 1, f"{ANSWER_COUNTER}{answer}": 1}
        counter = counter_add(record.journey, record.sent_day, counts, record.step, record.variant)
        try:
            transaction.transact(self.table_name, [marker, counter])
            newly = True
        except AlreadyApplied:
            newly = False
            stored = dynamo.client().get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
            if stored is None:  # erased in between (a forget request): nothing left to complete
                return None
            fields = dynamo.item_fields(stored)
            kept = LastAnswer.model_validate({k: v for k, v in fields.items() if k in LastAnswer.model_fields})
        transaction.update(
            self.table_name,
            {
                "Key": keys.key(keys.customer_pk(record.customer_id), keys.CONTACT),
                "UpdateExpression": "SET last_answer = :answer",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(last_answer) OR last_answer.#at <= :at)",
                "ExpressionAttributeNames": {"#at": "at"},
                "ExpressionAttributeValues": {
                    ":answer": dynamo.serialize_value(kept.model_dump()),
                    ":at": {"S": kept.at.isoformat()},
                },
            },
        )
        score = nps.score_of(kept.answer) if nps.is_survey(survey_answers) else None
        if score is not None:
            sent = record.sent_at or record.claimed_at  # the same on every replay
            survey = NpsAnswer(score=score, message_id=kept.message_id, sent_at=sent, at=kept.at)
            if not self._set_nps(record.customer_id, survey):
                score = None  # an older survey's score, or the customer erased: nothing to tell
        return KeptAnswer(kept, newly, score)

    def _set_nps(self, customer_id: str, score: NpsAnswer) -> bool:
        """The contact's latest NPS score, True when ``score`` is it (also on a replay of the same
        answer). Ordered by the survey's send time, so a late first click on an older survey
        changes nothing; its own UpdateItem, without the version bump, like ``last_answer``:
        a score never makes an email's claim fail. False when a newer survey's score is there
        or the contact is gone."""
        written = transaction.update(
            self.table_name,
            {
                "Key": keys.key(keys.customer_pk(customer_id), keys.CONTACT),
                "UpdateExpression": "SET nps = :nps",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(nps) OR nps.sent_at < :sent OR (nps.sent_at = :sent AND nps.message_id = :m))",
                "ExpressionAttributeValues": {
                    ":nps": dynamo.serialize_value(score.model_dump()),
                    ":sent": {"S": score.sent_at.isoformat()},
                    ":m": {"S": score.message_id},
                },
            },
        )
        return written is not None

    def answers(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's answer markers (one Query of their partition's ``ANSWER#`` range)."""
        response = dynamo.client().query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :answer)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.customer_pk(customer_id)},
                ":answer": {"S": keys.answer_sk("")},
            },
        )
        return [dynamo.item_fields(item) for item in response.get("Items", [])]

    def scan_feedback(self) -> dict[str, CustomerFeedback]:
        """Every customer's latest answer and NPS score by customer id. For exports only (a Scan:
        its cost grows with all customers; never call it from a per-event or per-tick path)."""
        found: dict[str, CustomerFeedback] = {}
        pages = (
            dynamo.client()
            .get_paginator("scan")
            .paginate(
                TableName=self.table_name,
                FilterExpression="sk = :contact AND (attribute_exists(last_answer) OR attribute_exists(nps))",
                ExpressionAttributeValues={":contact": {"S": keys.CONTACT}},
                ProjectionExpression="pk, last_answer, nps",
            )
        )
        for page in pages:
            for item in page.get("Items", []):
                data = dynamo.from_attributes(item)
                answer = LastAnswer.model_validate(data["last_answer"]) if "last_answer" in data else None
                score = NpsAnswer.model_validate(data["nps"]) if "nps" in data else None
                found[keys.customer_id_of(data["pk"])] = CustomerFeedback(answer, score)
        return found

    def _mark(
        self, message_id: str, adds: dict[str, int], firsts: list[str], sets: dict[str, Any], at: datetime
    ) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {":at": {"S": at.isoformat()}}
        set_parts, add_parts = [], []
        for i, name in enumerate(firsts):
            names[f"#f{i}"] = name
            set_parts.append(f"#f{i} = if_not_exists(#f{i}, :at)")
        for i, (name, value) in enumerate(sets.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = dynamo.serialize_value(value)
            set_parts.append(f"#s{i} = :s{i}")
        for i, (name, value) in enumerate(adds.items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = {"N": str(value)}
            add_parts.append(f"#a{i} :a{i}")
        expression = "SET " + ", ".join(set_parts)
        if add_parts:
            expression += " ADD " + ", ".join(add_parts)
        old = transaction.update(
            self.table_name,
            {
                "Key": keys.message_key(message_id),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            },
            returning="ALL_OLD",  # the item before: a marker already there means "not the first"
        )
        if old is None:
            raise UnknownMessage(message_id)
        return old
