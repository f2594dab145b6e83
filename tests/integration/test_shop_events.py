"""Refunds, cancellations, customer updates and deletions from the shop; what the engine tells the
shop back (unsubscribes, suppressions). On the embedded AWS, through the real handlers."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import load_event
from factories import T0, envelope, order_detail, sqs_record
from journey_helpers import World, treated
from tracking_helpers import links_of, request

from retention import clock
from retention.models.consent import ConsentPolicy, ConsentState
from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats
from retention.settings import settings
from retention.store import bus, dynamo, keys
from retention.store.counters import CounterStore
from retention.store.customers import CustomerStore
from retention.store.stats import StatsStore
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.replay import queue_depth
from retention_tools.local.runtime import QueueDriver, invoke, load_function, put_events
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
_ids = itertools.count(1)
SENT = T0 + timedelta(days=90)
READ = SENT + timedelta(hours=3)


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"se{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def _ingest(*bodies: dict[str, Any], at: datetime = T0 + timedelta(days=20)) -> dict[str, Any]:
    batch = {"Records": [sqs_record(f"m-{next(_ids)}", json.dumps(body)) for body in bodies]}
    with clock.frozen_at(at):
        return invoke(load_function("order_ingest").handler, batch)


def _refund(refund_id: str, order_id: str, amount: str, customer_id: str = "C1", days: int = 12) -> dict[str, Any]:
    detail = {
        "refund_id": refund_id,
        "order_id": order_id,
        "customer_id": customer_id,
        "refunded_at": (T0 + timedelta(days=days)).isoformat(),
        "currency": "EUR",
        "amount": amount,
    }
    return envelope("OrderRefunded", detail, event_id=f"e-{refund_id}")


def _profile(customer_id: str = "C1") -> CustomerProfile | None:
    return CustomerStore(settings().customers_table).get_profile(customer_id)


def _vip_above(spend: str) -> None:
    StatsStore(settings().customers_table).put(PopulationStats(computed_at=T0, vip_spend=Decimal(spend)))


# ------------------------------------------------------------------ refunds and cancellations


def test_refund_lowers_spend_average_order_value_and_vip_status_exactly(world: World) -> None:
    # Given a VIP (two orders of 60.00 against a VIP threshold of 100.00)
    _vip_above("100")
    first, second = (
        order_detail(order_id=o, placed_at=T0 + timedelta(days=d), total="60.00") for o, d in [("O1", 0), ("O2", 10)]
    )
    assert (
        _ingest(envelope("OrderPlaced", first, "e1"), envelope("OrderPlaced", second, "e2"))["batchItemFailures"] == []
    )
    assert _profile().segment.lifecycle == "vip"
    # When 25.00 of the second order is refunded (delivered twice)
    assert _ingest(_refund("R1", "O2", "25.00"), _refund("R1", "O2", "25.00"))["batchItemFailures"] == []
    # Then spend and AOV drop by exactly that, once, and the customer is no longer a VIP
    profile = _profile()
    assert (profile.total_spent, profile.average_order_value, profile.order_count) == (
        Decimal("95.00"),
        Decimal("47.50"),
        2,
    )
    assert profile.segment.lifecycle != "vip"
    # When a refund asks for more than the order is still worth, it is capped and the order stops counting
    assert _ingest(_refund("R2", "O2", "50.00"))["batchItemFailures"] == []
    profile = _profile()
    assert (profile.total_spent, profile.order_count, profile.refunded_total) == (Decimal("60.00"), 1, Decimal("60.00"))
    assert profile.last_order_at == T0
    record = CustomerStore(settings().customers_table).get_order("C1", "O2")
    assert (record.refunded, record.counts) == (Decimal("60.00"), False)


def test_the_sample_refund_applies_to_the_sample_order(world: World) -> None:
    order, refund = load_event("order_placed.eventbridge"), load_event("order_refunded.eventbridge")
    assert _ingest(order, refund, refund)["batchItemFailures"] == []
    profile = _profile("C000042")
    assert (profile.total_spent, profile.order_count, profile.refunds) == (Decimal("29.40"), 1, 1)


def test_cancelled_order_stops_counting(world: World) -> None:
    # Given the sample customer's order and the sample cancellation of another of their orders
    cancelled = load_event("order_cancelled.eventbridge")
    customer, order_id = cancelled["detail"]["customer_id"], cancelled["detail"]["order_id"]
    kept = order_detail(order_id="O-kept", customer_id=customer, placed_at="2026-03-10T09:00:00Z", total="30.00")
    gone = order_detail(order_id=order_id, customer_id=customer, placed_at="2026-03-14T09:00:00Z", total="45.00")
    _ingest(envelope("OrderPlaced", kept, "k"), envelope("OrderPlaced", gone, "g"))
    # When the shop cancels it (twice: at-least-once)
    assert _ingest(cancelled, cancelled)["batchItemFailures"] == []
    # Then only the kept order counts, for spend, count and recency
    profile = _profile(customer)
    assert (profile.order_count, profile.total_spent, profile.cancelled_orders) == (1, Decimal("30.00"), 1)
    assert profile.last_order_at.isoformat() == "2026-03-10T09:00:00+00:00"


def test_a_refund_for_an_order_not_seen_yet_is_retried_then_dead_lettered_with_the_reason(aws, caplog) -> None:
    # Given a refund that overtook its order on the bus
    with clock.frozen_at(T0 + timedelta(days=20)):
        put_events(
            aws,
            [("shop.orders", "OrderRefunded", _refund("R9", "O404", "5.00")["detail"], T0)],
            aws.resources.buses["RetentionBus"],
        )
        # When the queue is drained as the event source would, retries included
        QueueDriver(aws, "IngestQueue", "order_ingest").drain()
    # Then it is not lost: it waits in the dead-letter queue, and the log says why
    assert queue_depth(aws, "IngestDeadLetterQueue") == 1
    reasons = [str(getattr(r, "reason", "")) for r in caplog.records if r.getMessage() == "shop event failed"]
    assert len(reasons) == 3  # one per receive, then the redrive policy moved it
    assert all("refund R9 for order O404 of customer C1, which the engine has not applied yet" in r for r in reasons)
    assert _profile() is None


def test_a_refund_takes_the_attributed_revenue_off_the_credited_email_exactly(world: World) -> None:
    # Given a win-back email clicked, then an order of 80.00 credited to it
    (cid,) = treated("REFUND")
    world.winback_sent([cid], T0, SENT)
    request("GET", f"/c/{links_of(world.mail_to(cid)[0]).clicks[0]}", READ)
    order_id = world.order(cid, READ + timedelta(days=1), total="80.00")
    world.deliver(READ + timedelta(days=1))
    assert (_email_counts(world)["attributed_revenue"], _email_counts(world)["attributed_orders"]) == (80, 1)
    # When 30.00 is refunded, and the engine's refund event is delivered twice
    refunded_at = READ + timedelta(days=3)
    world._shop(_refund("RA", order_id, "30.00", cid, days=93), refunded_at)
    world.deliver(refunded_at, times=2)
    # Then the email's attributed revenue is 50.00, and the journey records the refund once
    assert _email_counts(world)["attributed_revenue"] == 50
    journey_level = CounterStore(world.table).read("winback", refunded_at.date(), refunded_at.date())
    assert sum((c["refunded_revenue"] for (_, step, _), c in journey_level.items() if step == "-"), 0) == 30
    # When the rest comes back, the order is no longer attributed at all
    world._shop(_refund("RB", order_id, "50.00", cid, days=93), refunded_at)
    world.deliver(refunded_at)
    assert (_email_counts(world)["attributed_revenue"], _email_counts(world)["attributed_orders"]) == (0, 0)


def _email_counts(world: World) -> Counter:
    total: Counter = Counter()
    for (_, step, _), values in CounterStore(world.table).read("winback", SENT.date(), SENT.date()).items():
        if step != "-":
            total.update(values)
    return total


# ------------------------------------------------------------------ customer updates


def test_a_consent_withdrawal_and_an_email_change_arrive_without_an_order(world: World) -> None:
    # Given the sample order (with consent) of C000042
    assert _ingest(load_event("order_placed.eventbridge"))["batchItemFailures"] == []
    before = _profile("C000042")
    # When the sample update arrives (new address, consent withdrawn), twice
    update = load_event("customer_updated.eventbridge")
    assert _ingest(update, update)["batchItemFailures"] == []
    # Then the address is the new one and the withdrawal is kept as evidence; the orders are untouched
    profile = _profile("C000042")
    assert profile.email == "aysel.a@example.com"
    assert profile.consent.state is ConsentState.WITHDRAWN
    assert profile.consent.source_event == "CustomerUpdated:U0000777"
    assert profile.consent.source == "account settings page"
    assert profile.consent.policy is ConsentPolicy.EXPLICIT
    assert profile.consent.at.isoformat() == "2026-03-15T12:29:58+00:00"
    assert (profile.order_count, profile.total_spent) == (before.order_count, before.total_spent)
    # When an older update arrives late, it changes nothing
    late = {
        **update,
        "id": "late",
        "detail": {
            **update["detail"],
            "update_id": "U0000776",
            "email": "old@example.com",
            "updated_at": "2026-03-15T08:00:00Z",
            "marketing_consent": True,
            "consent_at": "2026-03-15T08:00:00Z",
        },
    }
    assert _ingest(late)["batchItemFailures"] == []
    assert _profile("C000042").email == "aysel.a@example.com"
    assert _profile("C000042").consent.state is ConsentState.WITHDRAWN


def test_a_second_registration_with_new_facts_is_applied_not_dropped(world: World) -> None:
    registered = load_event("customer_registered.eventbridge")
    assert _ingest(registered)["batchItemFailures"] == []
    again = {
        **registered,
        "id": "again",
        "detail": {
            **registered["detail"],
            "email": "taras.new@example.com",
            "registered_at": "2026-03-16T10:00:00Z",
            "marketing_consent": False,
        },
    }
    assert _ingest(again, again)["batchItemFailures"] == []
    profile = _profile("C000043")
    assert profile.email == "taras.new@example.com"
    assert profile.consent.state is ConsentState.WITHDRAWN


def test_the_same_registration_delivered_again_changes_nothing(world: World) -> None:
    # Given a registration applied once
    registered = load_event("customer_registered.eventbridge")
    assert _ingest(registered)["batchItemFailures"] == []
    first = _profile("C000043")
    # When SQS delivers the same event again, later (at-least-once delivery)
    assert _ingest(registered, at=T0 + timedelta(days=25))["batchItemFailures"] == []
    # Then the profile is exactly as it was (the chaotic soak's profiles equal the clean run's)
    again = _profile("C000043")
    assert again.model_dump(exclude={"updated_at"}) == first.model_dump(exclude={"updated_at"})
    assert again.version == first.version


def test_explicit_policy_sends_no_marketing_email_to_a_customer_without_opt_in(world: World) -> None:
    # Given two buyers, one who opted in at checkout and one the shop never asked
    opted_in, unknown = treated("CONSENTY", journey="post_purchase")[0], treated("CONSENTN", journey="post_purchase")[0]
    world.order(opted_in, T0)
    world.order(unknown, T0, marketing_consent=None)
    # When the post-purchase journey runs its course and both later go inactive
    world.run_days(T0, 15)
    for cid in (opted_in, unknown):
        world.inactive(cid, T0 + timedelta(days=90))
    world.deliver(T0 + timedelta(days=90))
    # Then the one without opt-in got only the service email (the thanks), no review request, no win-back
    assert world.templates_to(unknown) == ["post_purchase_thanks"]
    assert world.templates_to(opted_in)[:2] == ["post_purchase_thanks", "review_request"]
    skipped = CounterStore(world.table).read("post_purchase", T0.date(), (T0 + timedelta(days=16)).date())
    assert sum(c["skipped_no_consent"] for c in skipped.values()) == 1


def test_the_consent_policy_parameter_reaches_the_dispatcher(moto_account: None) -> None:
    # Given a stack deployed with ConsentPolicy=soft-opt-in
    with EmbeddedAws(
        stage=f"se{next(_stages)}", shared=True, env=SIMULATION_TIMERS, parameters={"ConsentPolicy": "soft-opt-in"}
    ):
        world = World()
        buyer = treated("SOFT", journey="post_purchase")[0]
        # When a buyer the shop never asked about consent runs through the post-purchase journey
        world.order(buyer, T0, marketing_consent=None)
        world.run_days(T0, 15)
        # Then, having bought, they get the review request too (until they object)
        assert settings().consent_policy is ConsentPolicy.SOFT_OPT_IN
        assert world.templates_to(buyer) == ["post_purchase_thanks", "review_request"]


# ------------------------------------------------------------------ deletion


def test_customer_deleted_by_the_shop_erases_them(world: World) -> None:
    # Given a customer with an order, a post-purchase journey and a registration marker
    registered = load_event("customer_registered.eventbridge")
    cid = registered["detail"]["customer_id"]
    _ingest(registered, envelope("OrderPlaced", order_detail(customer_id=cid, placed_at="2026-03-15T19:00:00Z"), "o"))
    world.order(cid, T0 + timedelta(days=15))
    world.deliver(T0 + timedelta(days=15))
    # When the shop sends the sample deletion (twice)
    deleted = load_event("customer_deleted.eventbridge")
    assert deleted["detail"]["customer_id"] == cid
    assert _ingest(deleted, deleted)["batchItemFailures"] == []
    # Then nothing about them remains in their partition
    partition = dynamo.client().query(
        TableName=world.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.customer_pk(cid)}},
    )
    assert partition["Items"] == []


# ------------------------------------------------------------------ told back to the shop


@pytest.fixture
def bus_entries() -> Iterator[list[dict[str, Any]]]:
    """Every entry the engine puts on the bus while the test runs."""
    entries: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        entries.extend(params["Entries"])

    bus.client().meta.events.register("before-parameter-build.events.PutEvents", record)
    yield entries
    bus.client().meta.events.unregister("before-parameter-build.events.PutEvents", record)


def test_unsubscribe_bounce_and_complaint_are_published_for_the_shop(world: World, bus_entries) -> None:
    (cid,) = treated("MIRROR")
    world.winback_sent([cid], T0, SENT)
    links = links_of(world.mail_to(cid)[0])
    # When the person unsubscribes, and SES reports a hard bounce and a complaint for the email
    request("POST", f"/u/{links.unsubscribe}", READ, body=b"List-Unsubscribe=One-Click")
    ses = load_event("ses_events.sqs")
    for record in ses["Records"]:
        body = json.loads(record["body"])
        body["detail"]["mail"]["tags"]["message"] = [links.pixel.split(".")[1]]
        record["body"] = json.dumps(body)
    assert invoke(load_function("ses_events").handler, ses)["batchItemFailures"] == []
    # Then the shop hears of each on the bus, from the engine, naming the customer
    mirrored = [
        (e["DetailType"], json.loads(e["Detail"])) for e in bus_entries if e["DetailType"].startswith("Customer")
    ]
    assert [(t, d["customer_id"]) for t, d in mirrored] == [
        ("CustomerUnsubscribed", cid),
        ("CustomerSuppressed", cid),
        ("CustomerSuppressed", cid),
    ]
    assert [d["reason"] for t, d in mirrored[1:]] == ["bounced", "complained"]
    assert {e["Source"] for e in bus_entries} == {"retention.engine"}
