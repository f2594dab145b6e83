"""The dispatcher Lambda with its sample event (events/journey_dispatch.sqs.json) and its wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import load_event
from journey_helpers import World, recipient_of, seed_contact

from retention import clock
from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.models.engine_events import JOURNEY_DETAIL_TYPES
from retention.models.messaging import ContactState, NpsAnswer
from retention_tools.local.template import load_template

AT = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
SAMPLE_SURVEY = "5f0c2a9e8d7b6a5f4e3d2c1b0a998877"  # the survey events/journey_dispatch_nps.sqs.json names


def test_sample_event_enters_journeys_and_sends_once(aws, lambda_context) -> None:
    # the samples are dated 14 and 15 March: ingest on the 14th, the registration within the clock skew
    with clock.frozen_at(datetime(2026, 3, 14, 18, 5, tzinfo=UTC)):
        from retention_tools.local.runtime import load_function

        ingest = load_function("order_ingest").handler(load_event("order_ingest.sqs"), lambda_context)
    assert ingest["batchItemFailures"] == []
    world = World()
    handler = world.handler
    with clock.frozen_at(AT):
        first = handler(load_event("journey_dispatch.sqs"), lambda_context)
        again = handler(load_event("journey_dispatch.sqs"), lambda_context)
    assert first["batchItemFailures"] == [] and again["batchItemFailures"] == []

    share = load_journeys().frequency.holdout_share
    expected = []
    if not in_holdout("C000042", "post_purchase", share):
        expected.append("post_purchase_thanks")
    if not in_holdout("C000042", "winback", share):
        expected.append("winback_miss_you")
    sent = [m["X-Retention-Template"] for m in world.mail() if recipient_of(m) == "aysel.aliyeva@example.com"]
    assert sorted(sent) == sorted(expected)
    assert expected  # the sample customer is outside at least one hold-out group


def test_dispatcher_wiring_in_the_template() -> None:
    resources = load_template()["Resources"]
    function = resources["JourneyDispatchFunction"]["Properties"]
    source = function["Events"]["JourneyEvents"]["Properties"]
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    rule = resources["JourneyEventsRule"]["Properties"]["EventPattern"]
    assert rule["source"] == ["retention.engine"]
    assert set(rule["detail-type"]) == set(JOURNEY_DETAIL_TYPES)  # every event the dispatcher parses, no other
    queue = resources["JourneyQueue"]["Properties"]["RedrivePolicy"]
    assert queue["maxReceiveCount"] == 3
    policies = function["Policies"]
    secret_policies = [p for p in policies if isinstance(p, dict) and "AWSSecretsManagerGetSecretValuePolicy" in p]
    assert secret_policies == [{"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "LinkSigningKeys"}}}]
    ses_statements = [s for p in policies if isinstance(p, dict) and "Statement" in p for s in p["Statement"]]
    send = next(s for s in ses_statements if "ses:SendRawEmail" in s["Action"])
    assert all("identity/*" not in str(resource) for resource in send["Resource"])
    others = [
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function" and name != "JourneyDispatchFunction"
    ]
    for name in others:  # only the dispatcher sends email; only it and the tracking API read the signing keys
        text = str(resources[name]["Properties"].get("Policies", []))
        assert "ses:" not in text, name
        assert "LinkSigningKeys" not in text or name == "TrackingFunction", name


def test_the_sample_nps_event_makes_the_promoter_a_referral_candidate(aws, lambda_context) -> None:
    # Given the sample customer's order (events/order_ingest.sqs.json) and their score of 9
    from retention_tools.local.runtime import load_function

    with clock.frozen_at(datetime(2026, 3, 14, 18, 5, tzinfo=UTC)):
        assert (
            load_function("order_ingest").handler(load_event("order_ingest.sqs"), lambda_context)["batchItemFailures"]
            == []
        )
    world = World()
    answered = datetime(2026, 3, 15, 9, 12, tzinfo=UTC)
    score = NpsAnswer(score=9, message_id=SAMPLE_SURVEY, sent_at=answered - timedelta(days=1), at=answered)
    seed_contact(world.table, ContactState(customer_id="C000042", nps=score))  # what the tracking API stored
    # When the NpsAnswered sample arrives twice (at-least-once delivery)
    with clock.frozen_at(AT):
        for _ in range(2):
            assert world.handler(load_event("journey_dispatch_nps.sqs"), lambda_context)["batchItemFailures"] == []
    # Then the referral journey has one cycle for it, started by the score (a new customer, not loyal)
    state = world.store.snapshot("C000042", ["referral"]).states["referral"]
    assert (state.cycle, state.trigger_key) == (1, f"nps:{SAMPLE_SURVEY}")
