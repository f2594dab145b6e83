"""SES refusing an address for good suppresses it and ends the journey step without a retry;
SES refusing because of the account (sending paused) is retried and the email goes out later."""

from __future__ import annotations

import itertools
import json
import types
from collections.abc import Iterator
from datetime import timedelta

import pytest
from botocore.awsrequest import AWSResponse
from factories import T0
from journey_helpers import World, treated

from retention.journeys.rules import message_id_for
from retention.journeys.wiring import dispatcher
from retention.models.messaging import JourneyStatus, Suppression
from retention.store.counters import CounterStore
from retention_tools.local.embedded import EmbeddedAws, faults
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
WINBACK_START = T0 + timedelta(days=90)


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"sr{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        dispatcher().mailer.sender.refusals_in_a_row = 0  # the container's sender outlives a test
        yield World()


def _ses_error(code: str, status: int = 400):
    """A fault answering SES v2 SendEmail with ``code`` (what SES sends: the type in a header)."""

    def fault(event_name, request):
        if event_name != "before-send.sesv2.SendEmail":
            return None
        body = json.dumps({"message": "refused"}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json"}
        response = AWSResponse("https://email.eu-west-1.amazonaws.com", status, headers, types.SimpleNamespace())
        response._content = body
        return response

    return fault


def _start_winback(world: World, cid: str) -> None:
    world.order(cid, T0)
    world.drop_pending()
    world.inactive(cid, WINBACK_START)


def _counts(world: World) -> dict[str, int]:
    total: dict[str, int] = {}
    for values in CounterStore(world.table).read("winback", WINBACK_START.date(), WINBACK_START.date()).values():
        for name, value in values.items():
            total[name] = total.get(name, 0) + int(value)
    return {name: value for name, value in total.items() if value}


@pytest.mark.parametrize("code", ["MessageRejected", "BadRequestException"])
def test_an_address_ses_refuses_for_good_is_suppressed_and_the_step_ends_without_retry(world: World, code) -> None:
    (cid,) = treated(f"REFUSED{code[:3].upper()}")
    _start_winback(world, cid)
    # When SES refuses the first win-back email for good
    with faults(_ses_error(code)):
        response = world.deliver(WINBACK_START)
    # Then the event finishes (no retry, nothing for the DLQ) and nothing was sent
    assert response["batchItemFailures"] == [] and world.pending == []
    assert world.templates_to(cid) == []
    # And the address is suppressed as undeliverable with SES's answer, the journey exited on it
    contact = world.store.contact(cid)
    assert (contact.suppressed, contact.suppressed_detail) == (Suppression.UNDELIVERABLE, f"SES {code}")
    assert contact.sends == []
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert (state.status, state.exit_reason) == (JourneyStatus.EXITED, "undeliverable")
    counts = _counts(world)
    assert counts.get("sent", 0) == 0 and counts["suppressed_undeliverable"] == 1
    assert world.store.send_record(message_id_for(cid, "winback", state.cycle, "miss_you")) is None  # claim released
    # And later steps never email the address again
    for day in range(1, 20):
        world.sweep(WINBACK_START + timedelta(days=day))
    assert world.templates_to(cid) == []


def test_an_account_level_refusal_is_retried_and_sent_once_sending_resumes(world: World) -> None:
    (cid,) = treated("PAUSED")
    _start_winback(world, cid)
    # When SES answers that sending is paused for the account
    with faults(_ses_error("SendingPausedException")):
        response = world.deliver(WINBACK_START)
    # Then the event fails, to be retried, and the address is not suppressed
    assert len(response["batchItemFailures"]) == 1 and len(world.pending) == 1
    assert world.store.contact(cid).suppressed is None
    # And once sending resumes, the retry sends the email once
    world.deliver(WINBACK_START + timedelta(minutes=5))
    assert world.templates_to(cid) == ["winback_miss_you"]
