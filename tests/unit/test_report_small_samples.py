"""Small samples in the report: verdicts need a minimum count ("too few to tell" below it), the
per-step table with counts, weekly volumes under the rates, numbers that never wrap."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from retention.models.tracking import HealthRules
from retention.reporting.rates import Rates
from retention.reporting.report import (
    MIN_LIFT_GROUP,
    NO_HOLDOUT,
    TOO_FEW,
    Lift,
    Report,
    format_table,
    health_verdicts,
    journey_report,
)
from retention_tools.report_html import MIN_WEEK_VOLUME, format_html

RULES = HealthRules(min_sent=50, min_human_open_rate=0.15, min_click_rate=0.015, max_unsubscribe_rate=0.005)


def _status(rates: Rates) -> dict[str, str]:
    return {verdict.check: verdict.status for verdict in health_verdicts(rates, RULES)}


def test_one_unsubscribe_in_157_emails_is_too_few_to_tell_and_six_are_a_warning() -> None:
    one = Rates(Counter(sent=157, delivered=157, unique_opens_human=60, unique_clicks_human=9, unsubscribed=1))
    assert _status(one)["unsubscribe rate"] == TOO_FEW  # 0.64 % is above 0.5 %, on one person
    six = Rates(Counter(sent=157, delivered=157, unique_opens_human=60, unique_clicks_human=9, unsubscribed=6))
    assert _status(six) == {
        "human open rate": "ok",
        "human click rate": "ok",
        "unsubscribe rate": "warning",
        "complaint rate": "ok",
    }


def test_a_floor_needs_enough_mail_that_five_events_were_expected_at_it() -> None:
    # 200 emails: 30 opens expected at the 15 % floor (enough), 3 clicks at the 1.5 % floor (too few)
    weak = Rates(Counter(sent=200, delivered=200, unique_opens_human=20, unique_clicks_human=1))
    assert _status(weak)["human open rate"] == "warning"
    assert _status(weak)["human click rate"] == TOO_FEW
    # 400 emails: 6 clicks expected at the floor, 1 seen
    assert (
        _status(Rates(Counter(sent=400, delivered=400, unique_opens_human=100, unique_clicks_human=1)))[
            "human click rate"
        ]
        == "warning"
    )


def test_below_min_sent_every_check_is_too_few_to_tell() -> None:
    assert set(_status(Rates(Counter(sent=20, delivered=20, unsubscribed=9))).values()) == {TOO_FEW}


def test_journey_report_warns_only_on_enough_evidence_and_lists_the_rest() -> None:
    counts = {("2026-02-02", "hello", "-"): Counter(sent=157, delivered=157, unique_opens_human=60, unsubscribed=1)}
    report = journey_report("welcome", counts, RULES)
    assert report.warnings == []  # the journey_health alarm stays quiet
    assert report.too_few == [
        "human click rate 0.0% is below the floor 1.5% — too few to tell (human clicks: 0; a verdict needs more mail)",
        "unsubscribe rate 0.6% is above the ceiling 0.5% — too few to tell"
        " (unsubscribes: 1; a verdict needs more mail)",
    ]
    data = report.as_dict()
    assert data["warnings"] == [] and data["too_few_to_tell"] == report.too_few
    assert [v["status"] for v in data["health"]] == ["ok", TOO_FEW, TOO_FEW, "ok"]
    counts[("2026-02-03", "hello", "-")] = Counter(sent=300, delivered=300, unique_opens_human=100, unsubscribed=1)
    report = journey_report("welcome", counts, RULES)
    assert report.warnings == ["human click rate 0.0% is below the floor 1.5%"]  # 6.8 clicks expected, none seen
    assert report.too_few == []  # 2 unsubscribes in 457 emails: 0.4 %, below the ceiling


def test_lift_against_a_hold_out_of_two_is_too_few_to_tell() -> None:
    tiny = Lift(treated=85, treated_converted=63, holdout=2, holdout_converted=0)
    assert tiny.difference == pytest.approx(0.741, abs=1e-3) and tiny.verdict == TOO_FEW
    assert tiny.as_dict()["verdict"] == TOO_FEW
    enough = MIN_LIFT_GROUP
    assert Lift(10 * enough, 5 * enough, enough, 0).verdict == "better than the hold-out"
    assert Lift(10 * enough, 0, enough, enough // 2).verdict == "worse than the hold-out"
    assert Lift(10 * enough, 2 * enough, enough, enough // 5).verdict == "no clear difference"
    assert Lift(10 * enough, 5 * enough, enough - 1, 0).verdict == TOO_FEW
    # a journey without a hold-out (the NPS survey) has nothing to compare, whatever its size
    assert Lift(10 * enough, 5 * enough, 0, 0).verdict == NO_HOLDOUT


def _report() -> Report:
    counts = {
        ("2026-02-02", "-", "-"): Counter(entered=90, holdout=2, customers_converted=30),
        ("2026-02-02", "miss_you", "-"): Counter(
            sent=1200, delivered=1190, unique_opens_human=410, unique_clicks_human=123, unsubscribed=3
        ),
        ("2026-02-10", "incentive", "A"): Counter(
            sent=5, delivered=5, unique_opens_human=5, unique_clicks_human=2, attributed_orders=1
        ),
        ("2026-02-10", "incentive", "B"): Counter(sent=2, delivered=2, unique_opens_human=0, attributed_orders=0),
    }
    journey = journey_report("winback", counts, RULES)
    return Report(date(2026, 2, 1), date(2026, 2, 28), [journey], Rates(journey.totals.counts), health=RULES)


def test_per_step_table_with_counts_in_the_text_report() -> None:
    table = format_table(_report())
    assert "Per step (counts; conversions = orders attributed to the step's emails)" in table
    rows = {
        line.split()[0]: line.split()[1:]
        for line in table.splitlines()
        if line.startswith("  winback.") and ":" not in line
    }
    assert rows == {
        "winback.miss_you": ["1,200", "410", "123", "3", "0"],
        "winback.incentive": ["7", "5", "2", "0", "1"],
    }
    assert "too few to tell" in table  # the lift against 2 held-out customers


def test_html_report_has_the_step_counts_weekly_volumes_and_numbers_that_do_not_wrap() -> None:
    page = format_html(_report())
    assert "td{white-space:nowrap;font-variant-numeric:tabular-nums}" in page
    steps = page[page.index('<table id="steps">') :]
    steps = steps[: steps.index("</table>")]
    cells = re.findall(r"<td>([^<]*)</td>", steps)
    assert cells[:7] == ["winback.miss_you", "1,200", "1,190", "410", "123", "3", "0"]
    assert cells[9:16] == ["winback.incentive", "7", "7", "5", "2", "0", "1"]
    weeks = page[page.index('<table id="weeks">') :]
    weeks = weeks[: weeks.index("</table>")]
    assert "<td>2026-02-02</td><td>1,200</td><td>1,190</td>" in weeks and "34.5 %" in weeks
    assert "<td>2026-02-09</td><td>7</td><td>7</td>" in weeks and weeks.count(TOO_FEW) == 2  # 7 < MIN_WEEK_VOLUME
    assert MIN_WEEK_VOLUME > 7
    lift = page[page.index('<table id="lift">') :]
    assert '<td class="too-few">too few to tell</td>' in lift[: lift.index("</table>")]
    health = page[page.index('<table id="health">') :]
    health = health[: health.index("</table>")]
    assert '<td class="verdict-ok">0.3 % ok</td>' in health  # 3 unsubscribes in 1,197 emails
    assert '<td class="verdict-ok">34.7 % ok</td>' in health
    assert page.count("<svg") == 2
