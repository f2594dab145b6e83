"""Every DynamoDB operation a function performs at run time is one its IAM statement grants.

moto does not enforce IAM, so a missing permission would only show in AWS. Here the real
handlers run a day of the engine (an order, a refund, a customer update and deletion, a
win-back email, the sweep, opens, a click, a one-click answer, an unsubscribe, SES events, the statistics job, the
health check, a shop webhook's order and refund) with a botocore hook recording each function's
DynamoDB operations (the items inside a transaction included, Query on an index noted), and the
set is compared with what template.yaml grants that function.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from conftest import load_event
from factories import T0
from journey_helpers import World
from tracking_helpers import links_of, request
from webhook_helpers import GENERIC_SENT_AT, SECRETS, sample

from retention import clock
from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.store import dynamo
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.runtime import invoke, load_function
from retention_tools.local.simulation import SIMULATION_TIMERS, scheduled_event
from retention_tools.local.template import load_template

_stages = itertools.count(1)
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


class Recorder:
    def __init__(self) -> None:
        self.current = ""
        self.used: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.current:
            return
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                self.used[self.current].add((f"dynamodb:{TRANSACT[next(iter(item))]}", "table"))
        else:
            where = f"index/{params['IndexName']}" if params.get("IndexName") else "table"
            self.used[self.current].add((f"dynamodb:{model.name}", where))

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        self.current = function
        try:
            yield
        finally:
            self.current = ""


def _granted(function: str) -> set[tuple[str, str]]:
    resource = load_template()["Resources"][function]
    granted = set()
    for policy in resource["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            where = "table"
            if "/index/" in str(statement["Resource"]):
                where = "index/" + str(statement["Resource"]).split("/index/")[1].rstrip("'\"}")
            granted |= {(a, where) for a in actions if a.startswith("dynamodb:")}
    return granted


def test_each_function_uses_only_what_it_is_granted(moto_account: None) -> None:
    recorder = Recorder()
    with EmbeddedAws(stage=f"iam{next(_stages)}", shared=True, env=SIMULATION_TIMERS) as embedded:
        dynamo.client().meta.events.register("before-parameter-build.dynamodb", recorder.hook)
        world = World()
        share = load_journeys().frequency.holdout_share
        cid = next(c for c in (f"IAM{n}" for n in range(500)) if not in_holdout(c, "winback", share))

        ingest = load_event("order_ingest.sqs")
        # the samples are dated 14 and 15 March: ingested on the 16th, within the clock skew
        with recorder.acting_as("OrderIngestFunction"), clock.frozen_at(T0 + timedelta(days=15)):
            invoke(load_function("order_ingest").handler, ingest)
            later = ("order_refunded", "customer_updated", "customer_registered", "customer_deleted")
            bodies = [load_event(f"{name}.eventbridge") for name in later]
            batch = {
                "Records": [
                    {**ingest["Records"][0], "messageId": f"x{n}", "body": json.dumps(b)} for n, b in enumerate(bodies)
                ]
            }
            assert invoke(load_function("order_ingest").handler, batch)["batchItemFailures"] == []
        secret = embedded.resources.secrets["ShopWebhookSecrets"]
        embedded.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=json.dumps(SECRETS))
        with recorder.acting_as("ShopWebhookFunction"), clock.frozen_at(GENERIC_SENT_AT):
            for name in ("shopify_orders_create", "shopify_refunds_create"):  # remembers, then reads a link
                assert invoke(load_function("shop_webhook").handler, sample(name))["statusCode"] == 200
        with recorder.acting_as("SegmentStatsFunction"):
            invoke(load_function("segment_stats").handler, scheduled_event(T0, "segment-stats"))

        world.order(cid, T0)
        world.drop_pending()
        sent = T0 + timedelta(days=90)
        world.inactive(cid, sent)
        with recorder.acting_as("JourneyDispatchFunction"):
            assert world.deliver(sent)["batchItemFailures"] == []  # entry + first email
        with recorder.acting_as("TimerSweepFunction"), clock.frozen_at(sent + timedelta(days=7, hours=1)):
            fired = invoke(load_function("timer_sweep").handler, scheduled_event(sent + timedelta(days=7), "sweep"))
        assert fired["events"] >= 0
        links = links_of(world.mail_to(cid)[0])
        # a second customer's win-back reaches its "what went wrong?" email (not recorded)
        asked = next(c for c in (f"IAMF{n}" for n in range(500)) if not in_holdout(c, "winback", share))
        world.winback_sent([asked], T0, sent)
        world.sweep(sent + timedelta(days=7, hours=2))
        answers = links_of(world.mail_to(asked)[1]).answers
        with recorder.acting_as("TrackingFunction"):
            request("GET", f"/f/{answers[0]}", sent + timedelta(days=7, hours=3))  # the answer's transaction
            request("GET", f"/o/{links.pixel}", sent + timedelta(hours=1))
            request("GET", f"/c/{links.clicks[0]}", sent + timedelta(hours=1))
            request("POST", f"/p/{links.preferences}", sent + timedelta(hours=1), body=b"action=pause")
            request("POST", f"/u/{links.unsubscribe}", sent + timedelta(hours=1), body=b"List-Unsubscribe=One-Click")
        world.order(cid, sent + timedelta(days=1))
        with recorder.acting_as("JourneyDispatchFunction"):
            world.deliver(sent + timedelta(days=1))  # the order: conversion and attribution
        event = load_event("ses_events.sqs")
        for record in event["Records"]:
            body = json.loads(record["body"])
            body["detail"]["mail"]["tags"]["message"] = [links.pixel.split(".")[1]]
            record["body"] = json.dumps(body)
        with recorder.acting_as("SesEventsFunction"):
            invoke(load_function("ses_events").handler, event)
        with recorder.acting_as("JourneyHealthFunction"), clock.frozen_at(sent + timedelta(days=2)):
            invoke(load_function("journey_health").handler, load_event("journey_health.scheduled"))
        dynamo.client().meta.events.unregister("before-parameter-build.dynamodb", recorder.hook)

    functions = {n for n, r in load_template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(recorder.used) == functions  # every function was exercised
    for function, used in recorder.used.items():
        missing = used - _granted(function)
        assert not missing, f"{function} performs {sorted(missing)} without an IAM grant"
