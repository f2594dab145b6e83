"""Deleting a customer on request (GDPR art. 17): profile, orders, timers, journeys, coupons,
contact state, every send record with its tracking markers, and the referral marker naming them.

What stays: the journey counters, which hold numbers per journey × day × step × variant and
nothing about any person. SES keeps its own suppression list and sending logs (see the README).

Cost: one paginated Query of the customer's partition, one GetItem for the referrer's marker,
then BatchWriteItem deletes of 25 keys. Send records live under their message id, so their ids
are recomputed from the journey states (every cycle × every step of the journey as defined now)
and from the contact's recent sends; deleting an id that was never sent is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retention.journeys import load_journeys, message_id_for
from retention.store import dynamo
from retention.store.customers import customer_pk
from retention.store.messaging import SEND_SK, send_pk


@dataclass(frozen=True)
class Forgotten:
    customer_items: int
    send_records: int
    referral_markers: int


def forget_customer(table_name: str, customer_id: str) -> Forgotten:
    client = dynamo.client()
    keys: list[dict[str, Any]] = []
    message_ids: set[str] = set()
    referred_by: str | None = None
    definitions = load_journeys().journeys
    pages = client.get_paginator("query").paginate(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": customer_pk(customer_id)}},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page.get("Items", []):
            keys.append({"pk": item["pk"], "sk": item["sk"]})
            data = dynamo.from_attributes(item)
            sort_key = str(data["sk"])
            if sort_key.startswith("JOURNEY#"):
                journey = str(data.get("journey", sort_key.removeprefix("JOURNEY#")))
                steps = [step.id for step in definitions[journey].steps] if journey in definitions else []
                for cycle in range(1, int(data.get("cycle", 0)) + 1):
                    message_ids.update(message_id_for(customer_id, journey, cycle, step) for step in steps)
            elif sort_key == "CONTACT":
                message_ids.update(str(sent["message_id"]) for sent in data.get("sends", []))
            elif sort_key == "PROFILE" and data.get("referred_by"):
                referred_by = str(data["referred_by"])
    send_keys = [{"pk": {"S": send_pk(m)}, "sk": {"S": SEND_SK}} for m in sorted(message_ids)]
    referral = []
    if referred_by:
        marker = {"pk": {"S": customer_pk(referred_by)}, "sk": {"S": f"REFERRAL#{customer_id}"}}
        if client.get_item(TableName=table_name, Key=marker).get("Item"):
            referral.append(marker)
    existing_sends = _existing(table_name, send_keys)
    _delete(table_name, keys + existing_sends + referral)
    return Forgotten(len(keys), len(existing_sends), len(referral))


def _existing(table_name: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which of ``keys`` exist (so the count reports what was really deleted): BatchGetItem by 100."""
    found = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table_name: {"Keys": keys[start : start + 100], "ProjectionExpression": "pk, sk"}}
        while request:
            response = dynamo.client().batch_get_item(RequestItems=request)
            found.extend(response.get("Responses", {}).get(table_name, []))
            request = response.get("UnprocessedKeys") or {}
    return found


def _delete(table_name: str, keys: list[dict[str, Any]]) -> None:
    for start in range(0, len(keys), 25):
        request: dict[str, Any] = {table_name: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]}
        while request:
            request = dynamo.client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
