"""Engagement writes on send records, and the counters they feed: at most two writes a request.

Every tracking request reads the send record once (``GetItem MSG#<id>``: which journey, step,
variant and URLs, when it was sent) and then writes twice:

1. ``UpdateItem`` on the send record: totals ``ADD``-ed, first-open / first-click markers set
   with ``if_not_exists`` and ``ReturnValues=ALL_OLD``. A marker that came back already set
   means "not the first": unique counts stay exact however often a request is repeated.
2. ``UpdateItem`` ``ADD`` on one write-sharded counter item (journey × send day × step ×
   variant), so a campaign's thousands of opens a second spread over ``SHARDS`` partitions.

Counters are keyed by the day the email was *sent* (the send cohort), so "opens of Tuesday's
emails" is one row however many days the opens trickle in over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from retention.models.messaging import SendRecord
from retention.models.tracking import Engagement
from retention.store import dynamo
from retention.store.counters import counter_update
from retention.store.messaging import SEND_SK, send_pk

ENGAGEMENT_FIELDS = (
    "message_id",
    "journey",
    "step",
    "variant",
    "sent_at",
    "first_human_open_at",
    "first_human_click_at",
    "last_human_click_at",
)


@dataclass(frozen=True)
class TrackedMessage:
    record: SendRecord
    honeypot_at: datetime | None

    @property
    def day(self) -> date:
        return (self.record.sent_at or self.record.claimed_at).date()


@dataclass(frozen=True)
class Firsts:
    """Which markers this request set for the first time."""

    open: bool = False
    human_open: bool = False
    click: bool = False
    human_click: bool = False


def _key(message_id: str) -> dict[str, Any]:
    return {"pk": {"S": send_pk(message_id)}, "sk": {"S": SEND_SK}}


class TrackingStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def message(self, message_id: str) -> TrackedMessage | None:
        item = dynamo.client().get_item(TableName=self.table_name, Key=_key(message_id)).get("Item")
        if not item:
            return None
        data = {k: v for k, v in dynamo.from_attributes(item).items() if k not in ("pk", "sk", "type")}
        honeypot = data.get("honeypot_at")
        return TrackedMessage(
            SendRecord.model_validate(data), datetime.fromisoformat(honeypot) if isinstance(honeypot, str) else None
        )

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

    def count(self, message: TrackedMessage, counts: dict[str, int | Any]) -> None:
        counts = {name: value for name, value in counts.items() if value}
        if counts:
            record = message.record
            dynamo.client().update_item(
                **counter_update(self.table_name, record.journey, message.day, record.step, record.variant, counts)
            )

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
            values[f":s{i}"] = dynamo.to_attributes({"v": value})["v"]
            set_parts.append(f"#s{i} = :s{i}")
        for i, (name, value) in enumerate(adds.items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = {"N": str(value)}
            add_parts.append(f"#a{i} :a{i}")
        expression = "SET " + ", ".join(set_parts)
        if add_parts:
            expression += " ADD " + ", ".join(add_parts)
        try:
            response = dynamo.client().update_item(
                TableName=self.table_name,
                Key=_key(message_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",  # the item before: a marker already there means "not the first"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise UnknownMessage(message_id) from exc
            raise
        return response.get("Attributes", {})


class UnknownMessage(LookupError):
    """No send record with this id (deleted on request, or never sent)."""


def engagement(table_name: str, message_ids: list[str]) -> dict[str, Engagement]:
    """The engagement markers of up to 100 send records: one BatchGetItem (projected, small)."""
    ids = list(dict.fromkeys(message_ids))[:100]
    if not ids:
        return {}
    request: dict[str, Any] = {
        table_name: {
            "Keys": [_key(i) for i in ids],
            "ProjectionExpression": ", ".join(f"#e{i}" for i in range(len(ENGAGEMENT_FIELDS))),
            "ExpressionAttributeNames": {f"#e{i}": name for i, name in enumerate(ENGAGEMENT_FIELDS)},
        }
    }
    found: dict[str, Engagement] = {}
    for _ in range(8):
        response = dynamo.client().batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table_name, []):
            data = dynamo.from_attributes(item)
            found[data["message_id"]] = Engagement.model_validate(data)
        request = response.get("UnprocessedKeys") or {}
        if not request:
            break
    return found
