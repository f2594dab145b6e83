"""RFC 8058 one-click unsubscribe through the tracking function in both form encodings mailbox
providers use, with a real token from a sent email; anything but the exact field is refused."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import T0
from journey_helpers import World, treated
from tracking_helpers import links_of, request

from retention.models.messaging import Suppression
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
SENT = T0 + timedelta(days=90)
READ = SENT + timedelta(hours=3)
BOUNDARY = "e0f1a2b3c4d5"


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"oc{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def _unsubscribe_token(world: World, prefix: str) -> tuple[str, str]:
    (cid,) = treated(prefix)
    world.winback_sent([cid], T0, SENT)
    (message,) = world.mail_to(cid)
    return cid, links_of(message).unsubscribe


def _multipart(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n--{BOUNDARY}--\r\n'
    ).encode()


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def test_one_click_sent_as_multipart_form_data_unsubscribes(world: World) -> None:
    cid, token = _unsubscribe_token(world, "MULTI")
    answer = request("POST", f"/u/{token}", READ, body=_multipart("List-Unsubscribe", "One-Click"), headers=MULTIPART)
    assert answer.status == 200 and "You are unsubscribed" in answer.text
    assert world.store.contact(cid).suppressed is Suppression.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (_multipart("List-Unsubscribe", "one-click"), MULTIPART),
        (_multipart("List-Unsubscribe", "One-Click "), MULTIPART),
        (_multipart("Unsubscribe", "One-Click"), MULTIPART),
        (_multipart("List-Unsubscribe", "One-Click"), {"Content-Type": "multipart/form-data"}),
        (_multipart("List-Unsubscribe", "One-Click"), {"Content-Type": "text/plain"}),
        (b"List-Unsubscribe=One-Click&List-Unsubscribe=One-Click", {}),
        (b"", {}),
    ],
)
def test_anything_but_the_exact_field_is_refused_and_changes_nothing(world: World, body: bytes, headers: dict) -> None:
    cid, token = _unsubscribe_token(world, "NOTQUITE")
    assert request("POST", f"/u/{token}", READ, body=body, headers=headers).status == 400
    assert world.store.contact(cid).suppressed is None


def test_urlencoded_one_click_still_unsubscribes(world: World) -> None:
    cid, token = _unsubscribe_token(world, "URLENC")
    assert request("POST", f"/u/{token}", READ, body=b"List-Unsubscribe=One-Click").status == 200
    assert world.store.contact(cid).suppressed is Suppression.UNSUBSCRIBED
