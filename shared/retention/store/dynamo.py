"""One lazily created DynamoDB client per process and the conversion between models and items.

Clients are created on first use, not at import, so tests and the embedded AWS can point
boto3 somewhere (``AWS_ENDPOINT_URL``) before any client exists, and so a warm Lambda
reuses one connection pool for every record.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=3, read_timeout=10)


@cache
def client() -> Any:
    """The process-wide DynamoDB client (standard retry mode absorbs throttling)."""
    return boto3.client("dynamodb", config=RETRY_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (the embedded AWS calls this after moving the endpoint)."""
    client.cache_clear()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_attributes(data: dict[str, Any]) -> dict[str, Any]:
    """A plain dict (datetimes, Decimals, nested lists/maps) as DynamoDB attribute values."""
    return {key: _serializer.serialize(_plain(value)) for key, value in data.items() if value is not None}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def serialize_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_plain(value))


def stored_item(key: dict[str, Any], kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """An item: its key, its ``type`` and the model's fields as attribute values."""
    return {**key, **to_attributes({"type": kind, **data})}


def item_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item's model fields (key and ``type`` dropped)."""
    return {name: value for name, value in from_attributes(item).items() if name not in ("pk", "sk", "type")}


def version_guard(read_version: int) -> dict[str, Any]:
    """The condition of an item written at ``read_version + 1``: unchanged since read, or new."""
    if read_version == 0:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {"ConditionExpression": "version = :read", "ExpressionAttributeValues": {":read": {"N": str(read_version)}}}


def batch_get(table_name: str, wanted: list[dict[str, Any]], attempts: int = 8) -> list[dict[str, Any]]:
    """The items of up to 100 keys in one consistent ``BatchGetItem`` (retrying unprocessed keys)."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {table_name: {"Keys": wanted, "ConsistentRead": True}} if wanted else {}
    for _ in range(attempts):
        if not request:
            break
        response = client().batch_get_item(RequestItems=request)
        found.extend(response.get("Responses", {}).get(table_name, []))
        request = response.get("UnprocessedKeys") or {}
    return found
