"""``retention templates lint``: the shipped templates pass, and each kind of mistake is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from mail_helpers import add_template, html_email, template_root, text_email

from retention_tools.authoring.lint import lint


def test_no_template_in_the_repo_fails_lint() -> None:
    assert [str(problem) for problem in lint()] == []


GOOD_TEXT = text_email("Plenty of useful text for the reader.")


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (html_email("<p>{{ customer.nme }}</p>"), "customer.nme does not exist (did you mean 'name'?)"),
        (html_email("<p>{% if %}</p>"), "syntax error"),
        (html_email('<p>Useful</p><a href="http://shop.example.com/x">x</a>'), "not an absolute https URL"),
        (html_email('<p>Useful</p><a href="/relative">x</a>'), "not an absolute https URL"),
        (html_email('<p>Useful</p><img src="https://shop.example.com/i.png">'), "has no alt text"),
        (html_email("<p>a</p>{% promo %}<p>Buy everything now, big sale!</p>{% endpromo %}"), "above the 20 % limit"),
        (html_email("<p>Useful</p>", subject="x" * 90), "longer than 70"),
        (html_email("<p>Useful</p>", preheader=""), "preheader is empty"),
        (html_email("<p>Hello {{ customer.first_name }}, welcome</p>"), "empty field left a gap"),
        (
            html_email("<table>{% for i in [1, 2] %}<tr><td>Useful {{ i }}</td></tr>{% endfor %}</table>"),
            "CSS inlining changed the markup",
        ),
    ],
)
def test_lint_reports_each_mistake(tmp_path: Path, html: str, expected: str) -> None:
    root = template_root(tmp_path)
    add_template(root, "draft", html, GOOD_TEXT)
    problems = [str(problem) for problem in lint(root)]
    assert any(expected in problem and "draft" in problem.split(":")[0] for problem in problems), problems


def test_lint_reports_a_layout_without_unsubscribe_link(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    layout = root / "layout" / "base.txt"
    layout.write_text(layout.read_text(encoding="utf-8").replace("{{ links.unsubscribe }}", ""), encoding="utf-8")
    problems = [str(problem) for problem in lint(root)]
    assert any("no unsubscribe link" in problem for problem in problems)


def test_lint_reports_missing_text_part_and_unlisted_files(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    (root / "emails" / "review_request.txt").unlink()
    (root / "emails" / "orphan.html").write_text(html_email("<p>x</p>"), encoding="utf-8")
    problems = [str(problem) for problem in lint(root)]
    assert any("emails/review_request.txt is missing" in problem for problem in problems)
    assert any(problem.startswith("emails/orphan.html: not listed") for problem in problems)


def test_lint_names_the_file_and_field_of_a_bad_catalog(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    (root / "emails.yaml").write_text("templates:\n  x:\n    kind: advert\n    description: d\n", encoding="utf-8")
    problems = [str(problem) for problem in lint(root)]
    assert problems == ["emails.yaml:3:11: kind: should be 'content', 'feedback' or 'promotion', not 'advert'"]
