"""NPS on the embedded AWS: the survey after the third order, a score recorded once (people
only) on the contact, promoters invited to refer, the score in the report and the export."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from factories import T0
from journey_helpers import RawEngineEvent, World, seed_contact
from tracking_helpers import Links, links_of, request

from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.models.emails import TemplateKind
from retention.models.messaging import ContactState, SendRecord
from retention.models.tracking import HealthRules
from retention.nps import SCORE_ANSWERS
from retention.reporting.report import build_report, format_table
from retention.store import bus, dynamo
from retention.store.counters import CounterStore
from retention.store.engagement import EngagementStore
from retention_tools.cli import main
from retention_tools.local.audience import SCANNER
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.metering import RequestCounter
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
THIRD = T0 + timedelta(days=40)  # the third order
ASKED = THIRD + timedelta(days=10)  # the survey's delay
READ = ASKED + timedelta(hours=26)


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"n{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


@pytest.fixture
def nps_told() -> Iterator[list[dict[str, Any]]]:
    """The NpsAnswered events the tracking API puts on the bus while the test runs."""
    entries: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        entries.extend(e for e in params["Entries"] if e["DetailType"] == "NpsAnswered")

    bus.client().meta.events.register("before-parameter-build.events.PutEvents", record)
    yield entries
    bus.client().meta.events.unregister("before-parameter-build.events.PutEvents", record)


def _referral_treated(prefix: str) -> str:
    share = load_journeys().frequency.holdout_share
    return next(c for c in (f"{prefix}{n}" for n in itertools.count()) if not in_holdout(c, "referral", share))


def _surveyed(world: World, orders: dict[str, int]) -> dict[str, Links | None]:
    """Each customer orders as often as ``orders`` says, twenty days apart; then the days until
    the survey are swept (once, for all: the simulated clock only moves forward). Their survey's links."""
    for cid, count in orders.items():
        for n in range(count):
            at = T0 + timedelta(days=20 * n)
            world.order(cid, at)
            world.deliver(at)
    world.run_days(T0, (ASKED - T0).days + 1)  # daily at 10:00: the one after the survey fell due
    found: dict[str, Links | None] = {}
    for cid in orders:
        survey = [m for m in world.mail_to(cid) if m["X-Retention-Template"] == "nps_survey"]
        found[cid] = links_of(survey[0]) if survey else None
    return found


def _contact_nps(world: World, cid: str) -> tuple[int, datetime] | None:
    score = world.store.contact(cid).nps
    return (score.score, score.at) if score else None


def test_the_survey_goes_after_the_third_order_only(world: World) -> None:
    surveys = _surveyed(world, {"NPSTWO": 2, "NPSTHREE": 3})
    assert surveys["NPSTWO"] is None
    links = surveys["NPSTHREE"]
    assert links is not None and len(links.answers) == 11  # one signed link per score, 0 to 10
    assert all(token.startswith("f.") for token in links.answers)


def test_a_score_is_recorded_once_by_a_person_and_a_promoter_is_invited_to_refer(
    world: World, nps_told: list[dict[str, Any]]
) -> None:
    cid = _referral_treated("NPSPROMO")
    links = _surveyed(world, {cid: 3})[cid]
    assert links is not None
    # Given a link scanner fetches every score link seconds after delivery: nothing is recorded
    for token in links.answers:
        request("GET", f"/f/{token}", ASKED + timedelta(seconds=5), SCANNER, "198.51.100.50")
    assert _contact_nps(world, cid) is None and nps_told == []
    # When the person clicks 9 (counting the requests), then 9 again, then 3 (the first answer is kept)
    with RequestCounter().watching(dynamo.client(), bus.client()) as first:
        assert request("GET", f"/f/{links.answers[9]}", READ).status == 200
    for token, minutes in ((links.answers[9], 1), (links.answers[3], 2)):
        assert request("GET", f"/f/{token}", READ + timedelta(minutes=minutes)).status == 200
    # (a first score: read the send record, mark the click, the answer's transaction, the
    # contact's last answer, its NPS score, its engagement summary, the counters; one PutEvents)
    assert first.calls == {"GetItem": 1, "UpdateItem": 5, "TransactWriteItems": 1, "PutEvents": 1}
    # Then the contact holds the score 9 with its time, and the step counted one answer
    assert _contact_nps(world, cid) == (9, READ)
    counts: Counter[str] = Counter()
    for (_, step, _), values in CounterStore(world.table).read("nps", ASKED.date(), READ.date()).items():
        if step == "survey":
            counts.update(values)
    assert (counts["answers"], counts["answer_score_9"], counts["answer_score_3"]) == (1, 1, 0)
    # And every person's click told the kept score (a lost publish is told again by a retry)
    details = [json.loads(entry["Detail"]) for entry in nps_told]
    assert {(d["score"], d["group"], d["customer_id"]) for d in details} == {(9, "promoter", cid)}
    # When the dispatcher receives them (delivered twice), Then the referral journey starts once
    for entry in nps_told:
        world.pending.append(RawEngineEvent("NpsAnswered", json.loads(entry["Detail"]), READ))  # type: ignore[arg-type]
    assert world.deliver(READ, times=2)["batchItemFailures"] == []
    world.run_days(READ, 4)
    assert world.templates_to(cid).count("referral_invite") == 1


def test_the_report_and_the_export_show_the_scores(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given two surveyed customers: one scores 10, one scores 2
    scored = {"NPSHIGH": 10, "NPSLOW": 2}
    for cid, links in _surveyed(world, dict.fromkeys(scored, 3)).items():
        assert links is not None
        request("GET", f"/f/{links.answers[scored[cid]]}", READ)
    # When the report is built, Then the survey step has an NPS of (1 - 1) / 2 = 0, too few to tell
    report = build_report(CounterStore(world.table), ["nps"], T0.date(), READ.date(), HealthRules())
    table = format_table(report)
    assert "Net Promoter Score" in table and "NPS +0 (95 % interval" in table and "too few to tell" in table
    # And the export has each customer's latest score, group and date
    assert main(["customers", "export", "--as-of", READ.date().isoformat(), "--format", "json"]) == 0
    rows = {row["customer_id"]: row for row in json.loads(capsys.readouterr().out)}
    assert {cid: (rows[cid]["nps_score"], rows[cid]["nps_group"]) for cid in scored} == {
        "NPSHIGH": (10, "promoter"),
        "NPSLOW": (2, "detractor"),
    }
    assert {rows[cid]["nps_at"] for cid in scored} == {READ.isoformat()}


def _survey_record(cid: str, message_id: str, sent_at: datetime) -> SendRecord:
    return SendRecord(
        message_id=message_id,
        customer_id=cid,
        journey="nps",
        step="survey",
        cycle=1,
        template="nps_survey",
        variant="-",
        kind=TemplateKind.FEEDBACK,
        claimed_at=sent_at,
        sent_at=sent_at,
    )


def test_the_latest_survey_decides_the_score_not_the_latest_click(world: World) -> None:
    # Given a customer surveyed in 2025 (unanswered) and in 2026 (scored 3: a detractor)
    cid = "NPSORDER"
    seed_contact(world.table, ContactState(customer_id=cid))  # as the survey's send left it
    store = EngagementStore(world.table)
    last_year = _survey_record(cid, "survey2025", T0 - timedelta(days=365))
    this_year = _survey_record(cid, "survey2026", T0 + timedelta(days=10))
    kept = store.record_answer(this_year, "score_3", T0 + timedelta(days=11), SCORE_ANSWERS)
    assert kept is not None and kept.score == 3 and _contact_nps(world, cid) == (3, T0 + timedelta(days=11))
    # When a first click of 10 on last year's survey arrives later
    late = store.record_answer(last_year, "score_10", T0 + timedelta(days=12), SCORE_ANSWERS)
    # Then it is kept as that email's answer, but the contact's score stays this year's, and nothing is told
    assert late is not None and late.newly and late.score is None
    assert _contact_nps(world, cid) == (3, T0 + timedelta(days=11))
    # And a replay of this year's answer is still this year's score (told again)
    again = store.record_answer(this_year, "score_9", T0 + timedelta(days=13), SCORE_ANSWERS)
    assert again is not None and not again.newly and again.score == 3
    # When next year's survey is scored 9, Then the detractor is a promoter: the pause is over
    next_year = _survey_record(cid, "survey2027", T0 + timedelta(days=375))
    assert store.record_answer(next_year, "score_9", T0 + timedelta(days=376), SCORE_ANSWERS) is not None
    score = world.store.contact(cid).nps
    assert score is not None and (score.score, score.group) == (9, "promoter")


def test_a_score_for_an_erased_customer_is_not_told(world: World) -> None:
    store = EngagementStore(world.table)
    kept = store.record_answer(_survey_record("NPSGONE", "gone", T0), "score_10", T0, SCORE_ANSWERS)
    assert kept is not None and kept.score is None  # no contact item: no score stored, none published


def test_a_re_told_older_score_starts_no_journey(world: World) -> None:
    # Given a customer who scored 10 last year and 8 (a passive) this year
    cid = _referral_treated("NPSSTALE")
    world.order(cid, T0)
    world.drop_pending()
    seed_contact(world.table, ContactState(customer_id=cid))
    store = EngagementStore(world.table)
    store.record_answer(_survey_record(cid, "old", T0 - timedelta(days=365)), "score_10", T0, SCORE_ANSWERS)
    store.record_answer(
        _survey_record(cid, "new", T0 + timedelta(days=1)), "score_8", T0 + timedelta(days=2), SCORE_ANSWERS
    )
    assert _contact_nps(world, cid) == (8, T0 + timedelta(days=2))
    # When an NpsAnswered for the old survey (a 10) arrives, Then the referral journey is not entered
    detail = {"customer_id": cid, "score": 10, "group": "promoter", "message_id": "old", "journey": "nps"}
    world.pending.append(RawEngineEvent("NpsAnswered", {**detail, "answered_at": T0.isoformat()}, T0))  # type: ignore[arg-type]
    assert world.deliver(T0 + timedelta(days=5))["batchItemFailures"] == []
    state = world.store.snapshot(cid, ["referral"]).states["referral"]
    assert state.cycle == 0
