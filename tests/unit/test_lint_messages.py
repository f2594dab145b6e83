"""Errors a marketer can act on (issue 17): every lint message names the file, line and column,
says the problem in plain words, offers the name that was probably meant, and appears once for a
mistake every sample customer hits. Each case is a crafted broken copy of templates/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mail_helpers import add_template, html_email, template_root, text_email

from retention.mail import catalog as files
from retention_tools.authoring.lint import lint
from retention_tools.authoring.lint_all import journeys_problems, segments_problems
from retention_tools.cli import main

TEXT = text_email("Plenty of useful text for the reader.")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return template_root(tmp_path)


def _samples(root: Path) -> int:
    return len(files.samples(root).customers)


def _draft(root: Path, html: str, text: str = TEXT) -> list[str]:
    """Lint problems about the crafted email ``draft`` (its missing German version aside)."""
    add_template(root, "draft", html, text)
    return [str(p) for p in lint(root, check_inlining=False) if "draft" in p.where and ".de." not in p.where]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    files.clear_caches()


def test_a_misspelt_variable_names_the_line_and_the_field_meant_once_for_all_samples(root: Path) -> None:
    html = html_email("<p>Useful text</p>\n<p>Hi {{ customer.frist_name }}</p>")
    assert _draft(root, html) == [
        f"emails/draft.html:2:10: customer.frist_name does not exist (did you mean 'first_name'?) "
        f"(in {_samples(root)} of {_samples(root)} sample customers)"
    ]


def test_a_misspelt_top_level_name_is_matched_to_the_emails_data(root: Path) -> None:
    (problem,) = _draft(root, html_email("<p>Useful text</p>\n\n<p>{{ custmer.first_name }}</p>"))
    assert problem.startswith("emails/draft.html:3:7: custmer is not defined (did you mean 'customer'?)")


def test_an_unclosed_if_is_reported_where_it_opens_not_at_the_endblock(root: Path) -> None:
    html = html_email("<p>Useful text</p>\n  {% if customer.first_name %}\n<p>Hi</p>\n")
    assert _draft(root, html) == [
        "emails/draft.html:2:3: {% if %} is never closed: add {% endif %} where it should end (Jinja noticed on line 4)"
    ]


def test_an_unclosed_div_is_reported_where_it_opens(root: Path) -> None:
    html = html_email("<p>Useful text</p>\n<div class='card'>\n  <p>More useful text</p>\n")
    problems = _draft(root, html)
    assert "emails/draft.html:2:1: <div> is opened here and never closed (add </div>)" in problems
    assert not any("CSS inlining" in p for p in problems)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<p>{{ 12 | monye }}</p>", "there is no filter 'monye' (did you mean 'money'?)"),
        ("<p>x</p>{% fi customer.first_name %}y{% endif %}", "there is no tag 'fi' (did you mean 'if'?)"),
    ],
)
def test_unknown_filters_and_tags_suggest_the_real_one(root: Path, content: str, expected: str) -> None:
    (problem,) = _draft(root, html_email(content))
    assert problem.startswith("emails/draft.html:1:") and problem.endswith(expected)


def test_a_sale_in_the_html_part_only_is_a_warning_that_does_not_fail_the_lint(root: Path) -> None:
    words = "Plenty of useful words for the reader, about brewing and storing beans. " * 6
    promo = '{% promo %}<p>Sale: <a href="https://shop.example.com/sale">beans</a></p>{% endpromo %}'
    problems = _draft(root, html_email(f"<p>{words}</p>{promo}"), text_email(words))
    assert any("warning: a {% promo %} block is only in the HTML part" in p for p in problems), problems
    assert any("warning: the link https://shop.example.com/sale is only in the HTML part" in p for p in problems)
    assert all("warning:" in p for p in problems)


def test_a_journey_setting_typo_is_placed_and_matched(root: Path) -> None:
    _replace(root / "journeys.yaml", "{id: miss_you, delay_days: 0", "{id: miss_you, delay_dayz: 0")
    (problem,) = map(str, journeys_problems(root))
    assert re.fullmatch(
        r"journeys\.yaml:\d+:\d+: 'delay_dayz' is not a setting here \(did you mean 'delay_days'\?\)", problem
    )


def test_a_journey_naming_a_missing_template_suggests_the_real_one(root: Path) -> None:
    _replace(root / "journeys.yaml", "template: winback_feedback\n", "template: winback_feedbak\n")
    (problem,) = map(str, journeys_problems(root))
    assert re.fullmatch(
        r"journeys\.yaml:\d+:\d+: winback\.feedback: template 'winback_feedbak' is not listed in emails\.yaml "
        r"\(did you mean 'winback_feedback'\?\)",
        problem,
    )


def _line_of(root: Path, text: str) -> int:
    lines = (root / "journeys.yaml").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_a_branch_to_a_misspelt_step_is_placed_at_the_target_with_the_step_meant(root: Path) -> None:
    _replace(root / "journeys.yaml", "go_to: apology}", "go_to: apolgy}")
    (problem,) = map(str, journeys_problems(root))
    line = _line_of(root, "go_to: apolgy")
    assert re.fullmatch(
        rf"journeys\.yaml:{line}:\d+: winback: step feedback: go_to 'apolgy' is not a step of this journey "
        r"\(did you mean 'apology'\?\)",
        problem,
    ), problem


def test_two_path_mistakes_are_two_lines_each_at_its_place(root: Path) -> None:
    _replace(root / "journeys.yaml", "go_to: incentive}", "go_to: miss_you}")
    _replace(root / "journeys.yaml", "then: end", "then: ned")
    problems = list(map(str, journeys_problems(root)))
    assert len(problems) == 2, problems
    back, misspelt = problems
    assert back.startswith(f"journeys.yaml:{_line_of(root, 'go_to: miss_you')}:")
    assert back.endswith("winback: step feedback: go_to 'miss_you' goes back; a journey only moves forward")
    assert misspelt.startswith(f"journeys.yaml:{_line_of(root, 'then: ned')}:")
    assert misspelt.endswith("winback: step incentive: then 'ned' is not a step of this journey (did you mean 'end'?)")


def test_a_step_no_path_reaches_is_named_at_its_id(root: Path) -> None:
    _replace(
        root / "journeys.yaml",
        "{when: {answered: delivery}, go_to: apology}",
        "{when: {answered: delivery}, go_to: end}",
    )
    (problem,) = map(str, journeys_problems(root))
    assert problem.startswith(f"journeys.yaml:{_line_of(root, 'id: apology')}:")
    assert problem.endswith("winback: step apology is never reached")


def test_a_branch_on_an_answer_the_email_does_not_offer_names_the_answers_it_has(root: Path) -> None:
    _replace(root / "journeys.yaml", "{answered: price}", "{answered: prise}")
    (problem,) = map(str, journeys_problems(root))
    assert problem.startswith(f"journeys.yaml:{_line_of(root, 'answered: prise')}:")
    assert problem.endswith(
        "winback.feedback: answer 'prise' is not an answer of winback_feedback "
        "(price, taste, delivery, elsewhere, stock) (did you mean 'price'?)"
    ), problem


def test_a_segment_fact_typo_is_one_line_with_the_fact_meant(root: Path) -> None:
    _replace(root / "segments.yaml", "{overdue_ratio: {gte: 3}}", "{overdue_ratoi: {gte: 3}}")
    (problem,) = map(str, segments_problems(root))
    assert re.fullmatch(
        r"segments\.yaml:\d+:\d+: there is no fact 'overdue_ratoi' \(did you mean 'overdue_ratio'\?\)", problem
    )


def test_broken_yaml_is_a_line_and_column_not_a_traceback(root: Path, capsys, monkeypatch) -> None:
    (root / "journeys.yaml").write_text("journeys:\n  winback: [steps\n", encoding="utf-8")
    monkeypatch.setenv("RETENTION_TEMPLATES_DIR", str(root))
    assert main(["journeys", "lint"]) == 1
    out, err = capsys.readouterr()
    assert re.match(r"journeys\.yaml:3:1: not valid YAML: ", out) and "Traceback" not in out + err


def test_retention_lint_checks_everything_and_speaks_json(root: Path, capsys, monkeypatch) -> None:
    _replace(root / "segments.yaml", "{overdue_ratio: {gte: 3}}", "{overdue_ratoi: {gte: 3}}")
    _replace(root / "tracking.yaml", "pause_days: 30", "pause_dais: 30")
    monkeypatch.setenv("RETENTION_TEMPLATES_DIR", str(root))
    assert main(["lint", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    found = {(p["check"], p["file"]) for p in report["problems"]}
    assert found == {("segments", "segments.yaml"), ("tracking", "tracking.yaml")}
    assert report["errors"] == 2 and all(p["line"] and p["column"] for p in report["problems"])
    tracking = next(p for p in report["problems"] if p["check"] == "tracking")
    assert tracking["message"] == "'pause_dais' is not a setting here (did you mean 'pause_days'?)"
