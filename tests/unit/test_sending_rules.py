"""Pure pieces of sending: the rate limiter, message ids, coupon codes, engine-event parsing."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from retention.journeys.definitions import load_journeys
from retention.journeys.rules import message_id_for, new_coupon_code, triggered_by
from retention.mail.ses import RateLimiter
from retention.mail.signing import MESSAGE_ID
from retention.models.engine_events import JourneyEventAdapter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_paces_to_the_rate_after_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=4, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.acquire()
    assert clock.slept[:1] == [pytest.approx(0.25)]
    assert len(clock.slept) == 8  # the first two were the burst
    assert clock.now - 100.0 == pytest.approx(8 / 4)  # then four per second


def test_rate_limiter_refills_while_idle_up_to_the_burst_only() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock, sleep=clock.sleep)
    clock.now += 60
    for _ in range(3):
        assert limiter.acquire() == 0
    assert limiter.acquire() == pytest.approx(0.5)


def test_rate_limiter_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)


def test_message_ids_are_deterministic_distinct_and_valid_in_links() -> None:
    first = message_id_for("C1", "winback", 1, "miss_you")
    assert first == message_id_for("C1", "winback", 1, "miss_you")
    others = {
        message_id_for("C1", "winback", 2, "miss_you"),
        message_id_for("C1", "winback", 1, "feedback"),
        message_id_for("C2", "winback", 1, "miss_you"),
        message_id_for("C1", "referral", 1, "miss_you"),
    }
    assert first not in others and len(others) == 4
    assert MESSAGE_ID.match(first)


def test_coupon_codes_are_unambiguous_and_unique() -> None:
    codes = {new_coupon_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(re.fullmatch(r"[A-HJKMNP-TV-Z2-9]{5}-[A-HJKMNP-TV-Z2-9]{5}", code) for code in codes)


def _event(detail_type: str, detail: dict) -> dict:
    return {
        "version": "0",
        "id": "e1",
        "detail-type": detail_type,
        "source": "retention.engine",
        "time": "2026-05-01T10:00:00Z",
        "detail": detail,
    }


def test_engine_events_parse_and_name_their_trigger() -> None:
    timer = JourneyEventAdapter.validate_python(
        _event(
            "TimerFired",
            {
                "customer_id": "C1",
                "kind": "coupon_expiry:ABCDE-FGHJK",
                "due_at": "2026-05-01T09:00:00Z",
                "payload": {"code": "ABCDE-FGHJK"},
                "fired_at": "2026-05-01T10:00:00Z",
            },
        )
    )
    assert timer.timer_family == "coupon_expiry"
    assert timer.trigger_key == "timer:coupon_expiry:ABCDE-FGHJK:2026-05-01T09:00:00+00:00"
    journeys = load_journeys().journeys
    assert triggered_by(journeys["coupon_reminder"], timer.detail_type, timer.timer_family, timer.labels)
    assert not triggered_by(journeys["birthday"], timer.detail_type, timer.timer_family, timer.labels)

    change = JourneyEventAdapter.validate_python(
        _event(
            "SegmentChanged",
            {
                "customer_id": "C1",
                "from_lifecycle": "active",
                "to_lifecycle": "vip",
                "changed_at": "2026-05-01T10:00:00Z",
            },
        )
    )
    assert triggered_by(journeys["vip"], change.detail_type, None, change.labels)
    assert not triggered_by(journeys["referral"], change.detail_type, None, change.labels)


@pytest.mark.parametrize(
    "body",
    [
        _event(
            "TimerFired",
            {
                "customer_id": "C1",
                "kind": "Journey:x y",
                "due_at": "2026-05-01T09:00:00Z",
                "fired_at": "2026-05-01T10:00:00Z",
            },
        ),
        _event("SegmentChanged", {"customer_id": "C1", "to_lifecycle": "VIP!", "changed_at": "2026-05-01T10:00:00Z"}),
        _event(
            "OrderPlaced",
            {"customer_id": "C1", "order_id": "O1", "placed_at": "2026-05-01", "currency": "EUR", "total": "1"},
        ),
        _event("CustomerRegistered", {"customer_id": "../../etc", "registered_at": "2026-05-01T10:00:00Z"}),
        {
            **_event("CustomerRegistered", {"customer_id": "C1", "registered_at": "2026-05-01T10:00:00Z"}),
            "source": "shop.orders",
        },
        _event("SomethingElse", {"customer_id": "C1"}),
    ],
)
def test_malformed_engine_events_are_refused_with_a_reason(body: dict) -> None:
    with pytest.raises(ValidationError):
        JourneyEventAdapter.validate_python(json.loads(json.dumps(body)))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("anna@example.com", "anna@example.com"),
        ("anna@bücher.example", "anna@xn--bcher-kva.example"),
        ("ömer@example.com", None),  # SES has no SMTPUTF8: a non-ASCII local part cannot be sent
        ("", None),
        (None, None),
    ],
)
def test_deliverable_address(address: str | None, expected: str | None) -> None:
    from retention.mail.addresses import deliverable_address

    assert deliverable_address(address) == expected
