"""The journeys' data access, in the dispatcher's words: read a snapshot, then one intent per change.

Each intent is one transaction that owns every item of the change — the journey state (guarded
by the version it was read at), the step timer, the contact, the send record, the coupon and
its reminder, the counters — so the dispatcher never builds a DynamoDB item. Request counts
(bench/bench_dispatch.py measures them):

* reading what a decision needs — profile, contact, the journey states (and a coupon): one
  consistent ``BatchGetItem``; for an order, contact, coupons and every journey state: one Query;
* every decision's change, an email included: one ``TransactWriteItems``. Claiming an email
  creates its send record only if absent (exactly once) and changes the contact only at the
  version read (two concurrent sends cannot both pass the frequency cap), and moves the journey
  on in the same transaction — so an email costs **two** DynamoDB requests, a read and a write.
  If SES then refuses it, :meth:`JourneyStore.release_send` undoes the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from retention.models.messaging import (
    ContactState,
    Coupon,
    CouponStatus,
    JourneyState,
    SendRecord,
    SentEntry,
    Snapshot,
    Suppression,
    Tally,
)
from retention.models.timers import Timer, coupon_timer_kind, step_timer_kind
from retention.store import dynamo, keys, transaction
from retention.store.counters import counter_add
from retention.store.customers import profile_from_item
from retention.store.errors import AlreadyApplied, ConcurrentUpdate
from retention.store.timers import TimerLayout, arm_timer, disarm_timer
from retention.store.transaction import Write


class JourneyStore:
    def __init__(self, table_name: str, layout: TimerLayout | None = None) -> None:
        self.table_name = table_name
        self.layout = layout or TimerLayout.from_settings()

    # ------------------------------------------------------------------ reads
    def snapshot(self, customer_id: str, journeys: Sequence[str], coupon_code: str | None = None) -> Snapshot:
        """Profile, contact, the named journeys' states (and a coupon): one consistent BatchGetItem."""
        pk = keys.customer_pk(customer_id)
        wanted = [keys.profile_key(customer_id), keys.key(pk, keys.CONTACT)]
        wanted += [keys.key(pk, keys.journey_sk(j)) for j in journeys]
        if coupon_code:
            wanted.append(keys.key(pk, keys.coupon_sk(coupon_code)))
        by_sk = {item["sk"]["S"]: item for item in dynamo.batch_get(self.table_name, wanted)}
        profile = by_sk.get(keys.PROFILE)
        coupon = by_sk.get(keys.coupon_sk(coupon_code)) if coupon_code else None
        return Snapshot(
            profile=profile_from_item(profile) if profile else None,
            contact=_contact(customer_id, by_sk.get(keys.CONTACT)),
            states={j: _state(customer_id, j, by_sk.get(keys.journey_sk(j))) for j in journeys},
            coupons={coupon_code: Coupon.model_validate(dynamo.item_fields(coupon))} if coupon and coupon_code else {},
        )

    def order_snapshot(self, customer_id: str) -> Snapshot:
        """Contact, coupons and every journey state of a customer: one Query (``CONTACT`` …
        ``JOURNEY#~``, see store/keys.py); the profile is not needed to credit an order."""
        response = dynamo.client().query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues={
                ":pk": {"S": keys.customer_pk(customer_id)},
                ":from": {"S": keys.CONTACT},
                ":to": {"S": f"{keys.JOURNEY}{keys.AFTER_LAST}"},
            },
            ConsistentRead=True,
        )
        contact, states, coupons = None, {}, {}
        for item in response.get("Items", []):
            sort_key = item["sk"]["S"]
            if sort_key == keys.CONTACT:
                contact = item
            elif sort_key.startswith(keys.JOURNEY):
                state = JourneyState.model_validate(dynamo.item_fields(item))
                states[state.journey] = state
            elif sort_key.startswith(keys.COUPON):
                coupon = Coupon.model_validate(dynamo.item_fields(item))
                coupons[coupon.code] = coupon
        return Snapshot(profile=None, contact=_contact(customer_id, contact), states=states, coupons=coupons)

    def send_record(self, message_id: str) -> SendRecord | None:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=keys.message_key(message_id), ConsistentRead=True)
            .get("Item")
        )
        return SendRecord.model_validate(_record_fields(item)) if item else None

    def contact(self, customer_id: str) -> ContactState:
        item = (
            dynamo.client()
            .get_item(TableName=self.table_name, Key=keys.key(keys.customer_pk(customer_id), keys.CONTACT))
            .get("Item")
        )
        return _contact(customer_id, item)

    # ------------------------------------------------------------------ intents (one transaction each)
    def move(
        self,
        state: JourneyState,
        read_version: int,
        timer: Timer | None,
        tallies: Sequence[Tally],
        now: datetime,
        disarm: bool = False,
    ) -> None:
        """Store a journey state (entered, held out, deferred, advanced, exited) with its step
        timer armed as ``timer`` (or disarmed) and its counters, all at once."""
        writes = [self._state_write(state, read_version), *_tallies(tallies)]
        if timer is not None:
            writes.append(arm_timer(timer, now, self.layout))
        elif disarm:
            writes.append(disarm_timer(state.customer_id, step_timer_kind(state.journey)))
        transaction.transact(self.table_name, writes)

    def sunset(self, state: JourneyState, read_version: int, tallies: Sequence[Tally], now: datetime) -> None:
        """Exit the journey and suppress the customer for good (too many unopened emails in a row)."""
        suppress = self._contact_update(
            state.customer_id,
            "suppressed = if_not_exists(suppressed, :r), suppressed_at = if_not_exists(suppressed_at, :at)",
            "attribute_not_exists(suppressed) OR suppressed = :r",
            {":r": {"S": Suppression.SUNSET.value}, ":at": {"S": now.isoformat()}},
        )
        writes = [
            self._state_write(state, read_version),
            disarm_timer(state.customer_id, step_timer_kind(state.journey)),
            Write("Update", suppress),
            *_tallies(tallies),
        ]
        transaction.transact(self.table_name, writes)

    def claim_send(
        self,
        record: SendRecord,
        contact: ContactState,
        sends: list[SentEntry],
        state: JourneyState,
        read_version: int,
        next_timer: Timer | None,
        tallies: Sequence[Tally],
        coupon: Coupon | None = None,
        reminder: Timer | None = None,
        review_requested: datetime | None = None,
    ) -> None:
        """Claim an email and move the journey past it, in one transaction (``review_requested``:
        the email asks for a review, sent at that time).

        Raises :class:`AlreadyApplied` when the email's send record exists (it was sent) and
        :class:`ConcurrentUpdate` when the contact or the journey moved on since they were read.
        """
        writes = [
            Write(
                "Put",
                {
                    "Item": dynamo.stored_item(keys.message_key(record.message_id), "send", record.model_dump()),
                    "ConditionExpression": "attribute_not_exists(pk)",
                },
                on_conflict=AlreadyApplied,
            ),
            self._sends_write(contact, sends, review_requested),
            self._state_write(state, read_version),
            arm_timer(next_timer, record.claimed_at, self.layout)
            if next_timer is not None
            else disarm_timer(state.customer_id, step_timer_kind(state.journey)),
            *_tallies(tallies),
        ]
        if coupon is not None:
            coupon_key = keys.key(keys.customer_pk(coupon.customer_id), keys.coupon_sk(coupon.code))
            item = dynamo.stored_item(coupon_key, "coupon", coupon.model_dump())
            writes.append(Write("Put", {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}))
        if reminder is not None:
            writes.append(arm_timer(reminder, record.claimed_at, self.layout))
        transaction.transact(self.table_name, writes)

    def release_send(
        self,
        record: SendRecord,
        state_before: JourneyState,
        tallies: Sequence[Tally],
        coupon: Coupon | None = None,
        reminder: Timer | None = None,
        attempts: int = 4,
    ) -> None:
        """Undo a claim whose email SES refused (nothing sent): the record, the contact's entry
        for it, the journey's move, the coupon and the counters go back, so the retry of the event
        sends the email once. The contact is read afresh (an unsubscribe may have come in since
        the claim); the step timer stays disarmed: the event's retry is what sends the email."""
        for attempt in range(attempts):
            contact = self.contact(record.customer_id)
            kept = [entry for entry in contact.sends if entry.message_id != record.message_id]
            writes = [
                Write("Delete", {"Key": keys.message_key(record.message_id)}),
                self._sends_write(contact, kept),
                self._state_write(state_before, state_before.version + 1),
                disarm_timer(state_before.customer_id, step_timer_kind(state_before.journey)),
                *_tallies(tallies, negate=True),
            ]
            if coupon is not None:
                coupon_key = keys.key(keys.customer_pk(coupon.customer_id), keys.coupon_sk(coupon.code))
                writes.append(Write("Delete", {"Key": coupon_key}))
            if reminder is not None:
                writes.append(disarm_timer(reminder.customer_id, reminder.kind))
            try:
                transaction.transact(self.table_name, writes)
                return
            except ConcurrentUpdate:
                if attempt == attempts - 1:
                    raise

    def convert(
        self,
        moves: Sequence[tuple[JourneyState, int, bool]],
        tallies: Sequence[Tally],
        redeemed: Coupon | None,
        at: datetime,
    ) -> None:
        """Count an order on the journeys it follows: each ``(state, read_version, exits)`` stored
        (an exit disarms the step timer), the counters added, and the coupon it used redeemed
        (its reminder disarmed) — in one transaction."""
        writes: list[Write] = []
        for state, read_version, exits in moves:
            writes.append(self._state_write(state, read_version))
            if exits:
                writes.append(disarm_timer(state.customer_id, step_timer_kind(state.journey)))
        writes += _tallies(tallies)
        if redeemed is not None and redeemed.order_id is not None:
            coupon_key = keys.key(keys.customer_pk(redeemed.customer_id), keys.coupon_sk(redeemed.code))
            writes.append(
                Write(
                    "Update",
                    {
                        "Key": coupon_key,
                        "UpdateExpression": "SET #s = :redeemed, redeemed_at = :at, order_id = :o",
                        "ConditionExpression": "attribute_exists(pk) AND #s = :issued",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":redeemed": {"S": CouponStatus.REDEEMED.value},
                            ":issued": {"S": CouponStatus.ISSUED.value},
                            ":at": {"S": at.isoformat()},
                            ":o": {"S": redeemed.order_id},
                        },
                    },
                )
            )
            writes.append(disarm_timer(redeemed.customer_id, coupon_timer_kind(redeemed.code)))
        transaction.transact(self.table_name, writes)

    # ------------------------------------------------------------------ contact changes from outside the journeys
    def suppress(self, customer_id: str, reason: Suppression, at: datetime, detail: str | None = None) -> bool:
        """Stop all journey email to this customer; the first reason recorded wins (``detail``
        with it: what SES answered, for an undeliverable address). True if newly suppressed."""
        values = {":r": {"S": reason.value}, ":at": {"S": at.isoformat()}}
        assignments = "suppressed = :r, suppressed_at = :at"
        if detail is not None:
            values[":d"] = {"S": detail[:100]}
            assignments += ", suppressed_detail = :d"
        update = self._contact_update(customer_id, assignments, "attribute_not_exists(suppressed)", values)
        return transaction.update(self.table_name, update) is not None

    def pause(self, customer_id: str, until: datetime) -> bool:
        """Hold journey email until ``until`` (the preference page); True if the pause was extended."""
        update = self._contact_update(
            customer_id,
            "paused_until = :u",
            "attribute_not_exists(paused_until) OR paused_until < :u",
            {":u": {"S": until.isoformat()}},
        )
        return transaction.update(self.table_name, update) is not None

    # ------------------------------------------------------------------ items
    def _state_write(self, state: JourneyState, read_version: int) -> Write:
        """``state`` stored at ``read_version + 1``, only if the stored one is still at ``read_version``."""
        stored = state.model_copy(update={"version": read_version + 1})
        item_key = keys.key(keys.customer_pk(state.customer_id), keys.journey_sk(state.journey))
        return Write(
            "Put",
            {
                "Item": dynamo.stored_item(item_key, "journey", stored.model_dump()),
                **dynamo.version_guard(read_version),
            },
        )

    def _sends_write(
        self, contact: ContactState, sends: list[SentEntry], review_requested: datetime | None = None
    ) -> Write:
        """The contact's recent sends replaced, at the version read (an ``Update``, not a ``Put``:
        the engagement summary the tracking API keeps on the same item is left as it is)."""
        review = ", last_review_request_at = :review" if review_requested is not None else ""
        values: dict[str, Any] = {
            ":sends": dynamo.serialize_value([entry.model_dump() for entry in sends]),
            ":c": {"S": contact.customer_id},
            ":contact": {"S": "contact"},
            ":next": {"N": str(contact.version + 1)},
        }
        if review_requested is not None:
            values[":review"] = dynamo.serialize_value(review_requested)
        guard = dynamo.version_guard(contact.version)
        values.update(guard.get("ExpressionAttributeValues", {}))
        return Write(
            "Update",
            {
                "Key": keys.key(keys.customer_pk(contact.customer_id), keys.CONTACT),
                "UpdateExpression": f"SET sends = :sends, customer_id = :c, #t = :contact, version = :next{review}",
                "ConditionExpression": guard["ConditionExpression"],
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": values,
            },
        )

    def _contact_update(
        self, customer_id: str, assignments: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        """A conditional change to the contact item that bumps its version (so a send decided
        before it fails its claim and is decided again)."""
        return {
            "Key": keys.key(keys.customer_pk(customer_id), keys.CONTACT),
            "UpdateExpression": (
                f"SET {assignments}, customer_id = :c, #t = :contact, version = if_not_exists(version, :zero) + :one"
            ),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": {
                **values,
                ":c": {"S": customer_id},
                ":contact": {"S": "contact"},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
            },
        }


def _tallies(tallies: Sequence[Tally], negate: bool = False) -> list[Write]:
    """One counter write per counter: tallies for the same journey × day × step × variant (an
    entry and its first step's exit) are added up first, because each write picks a random
    shard and a transaction may not touch one item twice."""
    merged: dict[tuple[str, date, str, str], dict[str, Any]] = {}
    for tally in tallies:
        counts = merged.setdefault((tally.journey, tally.day, tally.step, tally.variant), {})
        for name, value in tally.counts.items():
            counts[name] = counts.get(name, 0) + value
    return [_tally(Tally(j, day, counts, step, variant), negate) for (j, day, step, variant), counts in merged.items()]


def _tally(tally: Tally, negate: bool = False) -> Write:
    counts = {name: -value for name, value in tally.counts.items()} if negate else tally.counts
    return counter_add(tally.journey, tally.day, counts, tally.step, tally.variant)


def _state(customer_id: str, journey: str, item: dict[str, Any] | None) -> JourneyState:
    if item is None:
        return JourneyState(customer_id=customer_id, journey=journey)
    return JourneyState.model_validate(dynamo.item_fields(item))


def _contact(customer_id: str, item: dict[str, Any] | None) -> ContactState:
    if item is None:
        return ContactState(customer_id=customer_id)
    return ContactState.model_validate(dynamo.item_fields(item))


def _record_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A send record's own fields (the engagement markers and totals on the item are not its model's)."""
    fields = set(SendRecord.model_fields)
    return {name: value for name, value in dynamo.item_fields(item).items() if name in fields}
