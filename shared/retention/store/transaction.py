"""One way to write several items atomically, and one mapping of its failures to domain exceptions.

Every multi-item change the engine makes (an event applied with its marker, an email claimed
with its contact and journey state, a timer fired and re-armed with the profile) is a list of
:class:`Write` items run by :func:`transact`. Each item says what its own condition failing
means — ``AlreadyApplied`` for a marker or a send record that exists, ``ConcurrentUpdate`` for
an item read at a version that moved on — so a refused transaction becomes exactly one domain
exception, decided in one place, never by the caller reading DynamoDB's cancellation reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from retention.store import dynamo
from retention.store.errors import ConcurrentUpdate, StoreError

Operation = Literal["Put", "Update", "Delete", "ConditionCheck"]


@dataclass(frozen=True)
class Write:
    """One item of a transaction: the operation, its parameters without ``TableName``, and the
    exception a failed condition on it raises."""

    operation: Operation
    parameters: dict[str, Any]
    on_conflict: type[StoreError] = ConcurrentUpdate

    def request(self, table_name: str) -> dict[str, Any]:
        return {self.operation: {"TableName": table_name, **self.parameters}}


def transact(table_name: str, writes: Sequence[Write]) -> None:
    """Apply ``writes`` all or nothing (one ``TransactWriteItems``, up to 100 items).

    Raises the ``on_conflict`` exception of the first item whose condition failed (its
    cancellation reasons attached when it is a :class:`ConcurrentUpdate`), or
    :class:`ConcurrentUpdate` when DynamoDB refused because another transaction held an item.
    """
    if not writes:
        return
    try:
        dynamo.client().transact_write_items(TransactItems=[w.request(table_name) for w in writes])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
        raise _refusal(writes, reasons) from exc


def _refusal(writes: Sequence[Write], reasons: list[str]) -> StoreError:
    failed = [w for w, reason in zip(writes, reasons, strict=False) if reason == "ConditionalCheckFailed"]
    decisive = next((w.on_conflict for w in failed if w.on_conflict is not ConcurrentUpdate), ConcurrentUpdate)
    if decisive is ConcurrentUpdate:
        return ConcurrentUpdate(",".join(reasons), reasons=reasons)
    return decisive(",".join(reasons))


def update(table_name: str, parameters: dict[str, Any], returning: str = "NONE") -> dict[str, Any] | None:
    """One conditional ``UpdateItem``; None when its condition failed (the caller says what that means)."""
    try:
        response = dynamo.client().update_item(TableName=table_name, ReturnValues=returning, **parameters)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    return response.get("Attributes", {})


def put(table_name: str, parameters: dict[str, Any]) -> bool:
    """One conditional ``PutItem``; False when its condition failed."""
    try:
        dynamo.client().put_item(TableName=table_name, **parameters)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
