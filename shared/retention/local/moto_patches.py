"""Fixes to the emulator (never to production code) so the embedded AWS scales like the real one.

moto's ``TransactWriteItems`` deep-copies every table it touches before applying a
transaction, so each transaction costs O(table size): a year-long replay of a few thousand
customers slows to a crawl. Real DynamoDB costs O(items in the transaction). This patch
keeps moto's semantics (all-or-nothing, cancellation reasons) but snapshots only the items
the transaction names, and restores exactly those on failure.
"""

from __future__ import annotations

import copy as _real_copy
import types
from typing import Any

_applied = False


def apply() -> None:
    """Install the patch once per process (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        # moto's rollback copies whole tables; the wrapper below restores items instead.
        return value if isinstance(value, Table) else _real_copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=_real_copy.copy)  # type: ignore[attr-defined]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshot: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op["Item"] if "Item" in op else op.get("Key", {})
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            current = table.get_item(hash_value, range_value)
            snapshot.append((table, hash_value, range_value, _real_copy.deepcopy(current)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in snapshot:
                if table.get_item(hash_value, range_value) is not None:
                    table.delete_item(hash_value, range_value)
                if item is not None:
                    table.put_item(item.to_json()["Attributes"])
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items
    _applied = True
