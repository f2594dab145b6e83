"""`retention customers forget ID`: nothing about the customer is left, the counters stay."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import T0
from journey_helpers import World
from tracking_helpers import links_of, request

from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.store import dynamo
from retention.store.counters import CounterStore
from retention.store.engagement import EngagementStore
from retention_tools.cli import main
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"f{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def test_forget_removes_profile_orders_journeys_sends_and_tracking(world: World, capsys) -> None:
    share = load_journeys().frequency.holdout_share
    cid, other = [c for c in (f"GONE{n}" for n in range(300)) if not in_holdout(c, "winback", share)][:2]
    sent = T0 + timedelta(days=90)
    for customer in (cid, other):
        world.order(customer, T0)
    world.deliver(T0)  # post-purchase emails
    for customer in (cid, other):
        world.inactive(customer, sent)
    world.deliver(sent)  # the win-back's first email
    links = links_of(world.mail_to(cid)[-1])
    request("GET", f"/o/{links.pixel}", sent + timedelta(hours=1))
    message_id = links.pixel.split(".")[1]
    assert EngagementStore(world.table).message(message_id) is not None
    sent_before = sum(c["sent"] for c in CounterStore(world.table).read("winback", sent.date(), sent.date()).values())

    assert main(["customers", "forget", cid]) == 2  # refuses without --yes
    assert main(["customers", "forget", cid, "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"forgot {cid}" in out and "send records" in out

    partition = dynamo.client().query(
        TableName=world.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CUST#{cid}"}},
    )
    assert partition["Items"] == []
    assert EngagementStore(world.table).message(message_id) is None
    assert request("GET", f"/c/{links.clicks[0]}", sent + timedelta(hours=2)).status == 404
    # The other customer is untouched; counters (no personal data) stay
    assert world.store.contact(other).sends
    assert world.mail_to(other)
    after = sum(c["sent"] for c in CounterStore(world.table).read("winback", sent.date(), sent.date()).values())
    assert after == sent_before
    assert main(["customers", "forget", "not an id!", "--yes"]) == 2
