"""The feedback answers of emails.yaml: a template may only link answers its entry lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from mail_helpers import template_root

from retention.mail import catalog as files
from retention_tools.authoring.lint import lint


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return template_root(tmp_path)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    files.clear_caches()


def _errors(root: Path) -> list[str]:
    return [str(p) for p in lint(root, check_inlining=False) if p.severity == "error"]


def test_the_shipped_feedback_email_links_only_known_answers(root: Path) -> None:
    assert _errors(root) == []


def test_a_link_to_an_unknown_answer_is_refused_at_its_line_with_the_answer_meant(root: Path) -> None:
    _replace(root / "emails/winback_feedback.html", "links.feedback.delivery", "links.feedback.delivry")
    assert _errors(root) == [
        "emails/winback_feedback.html:12:16: links to the answer 'delivry', which is not among winback_feedback's "
        "answers in emails.yaml (price, taste, delivery, elsewhere, stock) (did you mean 'delivery'?)"
    ]


def test_an_answer_removed_from_emails_yaml_is_refused_in_every_part_that_links_it(root: Path) -> None:
    _replace(root / "emails.yaml", "answers: [price, taste, delivery, elsewhere, stock]", "answers: [price, taste]")
    wrong = [p for p in _errors(root) if "links to the answer" in p]
    assert len(wrong) == 4 * 3  # delivery, elsewhere, stock in the English and German HTML and text parts


def test_answers_belong_to_feedback_templates_and_are_listed_once(root: Path) -> None:
    _replace(root / "emails.yaml", "answers: [price, taste, delivery", "answers: [price, price, delivery")
    (problem,) = _errors(root)
    assert "price listed more than once" in problem
