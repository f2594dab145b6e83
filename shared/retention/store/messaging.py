"""DynamoDB access for the journeys: state, contact, send records and coupons (see models.messaging).

Request counts (the dispatcher's budget, measured by bench/bench_dispatch.py):

* reading what a decision needs — profile, contact, the journey states (and a coupon): one
  consistent ``BatchGetItem``;
* claiming an email: one ``TransactWriteItems`` that creates the send record only if absent
  (the exactly-once guarantee) and adds the email to the contact's recent sends only if the
  contact is unchanged (so two concurrent sends cannot both pass the frequency cap);
* finishing it: one ``TransactWriteItems`` marking the record sent, advancing the journey
  and arming the next step's timer (and the coupon with its reminder timer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from retention.models.messaging import ContactState, Coupon, CouponStatus, JourneyState, SendRecord, Suppression
from retention.models.profile import CustomerProfile
from retention.store import dynamo
from retention.store.customers import PROFILE_SK, customer_pk, profile_from_item
from retention.store.errors import ConcurrentUpdate

CONTACT_SK = "CONTACT"
SEND_SK = "MSG"


def journey_sk(journey: str) -> str:
    return f"JOURNEY#{journey}"


def coupon_sk(code: str) -> str:
    return f"COUPON#{code}"


def send_pk(message_id: str) -> str:
    return f"MSG#{message_id}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _item(pk: str, sk: str, kind: str, model: Any, exclude: set[str] | None = None) -> dict[str, Any]:
    return {**_key(pk, sk), **dynamo.to_attributes({"type": kind, **model.model_dump(exclude=exclude)})}


def _data(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dynamo.from_attributes(item).items() if k not in ("pk", "sk", "type")}


@dataclass
class Snapshot:
    """Everything one decision about one customer needs, read in one request."""

    profile: CustomerProfile | None
    contact: ContactState
    states: dict[str, JourneyState]
    coupon: Coupon | None = None


class MessagingStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # ------------------------------------------------------------------ reads
    def snapshot(self, customer_id: str, journeys: Sequence[str], coupon_code: str | None = None) -> Snapshot:
        pk = customer_pk(customer_id)
        keys = [_key(pk, PROFILE_SK), _key(pk, CONTACT_SK), *(_key(pk, journey_sk(j)) for j in journeys)]
        if coupon_code:
            keys.append(_key(pk, coupon_sk(coupon_code)))
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        while request:
            response = dynamo.client().batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self.table_name, []))
            request = response.get("UnprocessedKeys") or {}
        by_sk = {item["sk"]["S"]: item for item in items}
        states = {
            j: JourneyState.model_validate(_data(by_sk[journey_sk(j)]))
            if journey_sk(j) in by_sk
            else JourneyState(customer_id=customer_id, journey=j)
            for j in journeys
        }
        contact_item = by_sk.get(CONTACT_SK)
        coupon_item = by_sk.get(coupon_sk(coupon_code)) if coupon_code else None
        return Snapshot(
            profile=profile_from_item(by_sk[PROFILE_SK]) if PROFILE_SK in by_sk else None,
            contact=ContactState.model_validate(_data(contact_item))
            if contact_item
            else ContactState(customer_id=customer_id),
            states=states,
            coupon=Coupon.model_validate(_data(coupon_item)) if coupon_item else None,
        )

    def journey_states(self, customer_id: str) -> list[JourneyState]:
        """All of a customer's journey states: one Query on their partition."""
        response = dynamo.client().query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": customer_pk(customer_id)}, ":prefix": {"S": "JOURNEY#"}},
            ConsistentRead=True,
        )
        return [JourneyState.model_validate(_data(item)) for item in response.get("Items", [])]

    def customer_journeys(self, customer_id: str) -> tuple[ContactState, list[JourneyState]]:
        """Contact state and every journey state of a customer: one Query (``CONTACT`` … ``JOURNEY#~``,
        which also passes the customer's few coupons, skipped here)."""
        response = dynamo.client().query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues={
                ":pk": {"S": customer_pk(customer_id)},
                ":from": {"S": CONTACT_SK},
                ":to": {"S": "JOURNEY#~"},
            },
            ConsistentRead=True,
        )
        contact = ContactState(customer_id=customer_id)
        states = []
        for item in response.get("Items", []):
            sort_key = item["sk"]["S"]
            if sort_key == CONTACT_SK:
                contact = ContactState.model_validate(_data(item))
            elif sort_key.startswith("JOURNEY#"):
                states.append(JourneyState.model_validate(_data(item)))
        return contact, states

    def send_record(self, message_id: str) -> SendRecord | None:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=_key(send_pk(message_id), SEND_SK), ConsistentRead=True)
            .get("Item")
        )
        return SendRecord.model_validate(_data(item)) if item else None

    def contact(self, customer_id: str) -> ContactState:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=_key(customer_pk(customer_id), CONTACT_SK), ConsistentRead=True)
            .get("Item")
        )
        return ContactState.model_validate(_data(item)) if item else ContactState(customer_id=customer_id)

    # ------------------------------------------------------------------ transaction items
    def state_put(self, state: JourneyState, read_version: int) -> dict[str, Any]:
        """Store ``state`` at ``read_version + 1`` only if it is still at ``read_version``."""
        stored = state.model_copy(update={"version": read_version + 1})
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _item(customer_pk(state.customer_id), journey_sk(state.journey), "journey", stored),
        }
        _guard(put, read_version)
        return {"Put": put}

    def contact_put(self, contact: ContactState, read_version: int) -> dict[str, Any]:
        stored = contact.model_copy(update={"version": read_version + 1})
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _item(customer_pk(contact.customer_id), CONTACT_SK, "contact", stored),
        }
        _guard(put, read_version)
        return {"Put": put}

    def send_claim(self, record: SendRecord) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": _item(send_pk(record.message_id), SEND_SK, "send", record),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def send_done(self, record: SendRecord) -> dict[str, Any]:
        """Mark a claimed record sent (unconditional on anything but its existence)."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _key(send_pk(record.message_id), SEND_SK),
                "UpdateExpression": "SET #s = :sent, sent_at = :at, ses_message_id = :ses",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":sent": {"S": "sent"},
                    ":at": {"S": (record.sent_at or record.claimed_at).isoformat()},
                    ":ses": {"S": record.ses_message_id or ""},
                },
            }
        }

    def coupon_put(self, coupon: Coupon) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": _item(customer_pk(coupon.customer_id), coupon_sk(coupon.code), "coupon", coupon),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def delete_item(self, customer_id: str, sort_key: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table_name, "Key": _key(customer_pk(customer_id), sort_key)}}

    def transact(self, items: list[dict[str, Any]]) -> None:
        """Run a transaction; :class:`ConcurrentUpdate` (with the cancellation reasons) when a condition failed."""
        try:
            dynamo.client().transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            raise ConcurrentUpdate(",".join(reasons), reasons=reasons) from exc

    # ------------------------------------------------------------------ single-item changes
    def release_claim(self, record: SendRecord, contact: ContactState) -> None:
        """Undo a claim whose email SES refused, so a retry can send it (nothing lost, nothing doubled)."""
        fresh = self.contact(record.customer_id)
        kept = [entry for entry in fresh.sends if entry.message_id != record.message_id]
        update = fresh.model_copy(update={"sends": kept, "unopened_streak": max(0, fresh.unopened_streak - 1)})
        self.transact(
            [
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": _key(send_pk(record.message_id), SEND_SK),
                        "ConditionExpression": "#s = :sending",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":sending": {"S": "sending"}},
                    }
                },
                self.contact_put(update, fresh.version),
            ]
        )

    def suppress(self, customer_id: str, reason: Suppression, at: datetime) -> bool:
        """Stop all journey email to this customer; the first reason recorded wins. True if newly suppressed."""
        return self._contact_update(
            customer_id,
            "suppressed = :r, suppressed_at = :at",
            "attribute_not_exists(suppressed)",
            {":r": {"S": reason.value}, ":at": {"S": at.isoformat()}},
        )

    def pause(self, customer_id: str, until: datetime) -> bool:
        """Hold journey email until ``until`` (the preference page); True if the pause was extended."""
        return self._contact_update(
            customer_id,
            "paused_until = :u",
            "attribute_not_exists(paused_until) OR paused_until < :u",
            {":u": {"S": until.isoformat()}},
        )

    def _contact_update(self, customer_id: str, assignments: str, condition: str, values: dict[str, Any]) -> bool:
        """One conditional change to the contact item, bumping its version (so the dispatcher's
        version-guarded writes see it); False when the condition says it was already so."""
        try:
            dynamo.client().update_item(
                TableName=self.table_name,
                Key=_key(customer_pk(customer_id), CONTACT_SK),
                UpdateExpression=(
                    f"SET {assignments}, customer_id = :c, #t = :contact, "
                    "version = if_not_exists(version, :zero) + :one"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#t": "type"},
                ExpressionAttributeValues={
                    **values,
                    ":c": {"S": customer_id},
                    ":contact": {"S": "contact"},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def redeem_coupon(self, customer_id: str, code: str, order_id: str, at: datetime) -> bool:
        """Mark an issued coupon redeemed by ``order_id``; False if it is not ours or already redeemed."""
        try:
            dynamo.client().update_item(
                TableName=self.table_name,
                Key=_key(customer_pk(customer_id), coupon_sk(code)),
                UpdateExpression="SET #s = :redeemed, redeemed_at = :at, order_id = :o",
                ConditionExpression="attribute_exists(pk) AND #s = :issued",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":redeemed": {"S": CouponStatus.REDEEMED.value},
                    ":issued": {"S": CouponStatus.ISSUED.value},
                    ":at": {"S": at.isoformat()},
                    ":o": {"S": order_id},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_state(self, state: JourneyState, read_version: int) -> None:
        self.transact([self.state_put(state, read_version)])


def _guard(put: dict[str, Any], read_version: int) -> None:
    if read_version == 0:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :read"
        put["ExpressionAttributeValues"] = {":read": {"N": str(read_version)}}
