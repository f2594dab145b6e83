"""order_ingest against the embedded AWS: tables from template.yaml, sample events from events/."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from conftest import load_event
from factories import T0, envelope, order_detail, sqs_record

from retention import clock
from retention.settings import settings
from retention.store.customers import CustomerStore
from retention_tools.local.history import generate_history
from retention_tools.local.replay import queue_depth, replay
from retention_tools.local.runtime import QueueDriver, invoke, load_function, put_events


def _sqs_batch(bodies: list[dict]) -> dict:
    return {"Records": [sqs_record(f"m-{n}", json.dumps(body)) for n, body in enumerate(bodies)]}


def _store() -> CustomerStore:
    return CustomerStore(settings().customers_table)


def test_sample_batch_builds_profiles_and_referral(aws, lambda_context):
    # Given the sample SQS batch of events/ (an order, a registration, a referral)
    handler = load_function("order_ingest").handler
    # When the handler processes it
    with clock.frozen_at(T0 + timedelta(days=16)):  # the day after the samples
        response = handler(load_event("order_ingest.sqs"), lambda_context)
    # Then nothing failed and both customers' profiles exist and are linked
    assert response == {"batchItemFailures": []}
    referrer, referred = _store().get_profile("C000042"), _store().get_profile("C000043")
    assert referrer.order_count == 1
    assert str(referrer.total_spent) == "53.40"
    assert referrer.referrals == ["C000043"]
    assert referred.referred_by == "C000042"
    assert referred.registered_at is not None


def test_batch_with_one_malformed_message_fails_only_that_message(aws, lambda_context):
    event = load_event("order_ingest_with_malformed.sqs")
    bad_id = event["Records"][1]["messageId"]
    response = invoke(load_function("order_ingest").handler, event)
    assert response == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
    assert _store().get_profile("C000042").order_count == 1
    assert _store().get_profile("C000043") is not None
    assert _store().get_profile("C000044") is None


def test_entirely_bad_batch_reports_every_item_instead_of_raising(aws, lambda_context):
    response = load_function("order_ingest").handler(_sqs_batch([{"x": 1}, "not an event"]), lambda_context)
    assert {item["itemIdentifier"] for item in response["batchItemFailures"]} == {"m-0", "m-1"}


def test_non_json_body_fails_alone(aws, lambda_context):
    batch = _sqs_batch([envelope("OrderPlaced", order_detail())])
    batch["Records"].append({**batch["Records"][0], "messageId": "m-bad", "body": "{not json"})
    response = load_function("order_ingest").handler(batch, lambda_context)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}


def test_each_order_delivered_three_times_gives_the_profile_of_one_delivery(moto_account):
    # Given the same order history, delivered once to one stage and 1-3 times shuffled to another
    from retention_tools.local.embedded import EmbeddedAws

    orders = [
        envelope(
            "OrderPlaced",
            order_detail(order_id=f"O{n}", placed_at=T0 + timedelta(days=3 * n), total=f"{n + 5}.50"),
            f"e{n}",
        )
        for n in range(12)
    ]
    rng = random.Random(3)
    deliveries = [o for o in orders for _ in range(3)]
    rng.shuffle(deliveries)

    def run(stage: str, bodies: list[dict]) -> dict:
        with EmbeddedAws(stage=stage, shared=True), clock.frozen_at(T0 + timedelta(days=60)):
            handler = load_function("order_ingest").handler
            for start in range(0, len(bodies), 10):
                assert invoke(handler, _sqs_batch(bodies[start : start + 10])) == {"batchItemFailures": []}
            return _store().get_profile("C1").model_dump()

    once = run("once", orders)
    thrice = run("thrice", deliveries)
    # Then the profiles are identical, field for field
    assert thrice == once
    assert once["order_count"] == 12


def test_lost_optimistic_lock_is_retried_and_applied_once(aws, lambda_context, monkeypatch):
    # Given another writer bumps the profile between our read and our write, once
    handler = load_function("order_ingest").handler
    handler(_sqs_batch([envelope("OrderPlaced", order_detail(order_id="O1"))]), lambda_context)
    store_cls = CustomerStore
    original_apply = store_cls.apply
    interfered = []

    def apply_with_interference(self, marker, writes, extra=()):
        if not interfered:
            interfered.append(True)
            concurrent = order_detail(order_id="O-concurrent", placed_at=T0 + timedelta(days=1))
            original_get = store_cls.get_profile
            from retention.ingest import apply_shop_event
            from retention.models.events import ShopEventAdapter

            monkeypatch.setattr(store_cls, "apply", original_apply)
            apply_shop_event(ShopEventAdapter.validate_python(envelope("OrderPlaced", concurrent, "c")), self)
            monkeypatch.setattr(store_cls, "apply", apply_with_interference)
            assert original_get(self, "C1").order_count == 2
        return original_apply(self, marker, writes, extra)

    monkeypatch.setattr(store_cls, "apply", apply_with_interference)
    # When our order is applied
    response = handler(
        _sqs_batch([envelope("OrderPlaced", order_detail(order_id="O2", placed_at=T0 + timedelta(days=2)))]),
        lambda_context,
    )
    # Then it is retried against the fresh profile: all three orders counted exactly once
    assert response == {"batchItemFailures": []}
    assert _store().get_profile("C1").order_count == 3


def test_bus_rule_queue_and_dead_letter_queue_from_the_template(aws):
    # Given a good and a malformed event published to the bus
    good = order_detail()
    bad = order_detail(order_id="O2", email="nope")
    with clock.frozen_at(T0):
        put_events(
            aws,
            [("shop.orders", "OrderPlaced", good, T0), ("shop.orders", "OrderPlaced", bad, T0)],
            aws.resources.buses["RetentionBus"],
        )
        # When the queue is drained the way the SQS event source would
        QueueDriver(aws, "IngestQueue", "order_ingest").drain()
    # Then the good one is applied and the bad one waits in the DLQ after maxReceiveCount tries
    assert _store().get_profile("C1").order_count == 1
    assert queue_depth(aws, "IngestQueue") == 0
    assert queue_depth(aws, "IngestDeadLetterQueue") == 1


def test_raw_eventbridge_samples_parse_and_apply(aws, lambda_context):
    # The events/*.eventbridge.json samples are what the rule delivers as SQS bodies.
    samples = ("order_placed.eventbridge", "customer_registered.eventbridge", "customer_referred.eventbridge")
    bodies = [load_event(name) for name in samples]
    assert invoke(load_function("order_ingest").handler, _sqs_batch(bodies)) == {"batchItemFailures": []}
    assert _store().get_profile("C000042").referrals == ["C000043"]


def test_events_from_other_sources_are_not_routed_to_the_queue(aws):
    put_events(aws, [("someone.else", "OrderPlaced", order_detail(), T0)], aws.resources.buses["RetentionBus"])
    assert queue_depth(aws, "IngestQueue") == 0


def test_replay_with_redeliveries_counts_each_order_once(aws):
    events = generate_history(customers=40, seed=5)
    orders = sum(1 for e in events if e.detail_type == "OrderPlaced")
    totals = {e.detail["order_id"]: e.detail["total"] for e in events if e.detail_type == "OrderPlaced"}
    cancelled = sum(1 for e in events if e.detail_type == "OrderCancelled")
    refunded_in_full = sum(
        1 for e in events if e.detail_type == "OrderRefunded" and e.detail["amount"] == totals[e.detail["order_id"]]
    )
    stats = replay(aws, events, redeliver_share=0.5, seed=2)
    profiles = list(_store().scan_profiles())
    assert stats.redelivered > 0
    # every order counted once, less those cancelled or refunded in full (each once, however often delivered)
    assert cancelled and refunded_in_full
    assert sum(p.order_count for p in profiles) == orders - cancelled - refunded_in_full
    assert sum(p.refunds for p in profiles) == sum(1 for e in events if e.detail_type == "OrderRefunded")
    assert stats.dead_lettered == 0
