"""The tracking API on the embedded AWS: honest counts, no open redirect, one-click unsubscribe."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import T0
from journey_helpers import World, treated
from tracking_helpers import Links, links_of, request

from retention.mail.keys import key_ring
from retention.mail.signing import KeyRing, Purpose
from retention.models.messaging import JourneyStatus, Suppression
from retention.store.counters import CounterStore
from retention.store.engagement import EngagementStore
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
SENT = T0 + timedelta(days=90)  # the win-back's first email goes out at this moment
READ = SENT + timedelta(hours=3)


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"k{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def _treated(prefix: str) -> str:
    return treated(prefix)[0]


def _winback_email(world: World, prefix: str) -> tuple[str, Links]:
    cid = _treated(prefix)
    world.winback_sent([cid], T0, SENT)
    (message,) = world.mail_to(cid)
    return cid, links_of(message)


def _counts(world: World) -> Counter:
    total: Counter = Counter()
    for (_, step, _), values in CounterStore(world.table).read("winback", SENT.date(), SENT.date()).items():
        if step != "-":
            total.update(values)
    return total


def test_open_pixel_is_a_no_cache_gif_and_repeated_opens_count_once(world: World) -> None:
    _, links = _winback_email(world, "OPEN")
    first = request("GET", f"/o/{links.pixel}", READ)
    again = request("GET", f"/o/{links.pixel}", READ + timedelta(minutes=5))
    assert first.status == again.status == 200
    assert first.headers["content-type"] == "image/gif" and first.body.startswith(b"GIF89a")
    assert "no-store" in first.headers["cache-control"]
    counts = _counts(world)
    assert (counts["opens"], counts["opens_human"], counts["unique_opens_human"], counts["unique_opens"]) == (
        2,
        2,
        1,
        1,
    )


def test_privacy_proxy_and_prefetch_opens_are_stored_but_not_human(world: World) -> None:
    _, links = _winback_email(world, "MPP")
    request("GET", f"/o/{links.pixel}", SENT + timedelta(seconds=3))  # prefetched on delivery
    request("GET", f"/o/{links.pixel}", READ, user_agent="Mozilla/5.0", ip="17.58.101.4")  # Apple MPP
    request("GET", f"/o/{links.pixel}", READ, user_agent="Mozilla/5.0 (Windows NT 5.1) GoogleImageProxy")
    counts = _counts(world)
    assert (counts["opens"], counts["opens_machine"], counts["unique_opens"], counts["unique_opens_human"]) == (
        3,
        3,
        1,
        0,
    )
    request("GET", f"/o/{links.pixel}", READ + timedelta(hours=1))  # the person reads it
    assert _counts(world)["unique_opens_human"] == 1


def test_click_redirects_to_the_emails_own_url_with_utm_and_counts_as_an_open(world: World) -> None:
    _, links = _winback_email(world, "CLICK")
    record = EngagementStore(world.table).message(links.clicks[0].split(".")[1])
    answer = request("GET", f"/c/{links.clicks[0]}?url=https://evil.example.net/", READ)
    assert answer.status == 302
    target = urlsplit(answer.headers["location"])
    original = urlsplit(record.record.urls[0])
    assert (target.scheme, target.netloc, target.path) == (original.scheme, original.netloc, original.path)
    query = parse_qs(target.query)
    assert query["utm_medium"] == ["email"] and query["utm_campaign"] == ["winback"]
    assert "evil" not in answer.headers["location"]
    request("GET", f"/c/{links.clicks[0]}", READ + timedelta(minutes=1))  # replayed
    counts = _counts(world)
    assert (counts["clicks"], counts["unique_clicks_human"]) == (2, 1)
    assert (counts["unique_opens_human"], counts["opens"]) == (1, 0)  # the click implied the open


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="tampered-signature"),
        pytest.param(lambda t: t.replace(".0.", ".1.", 1), id="tampered-index"),
        pytest.param(lambda t: t[: len(t) // 2], id="truncated"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: t.replace("c.", "o.", 1), id="wrong-purpose-letter"),
    ],
)
def test_bad_click_tokens_get_a_neutral_page_and_never_a_redirect(world: World, mangle) -> None:
    _, links = _winback_email(world, "BAD")
    answer = request("GET", f"/c/{mangle(links.clicks[0])}", READ)
    assert answer.status in (400, 404)
    assert "location" not in answer.headers
    assert "This link does not work" in answer.text
    assert _counts(world)["clicks"] == 0


def test_foreign_key_wrong_path_and_unknown_index_are_refused(world: World) -> None:
    _, links = _winback_email(world, "FOREIGN")
    message_id = links.pixel.split(".")[1]
    foreign = KeyRing("k1", {"k1": b"x" * 40}).sign(Purpose.CLICK, message_id, 0)
    assert request("GET", f"/c/{foreign}", READ).status == 404
    ring = key_ring()
    beyond = ring.sign(Purpose.CLICK, message_id, 99)  # validly signed, but the email had no link 99
    assert request("GET", f"/c/{beyond}", READ).status == 404
    assert request("GET", f"/c/{links.pixel}", READ).status == 404  # an open token on the click path
    unknown = ring.sign(Purpose.CLICK, "nosuchmessage0000", 0)
    assert request("GET", f"/c/{unknown}", READ).status == 404
    assert request("GET", "/c/../../etc/passwd", READ).status in (400, 404)
    assert request("GET", "/somewhere/else", READ).status == 404
    bad_pixel = request("GET", "/o/garbage", READ)
    assert bad_pixel.status == 400 and bad_pixel.body.startswith(b"GIF89a")
    assert _counts(world)["clicks"] == 0


def test_link_scanners_are_recognised_head_honeypot_and_user_agent(world: World) -> None:
    _, links = _winback_email(world, "SCAN")
    assert request("HEAD", f"/c/{links.clicks[0]}", READ).status == 302
    assert request("GET", f"/c/{links.honeypot}", READ).status == 404  # the hidden link: no redirect
    request("GET", f"/c/{links.clicks[0]}", READ + timedelta(seconds=20))  # near the honeypot hit
    request("GET", f"/c/{links.clicks[0]}", READ + timedelta(hours=1), user_agent="Mimecast Safe Links")
    counts = _counts(world)
    assert (counts["clicks_machine"], counts["unique_clicks_human"], counts["honeypot_hits"]) == (3, 0, 1)
    request("GET", f"/c/{links.clicks[0]}", READ + timedelta(hours=2))  # a person, later
    assert _counts(world)["unique_clicks_human"] == 1


def test_one_click_unsubscribe_stops_the_next_step(world: World) -> None:
    cid, links = _winback_email(world, "ONECLICK")
    page = request("GET", f"/u/{links.unsubscribe}", READ)  # a scanner's GET changes nothing
    assert page.status == 200 and 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert world.store.contact(cid).suppressed is None
    assert request("POST", f"/u/{links.unsubscribe}", READ, body=b"nonsense=1").status == 400
    done = request("POST", f"/u/{links.unsubscribe}", READ, body=b"List-Unsubscribe=One-Click")
    assert done.status == 200 and "You are unsubscribed" in done.text
    again = request("POST", f"/u/{links.unsubscribe}", READ, body=b"List-Unsubscribe=One-Click")
    assert again.status == 200
    assert world.store.contact(cid).suppressed is Suppression.UNSUBSCRIBED
    assert _counts(world)["unsubscribed"] == 1

    for day in range(1, 20):
        world.sweep(SENT + timedelta(days=day))
    assert world.templates_to(cid) == ["winback_miss_you"]
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert (state.status, state.exit_reason) == (JourneyStatus.EXITED, "unsubscribed")


def test_preference_page_pauses_for_thirty_days(world: World) -> None:
    cid, links = _winback_email(world, "PAUSE")
    page = request("GET", f"/p/{links.preferences}", READ)
    assert page.status == 200 and "Pause for 30 days" in page.text
    done = request("POST", f"/p/{links.preferences}", READ, body=b"action=pause")
    assert done.status == 200
    assert world.store.contact(cid).paused_until == READ + timedelta(days=30)
    for day in range(1, 12):
        world.sweep(SENT + timedelta(days=day))
    assert world.templates_to(cid) == ["winback_miss_you"]  # step two waits for the pause to end


def test_a_german_readers_pages_are_in_german(world: World) -> None:
    # Given a German customer's win-back email
    cid = _treated("GERMAN")
    world.order(cid, T0, locale="de-DE", marketing_consent=True)
    world.drop_pending()
    world.inactive(cid, SENT)
    world.deliver(SENT)
    (message,) = world.mail_to(cid)
    links = links_of(message)
    # When they open the footer's pages, Then every page speaks German, with the forms unchanged
    page = request("GET", f"/u/{links.unsubscribe}", READ)
    assert page.status == 200 and '<html lang="de">' in page.text and "Möchten Sie diese E-Mails" in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text and "30 Tage" in page.text
    preferences = request("GET", f"/p/{links.preferences}", READ)
    assert "30 Tage pausieren" in preferences.text and "Von allen abmelden" in preferences.text
    paused = request("POST", f"/p/{links.preferences}", READ, body=b"action=pause")
    assert "Bis " in paused.text and (READ + timedelta(days=30)).date().isoformat() in paused.text
    done = request("POST", f"/u/{links.unsubscribe}", READ, body=b"List-Unsubscribe=One-Click")
    assert done.status == 200 and "Sie sind abgemeldet" in done.text
    # And a link nobody can read answers in the browser's language
    broken = request("GET", "/u/not-a-token", READ, headers={"Accept-Language": "fr;q=0.9, de-AT;q=0.8, en;q=0.5"})
    assert broken.status in (400, 404) and "Link ungültig" in broken.text
    english = request("GET", "/u/not-a-token", READ, headers={"Accept-Language": "en-GB,de;q=0.5"})
    assert "Link not valid" in english.text


@pytest.mark.parametrize(
    ("after_click", "credited"),
    [(timedelta(days=5) - timedelta(minutes=1), True), (timedelta(days=5) + timedelta(minutes=1), False)],
)
def test_attribution_window_edges(world: World, after_click: timedelta, credited: bool) -> None:
    cid, links = _winback_email(world, f"ATTR{int(credited)}")
    request("GET", f"/c/{links.clicks[0]}", READ)
    world.order(cid, READ + after_click, total="80.00")
    world.deliver(READ + after_click)
    counts = _counts(world)
    assert counts["attributed_orders"] == int(credited)
    assert counts["attributed_revenue"] == (80 if credited else 0)


def test_a_scanner_click_earns_no_attribution(world: World) -> None:
    cid, links = _winback_email(world, "ATTRSCAN")
    request("GET", f"/c/{links.clicks[0]}", READ, user_agent="Barracuda Sentinel")
    world.order(cid, READ + timedelta(days=1))
    world.deliver(READ + timedelta(days=1))
    assert _counts(world)["attributed_orders"] == 0


def test_the_unopened_streak_counts_the_emails_since_a_person_last_opened_one(world: World) -> None:
    """Eight older unopened emails and the latest one: the streak is 9 until a human opens the latest."""
    from journey_helpers import seed_contact

    from retention.models.messaging import SentEntry

    cid, links = _winback_email(world, "STREAK")
    contact = world.store.contact(cid)
    older = [SentEntry(message_id=f"old{n:05d}", at=SENT - timedelta(days=n + 1), kind="content") for n in range(8)]
    seed_contact(world.table, contact.model_copy(update={"sends": [*older, *contact.sends]}))
    assert world.store.contact(cid).unopened_streak == 9
    request("GET", f"/o/{links.pixel}", READ, user_agent="Mozilla/5.0", ip="17.1.2.3")  # a proxy: no change
    assert world.store.contact(cid).unopened_streak == 9
    request("GET", f"/o/{links.pixel}", READ)
    assert world.store.contact(cid).unopened_streak == 0
    assert world.store.contact(cid).last_engaged_at == READ


def test_ses_events_count_once_and_suppress_hard_bounces_and_complaints(world: World) -> None:
    from conftest import load_event

    from retention_tools.local.runtime import invoke, load_function

    cid, links = _winback_email(world, "SES")
    message_id = links.pixel.split(".")[1]
    event = load_event("ses_events.sqs")
    for record in event["Records"]:
        body = json.loads(record["body"])
        body["detail"]["mail"]["tags"]["message"] = [message_id]
        record["body"] = json.dumps(body)
    delivery = {"Records": [event["Records"][0], {**event["Records"][0], "messageId": "again"}]}
    assert invoke(load_function("ses_events").handler, delivery)["batchItemFailures"] == []
    assert _counts(world)["delivered"] == 1
    bounce = {"Records": [event["Records"][1]]}
    assert invoke(load_function("ses_events").handler, bounce)["batchItemFailures"] == []
    assert world.store.contact(cid).suppressed is Suppression.BOUNCED
    counts = _counts(world)
    assert (counts["bounced"], counts["bounced_hard"]) == (1, 1)
    broken = {"Records": [{**event["Records"][2], "messageId": "broken", "body": '{"source": "aws.ses"}'}]}
    assert invoke(load_function("ses_events").handler, broken)["batchItemFailures"] == [{"itemIdentifier": "broken"}]


def test_ses_open_events_are_deduplicated_against_ours(world: World) -> None:
    from conftest import load_event

    from retention_tools.local.runtime import invoke, load_function

    _, links = _winback_email(world, "SESOPEN")
    request("GET", f"/o/{links.pixel}", READ)  # our pixel saw the person
    record = load_event("ses_events.sqs")["Records"][0]
    body = json.loads(record["body"])
    body["detail-type"] = "Email Opened"
    body["detail"]["eventType"] = "Open"
    body["detail"]["mail"]["tags"]["message"] = [links.pixel.split(".")[1]]
    body["detail"]["open"] = {"timestamp": READ.isoformat(), "userAgent": BROWSER_UA, "ipAddress": "203.0.113.7"}
    result = invoke(load_function("ses_events").handler, {"Records": [{**record, "body": json.dumps(body)}]})
    assert result["batchItemFailures"] == []
    counts = _counts(world)
    assert (counts["ses_opens"], counts["unique_opens_human"], counts["unique_opens"]) == (1, 1, 1)


BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
