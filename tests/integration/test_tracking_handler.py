"""The tracking, SES-events and journey-health functions: sample events, wiring in template.yaml."""

from __future__ import annotations

from datetime import timedelta

from conftest import load_event
from factories import T0

from retention import clock
from retention.mail.keys import key_ring
from retention.mail.signing import Purpose
from retention_tools.local.runtime import invoke, load_function
from retention_tools.local.template import load_template


def _with_token(event: dict, token: str) -> dict:
    prefix = event["rawPath"].rsplit("/", 1)[0]
    path = f"{prefix}/{token}"
    return {
        **event,
        "rawPath": path,
        "requestContext": {**event["requestContext"], "http": {**event["requestContext"]["http"], "path": path}},
    }


def test_sample_http_events_get_neutral_answers_for_a_message_that_does_not_exist(aws) -> None:
    handler = load_function("tracking").handler
    opened = invoke(handler, load_event("tracking_open.http"))
    assert opened["statusCode"] == 404 and opened["headers"]["Content-Type"] == "image/gif"
    clicked = invoke(handler, load_event("tracking_click.http"))  # signed by a key this stack lacks
    assert clicked["statusCode"] == 404 and "Location" not in clicked["headers"]
    one_click = load_event("tracking_unsubscribe.http")
    token = key_ring().sign(Purpose.UNSUBSCRIBE, "0123456789abcdef0123456789abcdef")
    answer = invoke(handler, _with_token(one_click, token))
    assert answer["statusCode"] == 404  # validly signed, but no such message was ever sent


def test_journey_health_reports_no_warning_without_mail(aws) -> None:
    with clock.frozen_at(T0 + timedelta(days=1)):
        result = invoke(load_function("journey_health").handler, load_event("journey_health.scheduled"))
    assert result["warnings"] == {}


def test_tracking_wiring_in_the_template() -> None:
    resources = load_template()["Resources"]
    tracking = resources["TrackingFunction"]["Properties"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in tracking["Events"].values()}
    assert routes == {
        ("GET", "/o/{token}"),
        ("GET", "/c/{token}"),
        ("HEAD", "/c/{token}"),
        ("GET", "/f/{token}"),
        ("HEAD", "/f/{token}"),
        ("GET", "/u/{token}"),
        ("POST", "/u/{token}"),
        ("GET", "/p/{token}"),
        ("POST", "/p/{token}"),
    }
    assert all(e["Type"] == "HttpApi" for e in tracking["Events"].values())
    destination = resources["EmailEventsDestination"]["Properties"]["EventDestination"]
    assert {"BOUNCE", "COMPLAINT", "DELIVERY"} <= set(destination["MatchingEventTypes"])
    rule = resources["SesEventsRule"]["Properties"]
    assert rule["EventBusName"] == "default" and rule["EventPattern"]["source"] == ["aws.ses"]
    ses = resources["SesEventsFunction"]["Properties"]["Events"]["SesEvents"]["Properties"]
    assert ses["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarm = resources["PushingTooHardAlarm"]["Properties"]
    assert alarm["MetricName"] == "JourneysPushingTooHard" and alarm["Namespace"] == "RetentionEngine"
    policies = resources["JourneyHealthFunction"]["Properties"]["Policies"]
    (health,) = [p for p in policies if "Statement" in p]
    assert [p for p in policies if "Statement" not in p] == [
        {"S3ReadPolicy": {"BucketName": {"Ref": "TemplatesBucket"}}}
    ]
    assert health["Statement"][0]["Action"] == ["dynamodb:Query"]  # counters only: no writes, no Scan
