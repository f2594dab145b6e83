"""Every language complete (issue 17): the reader's pages (unsubscribe, preferences, done,
invalid) in the email's language, from words marketers translate in ``templates/pages/<language>.yaml``
(escaped like customer data, placeholders checked, never a broken unsubscribe page), and the lint
refusing an email left untranslated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from retention.models.pages import ENGLISH, PageWords
from retention.tracking import pages
from retention_tools.authoring.lint import lint

REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(REPO_TEMPLATES, copy)
    monkeypatch.setenv("RETENTION_TEMPLATES_DIR", str(copy))
    pages._words.cache_clear()
    yield copy
    pages._words.cache_clear()


def _edit(root: Path, language: str, page: str, field: str, words: str) -> None:
    path = root / "pages" / f"{language}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[page][field] = words
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pages._words.cache_clear()


def test_the_built_in_english_is_the_shipped_english_file() -> None:
    shipped = PageWords.model_validate(yaml.safe_load((REPO_TEMPLATES / "pages" / "en.yaml").read_text("utf-8")))
    assert shipped == ENGLISH


def test_every_language_an_email_is_written_in_has_its_pages() -> None:
    languages = {p.name.split(".")[1] for p in (REPO_TEMPLATES / "emails").glob("*.*.html")} | {"en"}
    for language in languages:
        path = REPO_TEMPLATES / "pages" / f"{language}.yaml"
        PageWords.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(("asked", "shown"), [("de", "de"), ("de-AT", "de"), ("de_CH", "de"), ("fr", "en"), ("", "en")])
def test_a_page_speaks_the_emails_language_or_english(root: Path, asked: str, shown: str) -> None:
    html = pages.page("unsubscribed", "Kaffeehaus", language=asked)
    assert f'<html lang="{shown}">' in html
    assert ("Sie sind abgemeldet" in html) is (shown == "de")


def test_a_marketers_words_are_escaped_and_the_placeholders_filled(root: Path) -> None:
    _edit(root, "de", "paused", "text", 'Bis $until <b onmouseover="x()">keine</b> Post von $shop.')
    html = pages.page("paused", "Tee & <Kaffee>", language="de", until="2026-12-31")
    words = "Bis 2026-12-31 &lt;b onmouseover=&quot;x()&quot;&gt;keine&lt;/b&gt; Post von Tee &amp; &lt;Kaffee&gt;."
    assert words in html
    assert "<b " not in html and "<Kaffee>" not in html


def test_a_broken_file_shows_english_rather_than_breaking_the_unsubscribe_page(root: Path) -> None:
    (root / "pages" / "de.yaml").write_text("unsubscribe: [not, a, page]\n", encoding="utf-8")
    pages._words.cache_clear()
    html = pages.page("unsubscribe", "Shop", language="de", action="https://t.example/u/x", pause_days=30)
    assert "Do you want to stop receiving these emails from Shop?" in html and 'value="One-Click"' in html


def test_an_unknown_placeholder_is_reported_by_the_lint_with_the_file(root: Path) -> None:
    _edit(root, "de", "paused", "text", "Bis $untill keine E-Mails.")
    problems = [str(p) for p in lint(root, check_inlining=False)]
    assert any("pages/de.yaml" in p and "$untill" in p and "$until" in p for p in problems), problems


def test_a_language_without_pages_is_reported_by_the_lint(root: Path) -> None:
    (root / "pages" / "de.yaml").unlink()
    problems = [str(p) for p in lint(root, check_inlining=False)]
    assert any("pages/de.yaml" in p and "English" in p for p in problems), problems


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR, en;q=0.4, de;q=0.6", "de"),
        ("en-GB,de;q=0.5", "en"),
        ("", "en"),
        ("*;q=0.1, x-klingon;q=abc", "en"),
    ],
)
def test_the_browser_language_picks_the_page_for_an_unreadable_link(root: Path, header: str, language: str) -> None:
    assert pages.preferred_language(header) == language


def test_an_email_left_untranslated_is_reported_by_the_lint(root: Path) -> None:
    (root / "emails" / "winback_feedback.de.html").unlink()
    (root / "emails" / "winback_feedback.de.txt").unlink()
    problems = [str(p) for p in lint(root, check_inlining=False)]
    assert problems == [
        "emails/winback_feedback.de.html: missing: customers whose language is 'de' would get "
        "'winback_feedback' in 'en' while their other emails are in 'de'"
    ]
