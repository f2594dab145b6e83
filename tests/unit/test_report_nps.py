"""The report's NPS section: computed from an NPS survey step's answer counters, in text, JSON
and HTML, with its interval and "too few to tell" below the minimum."""

from __future__ import annotations

from collections import Counter
from datetime import date

from retention.models.tracking import HealthRules
from retention.reporting.rates import Rates
from retention.reporting.report import MIN_NPS_ANSWERS, TOO_FEW, Report, format_table, journey_report, nps_rows
from retention_tools.report_html import format_html

DAY = "2026-05-04"


def _report(scores: dict[int, int], sent: int = 40) -> Report:
    """A report of one journey: the ``nps`` journey's ``survey`` step with these scores."""
    survey = Counter({"sent": sent, "delivered": sent, "answers": sum(scores.values())})
    survey.update({f"answer_score_{score}": n for score, n in scores.items()})
    winback = Counter({"sent": 10, "delivered": 10, "answers": 2, "answer_price": 2})
    nps = journey_report("nps", {(DAY, "survey", "-"): survey}, HealthRules())
    other = journey_report("winback", {(DAY, "feedback", "-"): winback}, HealthRules())
    return Report(date(2026, 5, 1), date(2026, 5, 31), [other, nps], Rates(survey + winback))


def test_the_nps_of_a_survey_step_in_text_json_and_html():
    # Given 5 promoters, 3 passives and 2 detractors (the hand-worked +30), and a win-back answer
    report = _report({10: 3, 9: 2, 8: 2, 7: 1, 6: 1, 0: 1})
    # Then only the survey step has an NPS
    ((journey, step, summary),) = nps_rows(report)
    assert (journey, step, summary.score) == ("nps", "survey", 30.0)
    # And the text names it with its interval, and too few to tell on 10 scores
    table = format_table(report)
    assert "Net Promoter Score" in table
    row = next(line for line in table.splitlines() if line.strip().startswith("nps.survey") and "NPS +" in line)
    assert "NPS +30 (95 % interval -18 to +78)" in row and TOO_FEW in row and f"{MIN_NPS_ANSWERS} needed" in row
    assert "5 promoters, 3 passives, 2 detractors" in table  # the feedback table summarises the scores
    # And the JSON carries the counts, the score and the interval
    found = report.journeys[1].as_dict()["feedback"]["survey"]["nps"]
    assert (found["promoters"], found["passives"], found["detractors"], found["nps"]) == (5, 3, 2, 30.0)
    assert [round(x) for x in found["interval_95"]] == [-18, 78] and found["too_few_to_tell"] is True
    assert "nps" not in report.journeys[0].as_dict()["feedback"]["feedback"]
    # And the HTML has its own table
    page = format_html(report)
    assert '<table id="nps">' in page and "<td>+30 <em>(too few to tell)</em></td>" in page


def test_enough_scores_make_a_verdict():
    report = _report({10: 20, 9: 10, 8: 10, 3: 10}, sent=100)
    ((_, _, summary),) = nps_rows(report)
    assert summary.total == 50 and summary.score == 40.0
    row = next(line for line in format_table(report).splitlines() if "NPS +40" in line)
    assert TOO_FEW not in row
