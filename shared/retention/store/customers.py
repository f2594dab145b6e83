"""Customer partition: profile, order records and idempotency markers, one partition per customer.

Key design (table ``CustomersTable``, keys ``pk``/``sk``):

=====================  ========================  ===========================================
pk                     sk                        item
=====================  ========================  ===========================================
``CUST#<id>``          ``PROFILE``               the profile (optimistic lock on ``version``)
``CUST#<id>``          ``ORDER#<order_id>``      order record = idempotency marker of the order
``CUST#<id>``          ``EVENT#REGISTERED``      marker of the registration event
``CUST#<id>``          ``REFERRAL#<referred>``   marker of a referral, in the referrer's partition
=====================  ========================  ===========================================

Applying an event costs two requests: a consistent ``GetItem`` (or ``BatchGetItem`` when two
customers are involved) and one ``TransactWriteItems`` that creates the marker only if absent
and writes each profile only if its version is unchanged. A duplicate delivery fails the
marker condition and changes nothing, which is the idempotency guarantee.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from retention.models.profile import CustomerProfile, OrderRecord
from retention.store import dynamo
from retention.store.bus import EngineEvent
from retention.store.errors import AlreadyApplied, ConcurrentUpdate

PROFILE_SK = "PROFILE"
OUTBOX = "outbox"


def customer_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


@dataclass(frozen=True)
class Marker:
    """An item whose existence proves an event was applied; it may carry the event's data."""

    customer_id: str
    sort_key: str
    attributes: dict[str, Any]

    @classmethod
    def for_order(cls, record: OrderRecord) -> Marker:
        return cls(record.customer_id, f"ORDER#{record.order_id}", {"type": "order", **record.model_dump()})

    def with_outbox(self, events: Sequence[EngineEvent]) -> Marker:
        """The marker carrying the events its change publishes (JSON, for re-publishing on a duplicate)."""
        if not events:
            return self
        outbox = json.dumps(
            [{"detail_type": e.detail_type, "detail": e.detail, "time": e.time} for e in events], default=str
        )
        return Marker(self.customer_id, self.sort_key, {**self.attributes, OUTBOX: outbox})


@dataclass(frozen=True)
class ProfileWrite:
    """A profile to store, guarded by the version it was read at (0 = must not exist yet)."""

    profile: CustomerProfile
    read_version: int


class CustomerStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get_profile(self, customer_id: str) -> CustomerProfile | None:
        response = dynamo.client().get_item(
            TableName=self.table_name,
            Key={"pk": {"S": customer_pk(customer_id)}, "sk": {"S": PROFILE_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return profile_from_item(item) if item else None

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, CustomerProfile]:
        """Several profiles in one ``BatchGetItem`` (consistent); missing customers are absent."""
        keys = [{"pk": {"S": customer_pk(cid)}, "sk": {"S": PROFILE_SK}} for cid in dict.fromkeys(customer_ids)]
        found: dict[str, CustomerProfile] = {}
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        while request:
            response = dynamo.client().batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table_name, []):
                profile = profile_from_item(item)
                found[profile.customer_id] = profile
            request = response.get("UnprocessedKeys") or {}
        return found

    def apply(self, marker: Marker, writes: Sequence[ProfileWrite], extra: Sequence[dict[str, Any]] = ()) -> None:
        """Create ``marker``, store ``writes`` and run ``extra`` transaction items atomically.

        Raises :class:`AlreadyApplied` when the marker exists (a duplicate event) and
        :class:`ConcurrentUpdate` when a profile moved on since it was read.
        """
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": {"S": customer_pk(marker.customer_id)},
                        "sk": {"S": marker.sort_key},
                        **dynamo.to_attributes(marker.attributes),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        items.extend(profile_put(self.table_name, write) for write in writes)
        items.extend(extra)
        try:
            dynamo.client().transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise AlreadyApplied(marker.sort_key) from exc
            if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                raise ConcurrentUpdate(marker.sort_key) from exc
            raise

    def marker_outbox(self, customer_id: str, sort_key: str) -> list[EngineEvent]:
        """The events a marker's change published (empty for markers written before outboxes)."""
        item = (
            dynamo.client()
            .get_item(
                TableName=self.table_name,
                Key={"pk": {"S": customer_pk(customer_id)}, "sk": {"S": sort_key}},
                ProjectionExpression=OUTBOX,
                ConsistentRead=True,
            )
            .get("Item", {})
        )
        if OUTBOX not in item:
            return []
        return [
            EngineEvent(e["detail_type"], e["detail"], datetime.fromisoformat(e["time"]))
            for e in json.loads(item[OUTBOX]["S"])
        ]

    def get_order(self, customer_id: str, order_id: str) -> OrderRecord | None:
        response = dynamo.client().get_item(
            TableName=self.table_name,
            Key={"pk": {"S": customer_pk(customer_id)}, "sk": {"S": f"ORDER#{order_id}"}},
        )
        item = response.get("Item")
        if not item:
            return None
        return OrderRecord.model_validate(_strip_keys(dynamo.from_attributes(item)))

    def scan_profiles(self, segment: int = 0, total_segments: int = 1) -> Iterator[CustomerProfile]:
        """Every profile, page by page. For the daily statistics job and reports only:
        never call this from a per-event or per-tick path (its cost grows with all customers)."""
        paginator = dynamo.client().get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            FilterExpression="sk = :profile",
            ExpressionAttributeValues={":profile": {"S": PROFILE_SK}},
            Segment=segment,
            TotalSegments=total_segments,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield profile_from_item(item)


def profile_put(table_name: str, write: ProfileWrite) -> dict[str, Any]:
    """A transaction ``Put`` of a profile at ``read_version + 1``, only if still at ``read_version``."""
    stored = write.profile.model_copy(update={"version": write.read_version + 1})
    put: dict[str, Any] = {"TableName": table_name, "Item": _profile_to_item(stored)}
    if write.read_version == 0:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :read"
        put["ExpressionAttributeValues"] = {":read": {"N": str(write.read_version)}}
    return {"Put": put}


def _strip_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("pk", "sk", "type", OUTBOX)}


def _profile_to_item(profile: CustomerProfile) -> dict[str, Any]:
    return {
        "pk": {"S": customer_pk(profile.customer_id)},
        "sk": {"S": PROFILE_SK},
        **dynamo.to_attributes({"type": "profile", **profile.model_dump()}),
    }


def profile_from_item(item: dict[str, Any]) -> CustomerProfile:
    return CustomerProfile.model_validate(_strip_keys(dynamo.from_attributes(item)))
