"""One pass on a fresh account (issue 16): nothing to copy back from the stack's outputs into its
parameters, nothing a new account's quotas refuse, and every alarm tells someone."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from factories import T0
from journey_helpers import World, treated
from tracking_helpers import html_of, links_of

from retention import clock
from retention.mail.settings import mail_settings
from retention_tools.local import template as cfn
from retention_tools.local.embedded import REGION, EmbeddedAws
from retention_tools.local.http_api import http_api_event
from retention_tools.local.runtime import invoke, load_function
from retention_tools.local.simulation import SIMULATION_TIMERS

TEMPLATE = cfn.load_template()
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = cfn.resources_of_type(TEMPLATE, "AWS::Serverless::Function")
SENT = T0 + timedelta(days=90)
_stages = itertools.count(1)


def _mentions(value: Any, logical_id: str) -> bool:
    """Whether a template value refers to ``logical_id`` (Ref, GetAtt or inside a Sub)."""
    text = json.dumps(value)
    return any(
        needle in text
        for needle in (f'"Ref": "{logical_id}', f'"{logical_id}", "', f"${{{logical_id}}}", f"${{{logical_id}.")
    )


def test_no_function_reserves_concurrency():
    """A new account's quota is 10, all of it unreserved: reserving any fails the deploy."""
    for name, function in FUNCTIONS.items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], name


def test_no_function_behind_the_http_api_refers_to_the_api():
    """The API's routes name their functions: a function whose settings named the API would make
    the two depend on each other, and CloudFormation refuses a circular dependency."""
    apis = cfn.resources_of_type(TEMPLATE, "AWS::Serverless::HttpApi")
    assert apis
    globals_env = TEMPLATE["Globals"]["Function"].get("Environment", {})
    for api in apis:
        assert not _mentions(globals_env, api)
        behind = [
            name
            for name, function in FUNCTIONS.items()
            if any(
                e["Type"] == "HttpApi" and _mentions(e["Properties"], api)
                for e in function["Properties"]["Events"].values()
            )
        ]
        assert behind, api
        for name in behind:
            assert not _mentions(FUNCTIONS[name]["Properties"].get("Environment", {}), api), name


def test_the_dispatchers_links_are_the_apis_endpoint_or_the_custom_domain():
    value = FUNCTIONS["JourneyDispatchFunction"]["Properties"]["Environment"]["Variables"]["TRACKING_BASE_URL"]
    pseudo = {"AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com"}

    def resolved(domain: str) -> str:
        parameters = {"TrackingDomainName": domain}
        resolver = cfn.Resolver(parameters, {"TrackingApi": "abc123"}, pseudo=pseudo, conditions=TEMPLATE["Conditions"])
        return resolver.resolve(value)

    assert resolved("") == "https://abc123.execute-api.eu-west-1.amazonaws.com"
    assert resolved("track.coffee-corner.shop") == "https://track.coffee-corner.shop"
    assert TEMPLATE["Outputs"]["TrackingBaseUrl"]["Value"] == value
    mapping = RESOURCES["TrackingDomainMapping"]
    assert mapping["Condition"] == RESOURCES["TrackingDomain"]["Condition"] == "HasTrackingDomain"
    assert mapping["Properties"]["ApiId"] == {"Ref": "TrackingApi"}


def test_every_alarm_notifies_the_encrypted_alarm_topic_and_filters_on_its_stage():
    alarms = cfn.resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 4
    for name, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == properties["OKActions"] == [{"Ref": "AlarmTopic"}], name
        if properties["Namespace"] == "RetentionEngine":  # our metrics: one stage's only
            assert {"Name": "stage", "Value": {"Ref": "Stage"}} in properties["Dimensions"], name
    topic = RESOURCES["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key_policy = json.dumps(RESOURCES["AlarmTopicKey"]["Properties"]["KeyPolicy"])
    assert "cloudwatch.amazonaws.com" in key_policy and "kms:GenerateDataKey*" in key_policy
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"


def test_the_optional_sender_identity_uses_easy_dkim_and_outputs_its_records():
    identity = RESOURCES["SenderIdentity"]
    assert identity["Condition"] == "ShouldCreateSenderIdentity"
    assert "DomainSigningPrivateKey" not in json.dumps(identity)  # Easy DKIM: SES's keys
    records = [o for o in TEMPLATE["Outputs"].values() if "DkimDNSTokenName" in json.dumps(o)]
    assert len(records) == 3 and all(o["Condition"] == "ShouldCreateSenderIdentity" for o in records)


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"op{next(_stages)}", shared=True, env=SIMULATION_TIMERS) as aws:
        world = World()
        world.aws = aws  # type: ignore[attr-defined]
        yield world


def _winback(world: World, prefix: str):
    (cid,) = treated(prefix)[:1]
    world.winback_sent([cid], T0, SENT)
    (message,) = world.mail_to(cid)
    return message


def test_emails_link_to_the_tracking_apis_own_endpoint_in_the_same_deploy(world: World):
    api_id = world.aws.resources.apis["TrackingApi"]  # type: ignore[attr-defined]
    base = f"https://{api_id}.execute-api.{REGION}.amazonaws.com"
    assert world.aws.resources.environment["TRACKING_BASE_URL"] == base  # type: ignore[attr-defined]
    html = html_of(_winback(world, "BASE"))
    assert f'href="{base}/u/' in html and f'src="{base}/o/' in html


def test_the_tracking_pages_link_to_the_host_they_were_requested_on(world: World, monkeypatch):
    """Deployed, the tracking function has no TRACKING_BASE_URL (it sits behind the API)."""
    links = links_of(_winback(world, "PAGE"))
    monkeypatch.delenv("TRACKING_BASE_URL")
    mail_settings.cache_clear()
    host = "track.coffee-corner.shop"
    event = http_api_event("GET", f"/u/{links.unsubscribe}", {"User-Agent": "Mozilla/5.0"}, b"", "203.0.113.7", host)
    with clock.frozen_at(SENT + timedelta(hours=1)):
        response = invoke(load_function("tracking").handler, event)
    mail_settings.cache_clear()
    assert response["statusCode"] == 200
    assert f"https://{host}/p/" in response["body"] and f'action="https://{host}/u/' in response["body"]
