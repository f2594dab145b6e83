"""Journeys end to end on the embedded AWS: the right email, once, never to someone who said no."""

from __future__ import annotations

import itertools
import types
from collections.abc import Iterator
from datetime import timedelta

import botocore.endpoint
import pytest
from factories import T0
from journey_helpers import RawEngineEvent, World, seed_contact

from retention.journeys.definitions import load_journeys
from retention.journeys.rules import choose_variant, in_holdout, message_id_for
from retention.models.consent import Purpose
from retention.models.messaging import ContactState, JourneyStatus, SentEntry, Suppression
from retention.store.timers import TimerStore
from retention_tools.local.embedded import EmbeddedAws, faults
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
WINBACK_START = T0 + timedelta(days=90)  # a Sunday; 13:00 in Berlin


def _treated(prefix: str, journey: str = "winback", count: int = 1) -> list[str]:
    """Customer ids outside the journey's hold-out group (the hash decides, so tests pick ids)."""
    share = load_journeys().frequency.holdout_share
    ids = (f"{prefix}{n}" for n in range(1000))
    return [cid for cid in ids if not in_holdout(cid, journey, share)][:count]


def _holdout(prefix: str, journey: str = "winback") -> str:
    share = load_journeys().frequency.holdout_share
    return next(f"{prefix}{n}" for n in range(1000) if in_holdout(f"{prefix}{n}", journey, share))


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    # Day-wide timer buckets: these tests sweep once per simulated day, like the demo.
    with EmbeddedAws(stage=f"j{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def _start_winback(world: World, *customer_ids: str) -> None:
    for cid in customer_ids:
        world.order(cid, T0)
    world.drop_pending()  # these tests are about the win-back, not the post-purchase emails
    for cid in customer_ids:
        world.inactive(cid, WINBACK_START)


def test_every_event_delivered_twice_sends_each_email_once(world: World) -> None:
    (cid,) = _treated("TWICE")
    world.order(cid, T0)
    assert world.deliver(T0 + timedelta(hours=1), times=2)["batchItemFailures"] == []
    world.run_days(T0, 16)  # post-purchase thanks (day 1) and review request (day 14)
    world.inactive(cid, WINBACK_START)
    world.deliver(WINBACK_START, times=2)
    for day in range(1, 20):
        world.sweep(WINBACK_START + timedelta(days=day), times=2)

    templates = world.templates_to(cid)
    assert templates.count("post_purchase_thanks") == 1
    assert templates.count("review_request") == 1
    assert templates.count("winback_miss_you") == 1
    assert templates.count("winback_feedback") == 1
    assert len([t for t in templates if t.startswith("winback_incentive")]) == 1
    assert len(templates) == 5
    ids = [m["X-Retention-Message-Id"] for m in world.mail_to(cid)]
    assert len(set(ids)) == len(ids)
    assert world.failures == []


def test_unsubscribe_between_step_one_and_two_stops_step_two(world: World) -> None:
    (cid,) = _treated("UNSUB")
    _start_winback(world, cid)
    world.deliver(WINBACK_START)
    assert world.templates_to(cid) == ["winback_miss_you"]

    world.store.suppress(cid, Suppression.UNSUBSCRIBED, WINBACK_START + timedelta(days=2))
    for day in range(1, 20):
        world.sweep(WINBACK_START + timedelta(days=day))

    assert world.templates_to(cid) == ["winback_miss_you"]
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert state.status is JourneyStatus.EXITED
    assert state.exit_reason == "unsubscribed"
    assert TimerStore(world.table).get(cid, "journey:winback") is None


def test_an_order_during_the_winback_exits_it(world: World) -> None:
    (cid,) = _treated("EXIT")
    _start_winback(world, cid)
    world.deliver(WINBACK_START)
    world.order(cid, WINBACK_START + timedelta(days=3))
    world.deliver(WINBACK_START + timedelta(days=3, minutes=1))
    for day in range(4, 25):
        world.sweep(WINBACK_START + timedelta(days=day))

    winback = [t for t in world.templates_to(cid) if t.startswith("winback")]
    assert winback == ["winback_miss_you"]
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert (state.status, state.exit_reason) == (JourneyStatus.EXITED, "ordered")
    assert len(state.converted_orders) == 1  # the order is counted for the journey it ended
    assert TimerStore(world.table).get(cid, "journey:winback") is None


def test_quiet_hours_defer_to_the_morning_in_the_customers_zone(world: World) -> None:
    (cid,) = _treated("QUIET")
    world.order(cid, T0, time_zone="America/New_York")
    world.drop_pending()
    evening_in_new_york = WINBACK_START.replace(hour=3)  # 23:00 the evening before in New York (EDT)
    world.inactive(cid, evening_in_new_york)
    world.deliver(evening_in_new_york)
    assert world.templates_to(cid) == []

    timer = TimerStore(world.table).get(cid, "journey:winback")
    assert timer is not None
    assert timer.due_at == evening_in_new_york.replace(hour=12)  # 08:00 in New York
    world.sweep(evening_in_new_york.replace(hour=11, minute=59))
    assert world.templates_to(cid) == []
    world.sweep(evening_in_new_york.replace(hour=12, minute=15))
    assert world.templates_to(cid) == ["winback_miss_you"]


def test_frequency_cap_defers_until_the_oldest_email_leaves_the_week(world: World) -> None:
    (cid,) = _treated("CAP")
    _start_winback(world, cid)
    rules = load_journeys().frequency
    recent = [WINBACK_START - timedelta(days=5), WINBACK_START - timedelta(days=3)]
    assert rules.max_per_7_days == len(recent)
    contact = ContactState(
        customer_id=cid,
        sends=[SentEntry(message_id=f"earlier{n}", at=at, kind="content") for n, at in enumerate(recent)],
    )
    seed_contact(world.table, contact)

    world.deliver(WINBACK_START)
    assert world.templates_to(cid) == []
    timer = TimerStore(world.table).get(cid, "journey:winback")
    assert timer is not None and timer.due_at == recent[0] + timedelta(days=7)

    world.sweep(recent[0] + timedelta(days=7, minutes=15))
    assert world.templates_to(cid) == ["winback_miss_you"]


def test_service_steps_are_exempt_from_the_cap_only_when_configured(world: World) -> None:
    (cid,) = _treated("EXEMPT", journey="post_purchase")
    contact = ContactState(
        customer_id=cid,
        sends=[SentEntry(message_id=f"e{n}", at=T0 - timedelta(hours=n + 1), kind="content") for n in range(2)],
    )
    seed_contact(world.table, contact)
    world.order(cid, T0)
    world.deliver(T0)
    world.run_days(T0, 2)
    assert load_journeys().journeys["post_purchase"].steps[0].purpose is Purpose.SERVICE
    assert world.templates_to(cid) == ["post_purchase_thanks"]


def test_a_regular_buyer_gets_every_thanks_but_one_review_request_in_ninety_days(world: World) -> None:
    # Given a customer who orders every five weeks (the post-purchase journey re-enters after 30 days)
    (cid,) = _treated("REVIEWS", journey="post_purchase")
    for order in range(3):
        at = T0 + timedelta(days=35 * order)
        world.order(cid, at)
        world.deliver(at)
        world.run_days(at, 20)
    # Then each order is thanked, but only the first review request goes out within 90 days
    sent = world.templates_to(cid)
    assert sent.count("post_purchase_thanks") == 3
    assert sent.count("review_request") == 1
    assert world.store.contact(cid).last_review_request_at is not None


def test_holdout_customers_get_nothing_and_their_orders_are_counted(world: World) -> None:
    cid = _holdout("HOLD")
    _start_winback(world, cid)
    world.deliver(WINBACK_START)
    for day in range(1, 20):
        world.sweep(WINBACK_START + timedelta(days=day))
    assert world.templates_to(cid) == []
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert state.status is JourneyStatus.HOLDOUT

    world.order(cid, WINBACK_START + timedelta(days=21), total="42.50")
    world.deliver(WINBACK_START + timedelta(days=21))
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert state.status is JourneyStatus.HOLDOUT
    assert len(state.converted_orders) == 1
    assert str(state.converted_revenue) == "42.50"


def test_ab_split_is_deterministic_and_follows_the_assignment(world: World) -> None:
    customers = _treated("AB", count=12)
    step = load_journeys().journeys["winback"].steps[2]
    _start_winback(world, *customers)
    world.deliver(WINBACK_START)
    for day in range(1, 19):
        world.sweep(WINBACK_START + timedelta(days=day))

    seen = {}
    for cid in customers:
        incentive = [t for t in world.templates_to(cid) if t.startswith("winback_incentive")]
        assert incentive == [choose_variant(cid, "winback", step).template]
        seen[cid] = incentive[0]
    assert set(seen.values()) == {"winback_incentive", "winback_incentive_short"}


def test_ses_throttling_is_retried_and_nothing_is_lost_or_doubled(world: World, monkeypatch) -> None:
    customers = _treated("THROTTLE", count=3)
    _start_winback(world, *customers)
    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=waits.append))
    throttled = {"left": 3}

    def throttle(event_name, request):
        if event_name == "before-send.sesv2.SendEmail" and throttled["left"] > 0:
            throttled["left"] -= 1
            return _throttling_response()
        return None

    with faults(throttle):  # answered by the emulator before SES would act
        assert world.deliver(WINBACK_START)["batchItemFailures"] == []
        assert len(waits) == 3  # botocore backed off and retried

        throttled["left"] = 10**6  # now SES throttles beyond every retry
        cid = customers[0]
        world.sweep(WINBACK_START + timedelta(days=7))
        assert len(world.failures) == 3  # each record fails alone and goes back to the queue
        assert [t for t in world.templates_to(cid) if t == "winback_feedback"] == []
        snapshot = world.store.snapshot(cid, ["winback"])
        assert all(
            entry.message_id != message_id_for(cid, "winback", 1, "feedback") for entry in snapshot.contact.sends
        )

        throttled["left"] = 0  # SES recovers; SQS delivers the failed records again
        world.deliver(WINBACK_START + timedelta(days=7, minutes=5))
        world.deliver(WINBACK_START + timedelta(days=7, minutes=10))
    for cid in customers:
        assert world.templates_to(cid) == ["winback_miss_you", "winback_feedback"]


def _throttling_response():
    from botocore.awsrequest import AWSResponse

    body = b'{"message":"Maximum sending rate exceeded."}'
    headers = {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
    response = AWSResponse("https://email.eu-west-1.amazonaws.com", 429, headers, types.SimpleNamespace())
    response._content = body
    return response


def test_coupon_is_issued_reminded_before_expiry_and_redeemed_by_an_order(world: World) -> None:
    first, second = _treated("COUPON", count=2)
    _start_winback(world, first, second)
    world.deliver(WINBACK_START)
    for day in range(1, 19):
        world.sweep(WINBACK_START + timedelta(days=day))
    code = {
        cid: world.store.send_record(message_id_for(cid, "winback", 1, "incentive")).coupon_code
        for cid in (first, second)
    }
    assert all(code.values()) and code[first] != code[second]
    sent_day = WINBACK_START + timedelta(days=18)
    incentive = next(m for m in world.mail_to(first) if m["X-Retention-Template"].startswith("winback_incentive"))
    assert code[first] in incentive.get_payload(0).get_payload(decode=True).decode()

    # The second customer orders with the code: redeemed, and no reminder.
    world.order(second, sent_day + timedelta(days=2), coupon_code=code[second])
    world.deliver(sent_day + timedelta(days=2))
    assert TimerStore(world.table).get(second, f"coupon_expiry:{code[second]}") is None

    reminder = TimerStore(world.table).get(first, f"coupon_expiry:{code[first]}")
    assert reminder is not None and reminder.due_at.date() == (sent_day + timedelta(days=21 - 7)).date()
    world.sweep(reminder.due_at + timedelta(hours=1), times=2)
    reminders = [m for m in world.mail_to(first) if m["X-Retention-Template"] == "coupon_expiry_reminder"]
    assert len(reminders) == 1
    assert code[first] in reminders[0].get_payload(0).get_payload(decode=True).decode()
    assert [t for t in world.templates_to(second) if t == "coupon_expiry_reminder"] == []


def test_sunset_after_too_many_unopened_emails(world: World) -> None:
    (cid,) = _treated("SUNSET")
    _start_winback(world, cid)
    rules = load_journeys().frequency
    unopened = [
        SentEntry(message_id=f"unopened{n}", at=WINBACK_START - timedelta(days=10 + n), kind="content")
        for n in range(rules.sunset_after_unopened)
    ]
    seed_contact(world.table, ContactState(customer_id=cid, sends=unopened))
    world.deliver(WINBACK_START)
    assert world.templates_to(cid) == []
    assert world.store.contact(cid).suppressed is Suppression.SUNSET


def test_a_malformed_engine_event_fails_alone(world: World) -> None:
    (cid,) = _treated("BAD")
    _start_winback(world, cid)
    good = world.pending[0]
    world.pending.append(RawEngineEvent("CustomerInactive", {"customer_id": "", "fired_at": "yesterday"}, good.time))
    response = world.deliver(WINBACK_START)
    assert len(response["batchItemFailures"]) == 1
    assert world.templates_to(cid) == ["winback_miss_you"]


def test_events_lost_after_commit_are_published_again_by_the_duplicate(world: World) -> None:
    from factories import envelope, order_detail

    from retention.ingest import apply_shop_event
    from retention.models.events import ShopEventAdapter
    from retention.store.bus import PublishFailed
    from retention.store.customers import CustomerStore

    (cid,) = _treated("LOST", journey="post_purchase")
    raw = envelope("OrderPlaced", order_detail(order_id="L1", customer_id=cid, placed_at=T0), event_id="e-L1")

    def refuse(events):
        raise PublishFailed("EventBridge rejected 2 entries")

    with pytest.raises(PublishFailed):
        apply_shop_event(ShopEventAdapter.validate_python(raw), CustomerStore(world.table), publish=refuse)
    # SQS delivers the message again: a duplicate, whose marker still holds the unpublished events
    apply_shop_event(ShopEventAdapter.validate_python(raw), CustomerStore(world.table), publish=world._collect)
    assert [e.detail_type for e in world.pending] == ["SegmentChanged", "OrderApplied"]
    world.deliver(T0 + timedelta(minutes=1))
    world.run_days(T0, 2)
    assert world.templates_to(cid) == ["post_purchase_thanks"]
