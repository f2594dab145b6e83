"""order_ingest under hostile records: each fails alone, with its reason in the log, and none can
poison a profile (an order from the future) or escape the record handler (overflow, recursion)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from factories import envelope, order_detail, sqs_record

from retention import clock
from retention.settings import settings
from retention.store.customers import CustomerStore
from retention_tools.local.runtime import invoke, load_function

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


_record = sqs_record


def _order(message_id: str, **detail: object) -> dict:
    return _record(message_id, json.dumps(envelope("OrderPlaced", order_detail(**detail), event_id=f"e-{message_id}")))


def _ingest(*records: dict) -> set[str]:
    """The ids of the records that failed."""
    with clock.frozen_at(NOW):
        response = invoke(load_function("order_ingest").handler, {"Records": list(records)})
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


def _reasons(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """Each failed record's logged reason, by message id (the function's structured log fields)."""
    return {r.message_id: r.reason for r in caplog.records if hasattr(r, "reason") and hasattr(r, "message_id")}


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_an_order_from_the_future_is_refused_and_later_real_orders_still_update_the_email(aws, caplog) -> None:
    # Given a customer's first order, then one dated 2100 with another address
    assert _ingest(_order("m1", order_id="O1", placed_at=NOW - timedelta(days=30), email="old@example.com")) == set()
    future = _order("m2", order_id="O2", placed_at="2100-01-01T00:00:00Z", email="future@example.com")
    far = _order("m3", order_id="O3", placed_at=NOW + timedelta(days=400), email="future@example.com")
    # When they are ingested, then both fail alone with a reason naming the date
    assert _ingest(future, far) == {"m2", "m3"}
    reasons = _reasons(caplog)
    assert reasons["m2"].startswith("detail.placed_at 2100-01-01T00:00:00+00:00 is more than 1 day")
    assert reasons["m3"].startswith("detail.placed_at 2027-07-06")
    # And a real order placed now still makes its address the customer's latest
    placed = NOW - timedelta(hours=1)
    assert _ingest(_order("m4", order_id="O4", placed_at=placed, email="new@example.com")) == set()
    profile = CustomerStore(settings().customers_table).get_profile("C1")
    assert (profile.email, profile.order_count, profile.last_order_at) == ("new@example.com", 2, placed)


def test_the_clock_skew_allowed_is_a_setting(aws, monkeypatch, fresh_settings) -> None:
    soon = NOW + timedelta(hours=2)
    assert _ingest(_order("m1", order_id="O1", placed_at=soon)) == set()  # within the default day
    monkeypatch.setenv("MAX_CLOCK_SKEW_SECONDS", "3600")
    settings.cache_clear()
    assert _ingest(_order("m2", order_id="O2", placed_at=soon)) == {"m2"}


def test_end_of_time_deep_nesting_and_huge_numbers_fail_alone_with_reasons(aws, caplog) -> None:
    # Given a batch with a good order and three records that used to escape the handler
    deep = '{"detail":' * 5000 + "{}" + "}" * 5000
    batch = [
        _order("good", order_id="O1", placed_at=NOW - timedelta(days=1)),
        _order("end-of-time", order_id="O2", placed_at="9999-12-31T23:59:59Z"),
        _record("deep", deep),
        _record("digits", '{"id": ' + "9" * 5000 + "}"),
        _record("no-utc", json.dumps(envelope("OrderPlaced", order_detail(placed_at="9999-12-31T23:00:00-12:00")))),
    ]
    # When ingested, then only the four fail, each with its reason in the log
    assert _ingest(*batch) == {"end-of-time", "deep", "digits", "no-utc"}
    reasons = _reasons(caplog)
    assert reasons["end-of-time"].startswith("detail.placed_at 9999-12-31T23:59:59+00:00 is more than 1 day ahead")
    assert reasons["deep"] == "body nests deeper than 32 levels"
    assert reasons["digits"] == "body is not usable JSON (ValueError)"
    assert "out of range in UTC" in reasons["no-utc"]
    assert CustomerStore(settings().customers_table).get_profile("C1").order_count == 1


def test_any_unexpected_failure_fails_only_its_record_with_a_reason(aws, caplog, monkeypatch) -> None:
    # Given the apply step breaks in a way nobody foresaw, for one customer only
    function = load_function("order_ingest")
    real_apply = function.apply_shop_event

    def breaks_for_c2(event, *args, **kwargs):
        if event.detail.customer_id == "C2":
            raise KeyError("c2@example.com")
        return real_apply(event, *args, **kwargs)

    monkeypatch.setattr(function, "apply_shop_event", breaks_for_c2)
    # When a batch with both customers is ingested
    failed = _ingest(_order("m1", customer_id="C1", order_id="O1"), _order("m2", customer_id="C2", order_id="O2"))
    # Then C2's record fails alone, is retried (not refused), and the log says why without its data
    assert failed == {"m2"}
    assert _reasons(caplog)["m2"] == "KeyError while processing the record"
    assert [r.levelname for r in caplog.records if r.getMessage() == "shop event failed"] == ["ERROR"]
    assert CustomerStore(settings().customers_table).get_profile("C1").order_count == 1
