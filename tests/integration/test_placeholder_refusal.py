"""A fail-closed start: while the sender is a placeholder the dispatcher sends nothing, fails each
record that would send (to the DLQ after the queue's retries) with the reason logged and counted,
and claims nothing, so the same records send once the settings are real."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import load_event
from journey_helpers import World

from retention import clock
from retention.mail.placeholders import ALLOW_PLACEHOLDERS_ENV
from retention.observability import metrics
from retention_tools.local.runtime import load_function

AT = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)


def test_a_placeholder_sender_sends_nothing_and_fails_the_records_with_the_reason(
    aws, lambda_context, monkeypatch, caplog
):
    # Given the sample customer, ingested, and the template's default sender hello@example.com
    with clock.frozen_at(datetime(2026, 3, 14, 18, 5, tzinfo=UTC)):
        load_function("order_ingest").handler(load_event("order_ingest.sqs"), lambda_context)
    world = World()
    counted: list[str] = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, **_: counted.append(name))
    event = load_event("journey_dispatch.sqs")
    # When the dispatcher runs outside the embedded AWS's opt-out
    monkeypatch.delenv(ALLOW_PLACEHOLDERS_ENV)
    caplog.clear()
    with clock.frozen_at(AT):
        refused = world.handler(event, lambda_context)
    # Then nothing is sent, every record that would send fails, and the reason is logged and counted
    assert world.mail() == []
    failed = {item["itemIdentifier"] for item in refused["batchItemFailures"]}
    assert failed and failed <= {record["messageId"] for record in event["Records"]}
    reasons = [getattr(r, "reason", "") for r in caplog.records if r.getMessage() == "email refused"]
    assert len(reasons) == len(failed)
    assert all("SENDER_ADDRESS" in reason and "is a placeholder" in reason for reason in reasons)
    assert counted.count("PlaceholderRefusals") == len(failed)
    # and nothing was claimed: with real settings the same records send their emails
    monkeypatch.setenv(ALLOW_PLACEHOLDERS_ENV, "embedded-aws")
    with clock.frozen_at(AT):
        retried = world.handler(event, lambda_context)
    assert retried["batchItemFailures"] == []
    assert world.mail() != []
