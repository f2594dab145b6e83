"""Customer partition: profile, order records and idempotency markers, one partition per customer.

Applying an event costs two requests: a consistent ``GetItem`` (or ``BatchGetItem`` when two
customers are involved) and one ``TransactWriteItems`` that creates the marker only if absent
and writes each profile only if its version is unchanged. A duplicate delivery fails the
marker condition and changes nothing, which is the idempotency guarantee. Keys: store/keys.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from retention.models.engine_events import EngineEvent, engine_event_from_outbox
from retention.models.profile import CustomerProfile, OrderRecord
from retention.models.segments import PopulationStats
from retention.store import dynamo, keys, transaction
from retention.store.errors import AlreadyApplied
from retention.store.stats import StatsStore
from retention.store.transaction import Write

OUTBOX = "outbox"


@dataclass(frozen=True)
class Marker:
    """An item whose existence proves an event was applied; it may carry the event's data."""

    customer_id: str
    sort_key: str
    attributes: dict[str, Any]

    @classmethod
    def for_order(cls, record: OrderRecord) -> Marker:
        return cls(record.customer_id, keys.order_sk(record.order_id), {"type": "order", **record.model_dump()})

    @classmethod
    def for_registration(cls, customer_id: str, at: object) -> Marker:
        return cls(customer_id, keys.REGISTERED, {"type": "registered", "at": at})

    @classmethod
    def for_referral(cls, referrer_id: str, referred_id: str, referred_at: object) -> Marker:
        attributes = {"type": "referral", "referred_id": referred_id, "referred_at": referred_at}
        return cls(referrer_id, keys.referral_sk(referred_id), attributes)

    @classmethod
    def for_refund(cls, customer_id: str, order_id: str, refund_id: str, amount: object) -> Marker:
        return cls(customer_id, keys.refund_sk(order_id, refund_id), {"type": "refund", "applied_amount": amount})

    @classmethod
    def for_cancellation(cls, customer_id: str, order_id: str, at: object) -> Marker:
        return cls(customer_id, keys.cancellation_sk(order_id), {"type": "cancellation", "at": at})

    @classmethod
    def for_update(cls, customer_id: str, update_key: str) -> Marker:
        return cls(customer_id, keys.update_sk(update_key), {"type": "update"})

    def with_outbox(self, events: Sequence[EngineEvent]) -> Marker:
        """The marker carrying the events its change publishes (JSON, for re-publishing on a duplicate)."""
        if not events:
            return self
        outbox = json.dumps([event.as_outbox() for event in events], default=str)
        return Marker(self.customer_id, self.sort_key, {**self.attributes, OUTBOX: outbox})

    @property
    def key(self) -> keys.Key:
        return keys.key(keys.customer_pk(self.customer_id), self.sort_key)


@dataclass(frozen=True)
class ProfileWrite:
    """A profile to store, guarded by the version it was read at (0 = must not exist yet)."""

    profile: CustomerProfile
    read_version: int


def write_order(record: OrderRecord) -> Write:
    """A ``Put`` of an order record that must exist already (a refund or cancellation changing it).

    It rides in the same transaction as the profile, whose version guard serialises every change
    to the customer, so the record cannot have moved on since it was read."""
    item = {**keys.key(keys.customer_pk(record.customer_id), keys.order_sk(record.order_id))}
    item |= dynamo.to_attributes({"type": "order", **record.model_dump()})
    return Write("Put", {"Item": item, "ConditionExpression": "attribute_exists(pk)"})


def write_profile(write: ProfileWrite) -> Write:
    """A ``Put`` of a profile at ``read_version + 1``, only if still at ``read_version``."""
    stored = write.profile.model_copy(update={"version": write.read_version + 1})
    item = dynamo.stored_item(keys.profile_key(stored.customer_id), "profile", stored.model_dump())
    return Write("Put", {"Item": item, **dynamo.version_guard(write.read_version)})


class CustomerStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get_profile(self, customer_id: str) -> CustomerProfile | None:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=keys.profile_key(customer_id), ConsistentRead=True)
            .get("Item")
        )
        return profile_from_item(item) if item else None

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, CustomerProfile]:
        """Several profiles in one ``BatchGetItem`` (consistent); missing customers are absent."""
        wanted = [keys.profile_key(cid) for cid in dict.fromkeys(customer_ids)]
        return {p.customer_id: p for p in map(profile_from_item, dynamo.batch_get(self.table_name, wanted))}

    def apply(self, marker: Marker, writes: Sequence[ProfileWrite], with_writes: Sequence[Write] = ()) -> None:
        """Create ``marker``, store ``writes`` and run ``with_writes`` (timers) atomically.

        Raises :class:`AlreadyApplied` when the marker exists (a duplicate event) and
        :class:`ConcurrentUpdate` when a profile moved on since it was read.
        """
        create_marker = Write(
            "Put",
            {
                "Item": {**marker.key, **dynamo.to_attributes(marker.attributes)},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
            on_conflict=AlreadyApplied,
        )
        transaction.transact(self.table_name, [create_marker, *map(write_profile, writes), *with_writes])

    def marker_outbox(self, marker: Marker) -> list[EngineEvent]:
        """The events a marker's change published (empty for markers written before outboxes)."""
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=marker.key, ProjectionExpression=OUTBOX, ConsistentRead=True)
            .get("Item", {})
        )
        if OUTBOX not in item:
            return []
        return [engine_event_from_outbox(entry) for entry in json.loads(item[OUTBOX]["S"])]

    def population_stats(self) -> PopulationStats | None:
        """The daily statistics every classification compares with (cached an hour per container)."""
        return StatsStore(self.table_name).get()

    def get_order(self, customer_id: str, order_id: str) -> OrderRecord | None:
        item = (
            dynamo.client()
            .get_item(
                TableName=self.table_name,
                Key=keys.key(keys.customer_pk(customer_id), keys.order_sk(order_id)),
                ConsistentRead=True,
            )
            .get("Item")
        )
        if not item:
            return None
        return OrderRecord.model_validate({k: v for k, v in dynamo.item_fields(item).items() if k != OUTBOX})

    def scan_profiles(self, segment: int = 0, total_segments: int = 1) -> Iterator[CustomerProfile]:
        """Every profile, page by page. For the daily statistics job and reports only:
        never call this from a per-event or per-tick path (its cost grows with all customers)."""
        paginator = dynamo.client().get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            FilterExpression="sk = :profile",
            ExpressionAttributeValues={":profile": {"S": keys.PROFILE}},
            Segment=segment,
            TotalSegments=total_segments,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield profile_from_item(item)


def profile_from_item(item: dict[str, Any]) -> CustomerProfile:
    fields = {k: v for k, v in dynamo.item_fields(item).items() if k != OUTBOX}
    if "consent" not in fields and fields.get("marketing_consent") is True:
        # Profiles stored before consent evidence defaulted the flag to True when the shop said
        # nothing: indistinguishable from a real yes, so it is read as unknown (a no stays a no).
        del fields["marketing_consent"]
    return CustomerProfile.model_validate(fields)
