"""Which customer placed a shop order, for the webhooks whose payload names only the order.

A Shopify refund names its order, not its customer, and the engine's order records live in the
customer's partition. The webhook endpoint remembers each order it maps: one PutItem per order,
one GetItem per refund, no index. The item holds two ids and no personal data.
"""

from __future__ import annotations

from retention.store import dynamo, keys


class ShopOrderLinks:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def remember(self, platform: str, order_id: str, customer_id: str) -> None:
        item = {**keys.shop_order_key(platform, order_id), **dynamo.to_attributes({"customer_id": customer_id})}
        dynamo.client().put_item(TableName=self.table_name, Item=item)

    def customer_of(self, platform: str, order_id: str) -> str | None:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=keys.shop_order_key(platform, order_id), ConsistentRead=True)
            .get("Item")
        )
        return dynamo.from_attributes(item).get("customer_id") if item else None
