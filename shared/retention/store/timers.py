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

The *backlog* holds inactivity timers an imported past order found already overdue (the
customer crossed a segment boundary before the engine knew them). A held timer is the same
``TIMER#inactivity`` item filed under ``due_bucket = BACKLOG#<shard>`` in the same index: no
sweep reads that bucket (sweeps read hour buckets), so it never fires by itself, and
:meth:`TimerStore.backlog` finds every held timer with one Query per shard, no Scan. Releasing
one re-files it under an hour bucket at the time the operator chose; any live order re-arms
the item normally (a Put replacing it), which takes it out of the backlog.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from retention.models.timers import Timer
from retention.store import dynamo, keys, transaction
from retention.store.transaction import Write

DUE_INDEX = "DueIndex"
CLAIM_TTL = timedelta(minutes=10)


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


def arm_timer(timer: Timer, now: datetime, layout: TimerLayout | None = None) -> Write:
    """A ``Put`` arming (or re-arming, replacing) ``timer``; a due time in the past lands in the
    current bucket, which the next sweep reads, so a timer is never filed behind the sweep cursor."""
    layout = layout or TimerLayout.from_settings()
    filed_at = max(timer.due_at, now)
    shard = layout.shard_of(timer.customer_id, timer.kind)
    item = {
        **keys.key(keys.customer_pk(timer.customer_id), keys.timer_sk(timer.kind)),
        "due_bucket": {"S": layout.bucket(layout.bucket_start(filed_at), shard)},
        **dynamo.to_attributes({"type": "timer", **timer.model_dump()}),
    }
    return Write("Put", {"Item": item})


BACKLOG = "BACKLOG"
"""The ``due_bucket`` prefix of held timers: ``BACKLOG#<shard>``, never an hour a sweep reads."""


def hold_timer(timer: Timer, layout: TimerLayout | None = None) -> Write:
    """A ``Put`` filing ``timer`` in the backlog (replacing any armed one): it waits for
    :meth:`TimerStore.release` instead of firing at its (past) due time."""
    layout = layout or TimerLayout.from_settings()
    shard = layout.shard_of(timer.customer_id, timer.kind)
    item = {
        **keys.key(keys.customer_pk(timer.customer_id), keys.timer_sk(timer.kind)),
        "due_bucket": {"S": f"{BACKLOG}#{shard}"},
        **dynamo.to_attributes({"type": "timer", **timer.model_dump()}),
    }
    return Write("Put", {"Item": item})


def disarm_timer(customer_id: str, kind: str) -> Write:
    """A ``Delete`` of a customer's timer of ``kind`` (nothing happens if there is none)."""
    return Write("Delete", {"Key": keys.key(keys.customer_pk(customer_id), keys.timer_sk(kind))})


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
        dynamo.client().put_item(TableName=self.table_name, **arm_timer(timer, now, self.layout).parameters)

    def get(self, customer_id: str, kind: str) -> Timer | None:
        item = (
            dynamo.client()
            .get_item(
                TableName=self.table_name,
                Key=keys.key(keys.customer_pk(customer_id), keys.timer_sk(kind)),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return _timer(item) if item else None

    def due(self, start: datetime, now: datetime) -> Iterator[DueTimer]:
        """Timers filed in the bucket starting at ``start`` (all shards) due by ``now``: one Query per shard."""
        for shard in range(self.layout.shards):
            for item in self._filed(self.layout.bucket(start, shard), until=now):
                claimed_at = item.get("claimed_at", {}).get("S")
                yield DueTimer(_timer(item), datetime.fromisoformat(claimed_at) if claimed_at else None)

    def _filed(self, bucket: str, until: datetime | None = None) -> Iterator[dict[str, Any]]:
        """The index's items filed under ``bucket`` (due by ``until`` when given): one paginated Query."""
        condition, values = "due_bucket = :b", {":b": {"S": bucket}}
        if until is not None:
            condition, values = f"{condition} AND due_at <= :now", {**values, ":now": {"S": until.isoformat()}}
        pages = (
            dynamo.client()
            .get_paginator("query")
            .paginate(
                TableName=self.table_name,
                IndexName=DUE_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        )
        for page in pages:
            yield from page.get("Items", [])

    def claim(self, timer: Timer, token: str, now: datetime) -> bool:
        """Claim the arming of ``timer`` the sweep read, if it is still that arming, due and unclaimed."""
        claimed = transaction.update(
            self.table_name,
            {
                "Key": keys.key(keys.customer_pk(timer.customer_id), keys.timer_sk(timer.kind)),
                "UpdateExpression": "SET claim_token = :t, claimed_at = :now",
                "ConditionExpression": (
                    "generation = :g AND firing = :f AND due_at = :due AND due_at <= :now AND "
                    "attribute_exists(due_bucket) AND (attribute_not_exists(claim_token) OR claimed_at < :stale)"
                ),
                "ExpressionAttributeValues": {
                    ":t": {"S": token},
                    ":now": {"S": now.isoformat()},
                    ":stale": {"S": (now - CLAIM_TTL).isoformat()},
                    ":g": {"N": str(timer.generation)},
                    ":f": {"N": str(timer.firing)},
                    ":due": {"S": timer.due_at.isoformat()},
                },
            },
        )
        return claimed is not None

    def retire(
        self,
        timer: Timer,
        token: str,
        successor: Timer | None,
        now: datetime,
        with_writes: Sequence[Write] = (),
    ) -> None:
        """Retire a claimed timer — re-armed as ``successor`` or deleted — together with
        ``with_writes`` (the reclassified profile, other timers), all or nothing.

        Raises :class:`ConcurrentUpdate` when the claim was lost or a write's condition failed.
        """
        condition = {"ConditionExpression": "claim_token = :t", "ExpressionAttributeValues": {":t": {"S": token}}}
        if successor is not None:
            retiring = arm_timer(successor, now, self.layout)
            retiring = Write("Put", {**retiring.parameters, **condition})
        else:
            key = keys.key(keys.customer_pk(timer.customer_id), keys.timer_sk(timer.kind))
            retiring = Write("Delete", {"Key": key, **condition})
        transaction.transact(self.table_name, [retiring, *with_writes])

    def backlog(self) -> Iterator[Timer]:
        """Every held timer: one Query per shard of the backlog's buckets (never a Scan)."""
        for shard in range(self.layout.shards):
            for item in self._filed(f"{BACKLOG}#{shard}"):
                yield _timer(item)

    def release(self, timer: Timer, due_at: datetime, now: datetime) -> bool:
        """Move a held timer out of the backlog, due at ``due_at``; False when it is no longer
        that held timer (a live order re-armed it, or an earlier release moved it already)."""
        released = arm_timer(timer.model_copy(update={"due_at": due_at}), now, self.layout)
        shard = self.layout.shard_of(timer.customer_id, timer.kind)
        return transaction.put(
            self.table_name,
            {
                **released.parameters,
                "ConditionExpression": "due_bucket = :held AND generation = :g AND firing = :f",
                "ExpressionAttributeValues": {
                    ":held": {"S": f"{BACKLOG}#{shard}"},
                    ":g": {"N": str(timer.generation)},
                    ":f": {"N": str(timer.firing)},
                },
            },
        )

    def cursor(self) -> datetime | None:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=keys.SWEEP_CURSOR_KEY, ConsistentRead=True)
            .get("Item")
        )
        return datetime.fromisoformat(item["hour"]["S"]) if item else None

    def advance_cursor(self, hour: datetime) -> None:
        """Move the cursor forward only (an overlapping, slower sweep never moves it back)."""
        transaction.put(
            self.table_name,
            {
                "Item": {**keys.SWEEP_CURSOR_KEY, "hour": {"S": hour.isoformat()}},
                "ConditionExpression": "attribute_not_exists(pk) OR #h < :h",
                "ExpressionAttributeNames": {"#h": "hour"},
                "ExpressionAttributeValues": {":h": {"S": hour.isoformat()}},
            },
        )


def _timer(item: dict[str, Any]) -> Timer:
    data = dynamo.from_attributes(item)
    return Timer.model_validate(
        {k: data[k] for k in ("customer_id", "kind", "due_at", "generation", "firing", "payload") if k in data}
    )
