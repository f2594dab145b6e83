"""Timers without scans: a sparse GSI keyed by due hour and shard.

Each timer is an item ``pk=CUST#<id>, sk=TIMER#<kind>`` carrying ``due_bucket`` =
``<YYYY-MM-DDTHH>#<shard>`` and ``due_at``; only timer items have these attributes, so the
``DueIndex`` GSI holds nothing else. A sweep queries the buckets of the hours since its
cursor, one Query per (hour, shard): its cost grows with the hours swept and the timers due,
never with the number of customers. Shards spread one hour's timers over several partitions
so a busy hour (a campaign, a birthday-heavy day) has no hot key.

Firing is claim → emit → finish. The claim is a conditional update that names the exact
arming the sweep read from the index — its ``generation``, ``firing`` and ``due_at`` — and
requires it to be due now and unclaimed. Every re-arm changes one of them (a new order gives a
new generation, an inactivity re-arm the next firing, a journey step or deferral its own firing
number), so a sweep that read the index before another sweep fired and re-armed the timer finds
the successor, not the timer it read, and cannot fire it again; and a timer not yet due cannot
be claimed at all. A claim left by a crashed sweep expires after ``CLAIM_TTL`` and is taken
over, so nothing is lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from retention.models.timers import Timer
from retention.store import dynamo
from retention.store.customers import customer_pk

DUE_INDEX = "DueIndex"
CLAIM_TTL = timedelta(minutes=10)
CURSOR_KEY = {"pk": {"S": "SWEEP"}, "sk": {"S": "CURSOR"}}


@dataclass(frozen=True)
class TimerLayout:
    """How timers are filed: ``shards`` partitions per bucket, buckets ``bucket_hours`` wide.

    Production uses 1-hour buckets and 8 shards (settings ``TIMER_BUCKET_HOURS``,
    ``TIMER_SHARDS``); a simulation that sweeps once per simulated day uses 24-hour buckets so
    each sweep reads a day with a few queries. Changing the layout of a live table strands the
    timers filed under the old one, so it is fixed at deployment.
    """

    shards: int = 8
    bucket_hours: int = 1

    @classmethod
    def from_settings(cls) -> TimerLayout:
        from retention.settings import settings

        return cls(settings().timer_shards, settings().timer_bucket_hours)

    def bucket_start(self, at: datetime) -> datetime:
        start = at.replace(minute=0, second=0, microsecond=0)
        return start.replace(hour=start.hour - start.hour % self.bucket_hours)

    def shard_of(self, customer_id: str, kind: str) -> int:
        """The shard of a customer's timer of ``kind``, by its family (``coupon_expiry`` for
        ``coupon_expiry:<code>``): stable however random the qualifier is, so the order in which a
        sweep meets due timers depends only on who and what they are."""
        family = kind.split(":", 1)[0]
        digest = hashlib.sha256(f"{customer_id}|{family}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % self.shards

    def bucket(self, start: datetime, shard: int) -> str:
        return f"{start:%Y-%m-%dT%H}#{shard}"

    @property
    def width(self) -> timedelta:
        return timedelta(hours=self.bucket_hours)


def timer_sort_key(kind: str) -> str:
    return f"TIMER#{kind}"


def timer_put(table_name: str, timer: Timer, now: datetime, layout: TimerLayout | None = None) -> dict[str, Any]:
    """A transaction ``Put`` arming ``timer``; a due time in the past lands in the current
    bucket, which the next sweep reads, so a timer is never filed behind the sweep cursor."""
    layout = layout or TimerLayout.from_settings()
    filed_at = max(timer.due_at, now)
    shard = layout.shard_of(timer.customer_id, timer.kind)
    item = {
        "pk": {"S": customer_pk(timer.customer_id)},
        "sk": {"S": timer_sort_key(timer.kind)},
        "due_bucket": {"S": layout.bucket(layout.bucket_start(filed_at), shard)},
        **dynamo.to_attributes({"type": "timer", **timer.model_dump()}),
    }
    return {"Put": {"TableName": table_name, "Item": item}}


@dataclass(frozen=True)
class DueTimer:
    """A due timer as the index shows it, with the claim another sweep may hold on it."""

    timer: Timer
    claimed_at: datetime | None


class TimerStore:
    def __init__(self, table_name: str, layout: TimerLayout | None = None) -> None:
        self.table_name = table_name
        self.layout = layout or TimerLayout.from_settings()

    def arm(self, timer: Timer, now: datetime) -> None:
        """Arm (or re-arm, replacing) a timer on its own."""
        put = timer_put(self.table_name, timer, now, self.layout)["Put"]
        dynamo.client().put_item(TableName=put["TableName"], Item=put["Item"])

    def get(self, customer_id: str, kind: str) -> Timer | None:
        item = (
            dynamo.client()
            .get_item(
                TableName=self.table_name,
                Key={"pk": {"S": customer_pk(customer_id)}, "sk": {"S": timer_sort_key(kind)}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return _timer(item) if item else None

    def due(self, start: datetime, now: datetime) -> Iterator[DueTimer]:
        """Timers filed in the bucket starting at ``start`` (all shards) due by ``now``: one Query per shard."""
        for shard in range(self.layout.shards):
            pages = (
                dynamo.client()
                .get_paginator("query")
                .paginate(
                    TableName=self.table_name,
                    IndexName=DUE_INDEX,
                    KeyConditionExpression="due_bucket = :b AND due_at <= :now",
                    ExpressionAttributeValues={
                        ":b": {"S": self.layout.bucket(start, shard)},
                        ":now": {"S": now.isoformat()},
                    },
                )
            )
            for page in pages:
                for item in page.get("Items", []):
                    claimed_at = item.get("claimed_at", {}).get("S")
                    yield DueTimer(_timer(item), datetime.fromisoformat(claimed_at) if claimed_at else None)

    def claim(self, timer: Timer, token: str, now: datetime) -> bool:
        try:
            dynamo.client().update_item(
                TableName=self.table_name,
                Key={"pk": {"S": customer_pk(timer.customer_id)}, "sk": {"S": timer_sort_key(timer.kind)}},
                UpdateExpression="SET claim_token = :t, claimed_at = :now",
                ConditionExpression=(
                    "generation = :g AND firing = :f AND due_at = :due AND due_at <= :now AND "
                    "attribute_exists(due_bucket) AND (attribute_not_exists(claim_token) OR claimed_at < :stale)"
                ),
                ExpressionAttributeValues={
                    ":t": {"S": token},
                    ":now": {"S": now.isoformat()},
                    ":stale": {"S": (now - CLAIM_TTL).isoformat()},
                    ":g": {"N": str(timer.generation)},
                    ":f": {"N": str(timer.firing)},
                    ":due": {"S": timer.due_at.isoformat()},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def finish_ops(self, timer: Timer, token: str, next_timer: Timer | None, now: datetime) -> list[dict[str, Any]]:
        """Transaction items that retire a claimed timer: re-armed as ``next_timer`` or deleted."""
        condition = {
            "ConditionExpression": "claim_token = :t",
            "ExpressionAttributeValues": {":t": {"S": token}},
        }
        if next_timer is not None:
            put = timer_put(self.table_name, next_timer, now, self.layout)
            put["Put"].update(condition)
            return [put]
        key = {"pk": {"S": customer_pk(timer.customer_id)}, "sk": {"S": timer_sort_key(timer.kind)}}
        return [{"Delete": {"TableName": self.table_name, "Key": key, **condition}}]

    def transact(self, items: list[dict[str, Any]]) -> bool:
        """Run a finish transaction; False when a condition failed (the timer or profile moved on)."""
        try:
            dynamo.client().transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def cursor(self) -> datetime | None:
        item = dynamo.client().get_item(TableName=self.table_name, Key=CURSOR_KEY, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(item["hour"]["S"]) if item else None

    def advance_cursor(self, hour: datetime) -> None:
        """Move the cursor forward only (an overlapping, slower sweep never moves it back)."""
        try:
            dynamo.client().put_item(
                TableName=self.table_name,
                Item={**CURSOR_KEY, "hour": {"S": hour.isoformat()}},
                ConditionExpression="attribute_not_exists(pk) OR #h < :h",
                ExpressionAttributeNames={"#h": "hour"},
                ExpressionAttributeValues={":h": {"S": hour.isoformat()}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


def _timer(item: dict[str, Any]) -> Timer:
    data = dynamo.from_attributes(item)
    return Timer.model_validate(
        {k: data[k] for k in ("customer_id", "kind", "due_at", "generation", "firing", "payload") if k in data}
    )
