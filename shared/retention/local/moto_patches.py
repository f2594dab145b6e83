"""Fixes to the emulator (never to production code) so the embedded AWS scales like the real one.

moto's ``TransactWriteItems`` deep-copies every table it touches before applying a
transaction, so each transaction costs O(table size): a year-long replay of a few thousand
customers slows to a crawl. Real DynamoDB costs O(items in the transaction). This patch
keeps moto's semantics (all-or-nothing, cancellation reasons) but snapshots only the items
the transaction names, and restores exactly those on failure.

moto also answers a Query on a global secondary index by sorting *every* item of the table
and then filtering. A GSI only holds items that carry its key attributes (that is what makes
``DueIndex`` sparse), so the patched query hands moto just those items: same results, cost
proportional to the index instead of the table.

SES v2 ``GetAccount`` is added (moto lacks it) so the dispatcher's rate limiter reads a quota.
"""

from __future__ import annotations

import copy as _real_copy
import inspect
import threading
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
    _patch_index_query(Table)
    _patch_ses_account()
    _applied = True


def _patch_index_query(table_class: Any) -> None:
    original = table_class.query
    signature = inspect.signature(original)
    lock = threading.Lock()  # the override below is per table object; the server is threaded

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = signature.bind(self, *args, **kwargs).arguments.get("index_name")
        index = next((i for i in self.all_indexes() if i.name == index_name), None) if index_name else None
        if index is None:
            return original(self, *args, **kwargs)
        key_attributes = [key["AttributeName"] for key in index.schema]

        def index_items() -> list[Any]:
            buckets = self.items.values()
            items = [item for bucket in buckets for item in (bucket.values() if self.range_key_attr else [bucket])]
            return [item for item in items if all(name in item.attrs for name in key_attributes)]

        with lock:
            self.all_items = index_items
            try:
                return original(self, *args, **kwargs)
            finally:
                del self.all_items

    table_class.query = query


EMBEDDED_MAX_SEND_RATE = 10_000.0
"""The embedded account's SES send rate: high, so local runs measure the engine, not a quota."""


def _patch_ses_account() -> None:
    """SES v2 ``GetAccount`` (the send quota the dispatcher paces itself by), which moto lacks."""
    import json

    from moto.ses.models import ses_backends
    from moto.sesv2.responses import SESV2Response

    def get_account(self: Any) -> str:
        backend = ses_backends[self.current_account][self.region]
        quota = {
            "Max24HourSend": 1_000_000.0,
            "MaxSendRate": EMBEDDED_MAX_SEND_RATE,
            "SentLast24Hours": float(backend.sent_message_count),
        }
        return json.dumps(
            {
                "SendQuota": quota,
                "SendingEnabled": True,
                "ProductionAccessEnabled": True,
                "EnforcementStatus": "HEALTHY",
            }
        )

    SESV2Response.get_account = get_account
    from moto.sesv2 import urls

    urls.url_paths["{0}/v2/email/account$"] = SESV2Response.dispatch
