"""One-click feedback answers on the embedded AWS: recorded once, by people only, thanked in their language."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import T0
from journey_helpers import World, treated
from tracking_helpers import Links, links_of, request

from retention.forget import eraser
from retention.models.tracking import HealthRules
from retention.reporting.report import build_report, format_table
from retention.store import dynamo, keys
from retention.store.counters import CounterStore
from retention.store.engagement import EngagementStore
from retention.tracking import api
from retention.tracking.machine import tracking_rules
from retention_tools.cli import main
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.simulation import SIMULATION_TIMERS
from retention_tools.report_html import format_html

_stages = itertools.count(1)
SENT = T0 + timedelta(days=90)  # the win-back's first email
ASKED = SENT + timedelta(days=7)  # its second, "what went wrong?"
READ = ASKED + timedelta(hours=3)
ANSWERS = ["price", "taste", "delivery", "elsewhere", "stock"]  # emails.yaml, in the email's order


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"f{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def _asked(world: World, prefix: str, **order: object) -> tuple[str, Links]:
    """A customer who got the win-back's feedback email; its links."""
    cid = treated(prefix)[0]
    world.order(cid, T0, **order)
    world.drop_pending()
    world.inactive(cid, SENT)
    world.deliver(SENT)
    world.sweep(ASKED)
    assert world.templates_to(cid) == ["winback_miss_you", "winback_feedback"]
    return cid, links_of(world.mail_to(cid)[1])


def _step_counts(world: World) -> Counter:
    total: Counter = Counter()
    for (_, step, _), values in CounterStore(world.table).read("winback", SENT.date(), ASKED.date()).items():
        if step == "feedback":
            total.update(values)
    return total


def _contact_answer(world: World, cid: str) -> object:
    return world.store.contact(cid).last_answer


def test_the_answers_are_signed_feedback_links_in_both_parts(world: World) -> None:
    cid, links = _asked(world, "SIGNED")
    assert len(links.answers) == len(ANSWERS) and all(t.startswith("f.") for t in links.answers)
    text = next(p for p in world.mail_to(cid)[1].walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    assert all(f"/f/{token}" in body for token in links.answers)
    assert "/feedback?answer=" not in body


def test_a_persons_click_records_the_answer_once_and_thanks_them(world: World) -> None:
    cid, links = _asked(world, "HUMAN")
    # When a person clicks "delivery" twice (a replay), then "price"
    first = request("GET", f"/f/{links.answers[2]}", READ)
    again = request("GET", f"/f/{links.answers[2]}", READ + timedelta(minutes=1))
    other = request("GET", f"/f/{links.answers[0]}", READ + timedelta(minutes=2))
    # Then each answer gets the thank-you page, and only the first answer is kept
    assert first.status == again.status == other.status == 200
    assert "Thank you" in first.text and '<html lang="en">' in first.text
    counts = _step_counts(world)
    assert (counts["answers"], counts["answer_delivery"], counts["answer_price"]) == (1, 1, 0)
    assert counts["clicks_human"] == 3 and counts["unique_clicks_human"] == 1
    markers = EngagementStore(world.table).answers(cid)
    assert [(m["answer"], m["step"], m["template"]) for m in markers] == [("delivery", "feedback", "winback_feedback")]
    latest = _contact_answer(world, cid)
    assert latest is not None and latest.answer == "delivery" and latest.at == READ


def test_a_scanner_click_records_no_answer(world: World) -> None:
    cid, links = _asked(world, "SCANNER")
    # A link scanner fetches every answer link, by HEAD and by GET with its own user agent
    for token in links.answers:
        request("HEAD", f"/f/{token}", READ)
        page = request("GET", f"/f/{token}", READ, user_agent="Mozilla/5.0 Proofpoint URL Defense")
        assert page.status == 200
    # And a GET right after delivery (prefetch) from a browser user agent
    request("GET", f"/f/{links.answers[1]}", ASKED + timedelta(seconds=5))
    counts = _step_counts(world)
    assert counts["answers"] == 0 and not [n for n in counts if n.startswith("answer_")]
    assert counts["clicks_machine"] == 2 * len(ANSWERS) + 1 and counts["clicks_human"] == 0
    assert EngagementStore(world.table).answers(cid) == [] and _contact_answer(world, cid) is None
    # Then the person's own click later still counts
    request("GET", f"/f/{links.answers[1]}", READ + timedelta(hours=1))
    assert _step_counts(world)["answer_taste"] == 1


def test_a_german_customer_is_thanked_in_german(world: World) -> None:
    _, links = _asked(world, "DANKE", locale="de-DE", marketing_consent=True)
    page = request("GET", f"/f/{links.answers[0]}", READ)
    assert page.status == 200 and '<html lang="de">' in page.text and "Vielen Dank" in page.text


def test_bad_answer_tokens_get_the_neutral_page(world: World) -> None:
    _, links = _asked(world, "FORGED")
    click = links.clicks[0]  # a click token on the answer path is refused, as is a mangled one
    for token in (click, links.answers[0][:-2] + "xx", "f.nonsense"):
        page = request("GET", f"/f/{token}", READ)
        assert page.status in (400, 403, 404) and "Link not valid" in page.text
    assert _step_counts(world)["answers"] == 0


def test_the_report_and_the_export_show_the_answers(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given three asked customers: two answer "price" (one of them twice), one "delivery"
    answered = {}
    for prefix, answer in (("REPA", 0), ("REPB", 0), ("REPC", 2)):
        cid, links = _asked(world, prefix)
        request("GET", f"/f/{links.answers[answer]}", READ)
        answered[cid] = ANSWERS[answer]
    request("GET", f"/f/{links.answers[2]}", READ + timedelta(hours=1))  # a replay by the last one
    # When the report is built from the journey counters
    report = build_report(CounterStore(world.table), ["winback"], SENT.date(), ASKED.date(), HealthRules())
    (journey,) = report.journeys
    (step,) = journey.feedback
    # Then it counts each answer once per email, the most given first
    assert (step.step, step.sent, step.total, step.answers) == ("feedback", 3, 3, {"price": 2, "delivery": 1})
    assert journey.as_dict()["feedback"]["feedback"]["answer_rate"] == 1.0
    table = format_table(report)
    assert "winback.feedback" in table and "price 2 (67 %), delivery 1 (33 %)" in table
    page = format_html(report)
    assert '<table id="feedback">' in page and "<td>delivery</td><td>1</td><td>33 %</td>" in page
    # And the customer export has each customer's latest answer and its date
    assert main(["customers", "export", "--as-of", READ.date().isoformat(), "--format", "json"]) == 0
    rows = {row["customer_id"]: row for row in json.loads(capsys.readouterr().out)}
    assert {cid: rows[cid]["last_answer"] for cid in answered} == answered
    assert {rows[cid]["last_answer_at"] for cid in answered} == {READ.isoformat()}


def test_a_shop_feedback_page_can_replace_the_thank_you_page(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tracking_rules().model_copy(update={"feedback_redirect": "/feedback"})
    monkeypatch.setattr(api, "tracking_rules", lambda: rules)
    _, links = _asked(world, "REDIRECT")
    answer = request("GET", f"/f/{links.answers[3]}", READ)
    assert answer.status == 302 and answer.headers["location"].endswith("/feedback?answer=elsewhere")
    assert _step_counts(world)["answer_elsewhere"] == 1  # recorded all the same


def test_forgetting_a_customer_erases_their_answers(world: World) -> None:
    cid, links = _asked(world, "FORGET")
    request("GET", f"/f/{links.answers[4]}", READ)
    assert len(EngagementStore(world.table).answers(cid)) == 1
    eraser(world.table)(cid)
    assert EngagementStore(world.table).answers(cid) == []
    assert EngagementStore(world.table).scan_feedback().get(cid) is None
    # And a late click on the erased email records nothing (the message is gone)
    assert request("GET", f"/f/{links.answers[0]}", READ + timedelta(hours=1)).status == 404


def test_a_replay_completes_an_answer_whose_contact_write_was_lost(world: World) -> None:
    cid, links = _asked(world, "RETRY")
    request("GET", f"/f/{links.answers[1]}", READ)
    # Given the contact write of that request lost (the function stopped after the transaction)
    dynamo.client().update_item(
        TableName=world.table,
        Key=keys.key(keys.customer_pk(cid), keys.CONTACT),
        UpdateExpression="REMOVE last_answer",
    )
    # When the answer is clicked again, Then the contact gets the first answer with its own time
    request("GET", f"/f/{links.answers[1]}", READ + timedelta(hours=2))
    latest = _contact_answer(world, cid)
    assert latest is not None and (latest.answer, latest.at) == ("taste", READ)
    assert (_step_counts(world)["answers"], _step_counts(world)["answer_taste"]) == (1, 1)
