"""Reading and deleting everything stored about one customer (a forget request).

Cost: one paginated Query of the customer's partition, a BatchGetItem per 100 send records to
find which exist, one GetItem for the referrer's marker, then BatchWriteItem deletes of 25 keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from retention.store import dynamo, keys


@dataclass
class CustomerPartition:
    """What a customer's partition holds that leads elsewhere: the journeys entered (and how
    many cycles: each cycle's emails have send records elsewhere), the recent sends, who referred them."""

    item_keys: list[keys.Key] = field(default_factory=list)
    journey_cycles: dict[str, int] = field(default_factory=dict)
    recent_message_ids: set[str] = field(default_factory=set)
    referred_by: str | None = None
    order_ids: list[str] = field(default_factory=list)
    """The shop's order ids: a webhook may have remembered which customer placed each one."""


class ErasureStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def partition(self, customer_id: str) -> CustomerPartition:
        found = CustomerPartition()
        pages = (
            dynamo.client()
            .get_paginator("query")
            .paginate(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.customer_pk(customer_id)}},
                ConsistentRead=True,
            )
        )
        for page in pages:
            for item in page.get("Items", []):
                found.item_keys.append({"pk": item["pk"], "sk": item["sk"]})
                sort_key, data = item["sk"]["S"], dynamo.item_fields(item)
                if sort_key.startswith(keys.JOURNEY):
                    journey = str(data.get("journey", sort_key.removeprefix(keys.JOURNEY)))
                    found.journey_cycles[journey] = int(data.get("cycle", 0))
                elif sort_key == keys.CONTACT:
                    found.recent_message_ids.update(str(sent["message_id"]) for sent in data.get("sends", []))
                elif sort_key == keys.PROFILE and data.get("referred_by"):
                    found.referred_by = str(data["referred_by"])
                elif sort_key == keys.order_sk(str(data.get("order_id", ""))):
                    found.order_ids.append(str(data["order_id"]))
        return found

    def existing_messages(self, message_ids: Iterable[str]) -> list[keys.Key]:
        """The send records among ``message_ids`` that exist (so a count reports what was deleted)."""
        return self._existing([keys.message_key(m) for m in sorted(set(message_ids))])

    def shop_order_links(self, order_ids: Iterable[str]) -> list[keys.Key]:
        """The webhook's order -> customer links for these orders (outside the customer's partition)."""
        return self._existing(
            [
                keys.shop_order_key(platform, order)
                for platform in keys.SHOP_PLATFORMS
                for order in sorted(set(order_ids))
            ]
        )

    def _existing(self, wanted: list[keys.Key]) -> list[keys.Key]:
        """The keys among ``wanted`` whose items exist: BatchGetItem, 100 at a time."""
        found: list[keys.Key] = []
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self.table_name: {"Keys": wanted[start : start + 100], "ProjectionExpression": "pk, sk"}
            }
            while request:
                response = dynamo.client().batch_get_item(RequestItems=request)
                found.extend(response.get("Responses", {}).get(self.table_name, []))
                request = response.get("UnprocessedKeys") or {}
        return found

    def referral_marker(self, referrer_id: str, referred_id: str) -> list[keys.Key]:
        """The referrer's marker naming this customer, if it exists."""
        marker = keys.key(keys.customer_pk(referrer_id), keys.referral_sk(referred_id))
        item = dynamo.client().get_item(TableName=self.table_name, Key=marker).get("Item")
        return [marker] if item else []

    def delete(self, item_keys: list[keys.Key]) -> None:
        for start in range(0, len(item_keys), 25):
            batch = [{"DeleteRequest": {"Key": k}} for k in item_keys[start : start + 25]]
            request: dict[str, Any] = {self.table_name: batch}
            while request:
                request = dynamo.client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
