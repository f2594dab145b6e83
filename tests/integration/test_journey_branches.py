"""Journey branches on the embedded AWS: the win-back's answer to "what went wrong?" picks its path.

The shipped winback (templates/journeys.yaml): miss_you on day 0, feedback on day 7, checked three
days later — "price" takes the incentive (with its coupon) at once instead of on day 18,
"delivery" an apology without a coupon, anything else (another answer, none, a link scanner's
click) the incentive on day 18. Each path is walked through the real dispatcher, sweep and
tracking API.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from factories import T0
from journey_helpers import World, treated
from tracking_helpers import links_of, request

from retention.models.messaging import JourneyStatus
from retention.models.tracking import HealthRules
from retention.reporting.report import build_report, format_table
from retention.store.counters import CounterStore
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.simulation import SIMULATION_TIMERS
from retention_tools.report_html import format_html

_stages = itertools.count(1)
SENT = T0 + timedelta(days=90)  # the win-back's first email
ASKED = SENT + timedelta(days=7)  # "what went wrong?"
READ = ASKED + timedelta(hours=3)
CHECK = ASKED + timedelta(days=3)  # check_after_days: 3
DAY_18 = SENT + timedelta(days=18)
ANSWERS = ["price", "taste", "delivery", "elsewhere", "stock"]  # emails.yaml, in the email's order
INCENTIVES = {"winback_incentive", "winback_incentive_short"}


@pytest.fixture
def world(moto_account: None) -> Iterator[World]:
    with EmbeddedAws(stage=f"b{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        yield World()


def _asked(world: World, prefix: str) -> tuple[str, list[str]]:
    cid = treated(prefix)[0]
    world.order(cid, T0)
    world.drop_pending()
    world.inactive(cid, SENT)
    world.deliver(SENT)
    world.sweep(ASKED)
    assert world.templates_to(cid) == ["winback_miss_you", "winback_feedback"]
    return cid, links_of(world.mail_to(cid)[1]).answers


def _answer(answers: list[str], answer: str, **visit: str) -> None:
    assert request("GET", f"/f/{answers[ANSWERS.index(answer)]}", READ, **visit).status == 200


def _until_the_end(world: World) -> None:
    """Every moment something could still be due: the check, day 18, the coupon's reminder, later."""
    for at in (CHECK, CHECK + timedelta(hours=1), DAY_18, DAY_18 + timedelta(days=14), DAY_18 + timedelta(days=40)):
        world.sweep(at)


def _feedback_counts(world: World) -> Counter:
    total: Counter = Counter()
    for (_, step, _), values in (
        CounterStore(world.table).read("winback", SENT.date(), (DAY_18 + timedelta(days=40)).date()).items()
    ):
        if step == "feedback":
            total.update(values)
    return total


def test_too_expensive_gets_the_incentive_at_the_check_not_on_day_18(world: World) -> None:
    cid, answers = _asked(world, "PRICE")
    _answer(answers, "price")

    world.sweep(CHECK)
    assert world.templates_to(cid)[2] in INCENTIVES
    incentive = world.mail_to(cid)[2]
    assert "15" in incentive["Subject"] or "15 %" in incentive.as_string()
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert state.coupon is not None and state.branch_check is None

    _until_the_end(world)
    templates = world.templates_to(cid)
    assert templates[:2] == ["winback_miss_you", "winback_feedback"] and templates[2] in INCENTIVES
    assert "winback_apology" not in templates and sum(t in INCENTIVES for t in templates) == 1
    assert _feedback_counts(world)["branched_to_incentive"] == 1


def test_a_delivery_problem_gets_an_apology_and_no_coupon(world: World) -> None:
    cid, answers = _asked(world, "DELIVERY")
    _answer(answers, "delivery")

    _until_the_end(world)
    assert world.templates_to(cid) == ["winback_miss_you", "winback_feedback", "winback_apology"]
    apology = world.mail_to(cid)[2]
    assert "sorry" in apology["Subject"].lower()
    state = world.store.snapshot(cid, ["winback"]).states["winback"]
    assert state.status is JourneyStatus.COMPLETED and state.coupon is None
    counts = _feedback_counts(world)
    assert (counts["branched"], counts["branched_to_apology"], counts["branch_default"]) == (1, 1, 0)


@pytest.mark.parametrize("answer", ["taste", None])
def test_another_answer_or_none_takes_the_default_path(world: World, answer: str | None) -> None:
    cid, answers = _asked(world, f"DEFAULT{answer or ''}")
    if answer:
        _answer(answers, answer)

    world.sweep(CHECK)
    assert len(world.templates_to(cid)) == 2  # nothing at the check
    world.sweep(DAY_18)
    assert world.templates_to(cid)[2] in INCENTIVES
    _until_the_end(world)
    assert "winback_apology" not in world.templates_to(cid)
    assert _feedback_counts(world)["branch_default"] == 1


def test_a_link_scanners_answer_takes_no_branch(world: World) -> None:
    cid, answers = _asked(world, "SCANNED")
    _answer(answers, "delivery", user_agent="Mozilla/5.0 Proofpoint URL Defense")

    world.sweep(CHECK)
    assert len(world.templates_to(cid)) == 2
    world.sweep(DAY_18)
    assert world.templates_to(cid)[2] in INCENTIVES


def test_a_check_delivered_twice_sends_the_branchs_email_once(world: World) -> None:
    cid, answers = _asked(world, "TWICE")
    _answer(answers, "delivery")

    world.sweep(CHECK, times=2)  # at-least-once: the check's TimerFired arrives twice
    world.sweep(CHECK + timedelta(minutes=15), times=2)
    _until_the_end(world)
    assert world.templates_to(cid).count("winback_apology") == 1
    assert _feedback_counts(world)["branched"] == 1
    assert world.failures == []


def test_the_report_shows_where_each_check_sent_its_customers(world: World) -> None:
    # Given three asked customers: one answers "price", one "delivery", one nothing
    for prefix, answer in (("REPPRICE", "price"), ("REPDELIVERY", "delivery"), ("REPSILENT", None)):
        _, answers = _asked(world, prefix)
        if answer:
            _answer(answers, answer)
    _until_the_end(world)
    # When the report is built
    until = (DAY_18 + timedelta(days=40)).date()
    report = build_report(CounterStore(world.table), ["winback"], SENT.date(), until, HealthRules())
    # Then the feedback step's check is counted per path, in text, JSON and HTML
    (journey,) = report.journeys
    (paths,) = journey.paths
    assert (paths.step, paths.checked) == ("feedback", 3)
    assert paths.paths == {"apology": 1, "incentive": 1, "otherwise": 1}
    assert journey.as_dict()["branches"]["feedback"]["paths"]["apology"] == 1
    table = format_table(report)
    assert re.search(r"winback\.feedback\s+checked\s+3  → apology 1 \(33 %\), → incentive 1 \(33 %\)", table), table
    page = format_html(report)
    assert 'id="branches"' in page and "→ apology" in page
