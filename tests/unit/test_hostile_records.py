"""Hostile record bodies and dates: refused with a reason before they can crash a record handler.

* JSON nested thousands of levels deep is measured before parsing (no parser recurses on it);
* every failure maps to a one-line reason, whatever the exception;
* dates at the edge of what a datetime holds never raise ``OverflowError`` in the churn maths;
* events dated beyond the clock skew (or before 1970) are refused by ingest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from factories import T0, order, order_detail, shop_event
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from retention import churn, lifecycle, profiles
from retention.ingest import ImplausibleDate, refuse_implausible_date
from retention.models.events import OrderPlaced
from retention.segments import load_definitions
from retention.validation import MAX_JSON_DEPTH, InvalidEvent, failure_reason, load_json, nesting_depth

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n\u2028', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\ab', max_size=4), inner),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=json_values, ascii_only=st.booleans())
def test_nesting_is_measured_outside_strings_exactly(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert nesting_depth(text, stop_above=10_000) == _depth(value)
    if _depth(value) <= MAX_JSON_DEPTH:
        assert load_json(text) == value


@settings(max_examples=60, deadline=None)
@given(
    depth=st.integers(min_value=MAX_JSON_DEPTH + 1, max_value=200_000),
    opener=st.sampled_from(["[", '{"a":', '[{"b":[']),
    closed=st.booleans(),
)
def test_json_nested_too_deep_is_refused_with_a_reason_not_a_recursion_error(
    depth: int, opener: str, closed: bool
) -> None:
    closer = {"[": "]", '{"a":': "}", '[{"b":[': "]}]"}[opener]
    body = opener * depth + "1" + (closer * depth if closed else "")
    with pytest.raises(InvalidEvent, match=f"nests deeper than {MAX_JSON_DEPTH} levels"):
        load_json(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "body is not JSON"),
        ("1" * 5000, "body is not usable JSON (ValueError)"),  # more digits than int() accepts
        ('"unterminated [[[[', "body is not JSON"),
    ],
)
def test_bodies_the_parser_refuses_become_invalid_events(body: str, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason.replace("(", r"\(").replace(")", r"\)")):
        load_json(body)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RecursionError("maximum recursion depth exceeded"), "RecursionError: input nested too deeply"),
        (OverflowError("date value out of range"), "OverflowError: a date or number is out of the range"),
        (KeyError("leyla@example.com"), "KeyError while processing the record"),  # the value is not echoed
        (RuntimeError("customer leyla@example.com"), "RuntimeError while processing the record"),
        (ImplausibleDate("detail.placed_at 2100-01-01 is ahead"), "detail.placed_at 2100-01-01 is ahead"),
    ],
)
def test_every_failure_maps_to_a_reason_without_echoing_the_record(error: BaseException, reason: str) -> None:
    assert failure_reason(error).startswith(reason)
    assert "leyla@" not in failure_reason(error)


def test_a_last_order_at_the_end_of_time_has_no_expected_next_order_and_no_overflow() -> None:
    definitions = load_definitions()
    stats = lifecycle.default_stats(T0, definitions)
    end_of_time = order(order_id="O-end", placed_at="9999-12-31T23:59:59Z")
    profile = profiles.apply_order(profiles.new_profile("C1", T0), end_of_time, T0)
    profile = profiles.apply_order(profile, order(order_id="O-now", placed_at=T0), T0)
    refreshed = lifecycle.refresh(profile, T0, stats, definitions, new_version=1, rearm_inactivity=True)
    assert refreshed.profile.segment is not None
    assert refreshed.profile.segment.expected_next_order_at is None
    assert [timer.kind for timer in refreshed.timers if timer.kind == lifecycle.INACTIVITY] == []
    assert churn.days_after(T0, float("inf")) is None
    assert churn.days_after(T0, 3.0) == T0 + timedelta(days=3)


@pytest.mark.parametrize("placed_at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00"])
def test_a_timestamp_with_no_utc_equivalent_is_a_validation_error(placed_at: str) -> None:
    with pytest.raises(ValidationError, match="out of range in UTC"):
        OrderPlaced.model_validate(order_detail(placed_at=placed_at))


@pytest.mark.parametrize(
    "placed_at",
    [
        datetime(2100, 1, 1, tzinfo=UTC),
        T0 + timedelta(days=400),
        T0 + timedelta(days=1, seconds=1),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1969, 12, 31, tzinfo=UTC),
    ],
)
def test_events_dated_beyond_the_skew_or_before_1970_are_refused(placed_at: datetime) -> None:
    event = shop_event("OrderPlaced", order_detail(placed_at=placed_at))
    with pytest.raises(ImplausibleDate, match=r"detail\.placed_at"):
        refuse_implausible_date(event, T0, timedelta(days=1))


@pytest.mark.parametrize("placed_at", [T0 + timedelta(days=1), T0 + timedelta(hours=3), T0 - timedelta(days=3650)])
def test_events_within_the_skew_are_applied(placed_at: datetime) -> None:
    refuse_implausible_date(shop_event("OrderPlaced", order_detail(placed_at=placed_at)), T0, timedelta(days=1))


def test_registrations_and_referrals_are_dated_too() -> None:
    later = T0 + timedelta(days=30)
    registration = {"customer_id": "C1", "email": "a@example.com", "registered_at": later}
    registered = shop_event("CustomerRegistered", registration)
    referred = shop_event("CustomerReferred", {"referrer_id": "C1", "referred_id": "C2", "referred_at": later})
    for event, field in ((registered, "registered_at"), (referred, "referred_at")):
        with pytest.raises(ImplausibleDate, match=field):
            refuse_implausible_date(event, T0, timedelta(days=1))
