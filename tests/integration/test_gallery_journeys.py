"""The gallery's Journeys page and `retention journeys show`, the gallery cells (subject, preheader,
both shares, thumbnail, desktop/mobile frames, errors in plain words) through the real HTTP server."""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from browser import dump_dom, png_colours, screenshot
from mail_helpers import template_root

from retention.journeys.definitions import parse_journeys
from retention_tools.authoring.gallery import make_server
from retention_tools.authoring.journey_view import as_svg, picture, show_command, template_languages
from retention_tools.cli import main


def _serve(root: Path | None) -> Iterator[str]:
    server = make_server(0, root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gallery() -> Iterator[str]:
    yield from _serve(None)


def _get(url: str) -> str:
    return urllib.request.urlopen(url).read().decode()  # noqa: S310 - loopback


def test_journeys_show_prints_trigger_steps_split_holdout_languages_and_exits(capsys) -> None:
    assert main(["journeys", "show", "winback"]) == 0
    out = capsys.readouterr().out
    assert "trigger   CustomerInactive" in out and "segments at_risk, lapsed" in out
    assert "hold-out  10 % of entrants get nothing" in out
    assert "1. miss_you      day 0\n       purpose: marketing\n       winback_miss_you [en, de]" in out
    assert "2. feedback      day 7 (+7 d after the previous step)" in out
    assert "3. incentive     day 18 (+11 d after the previous step)" in out
    assert "variant A 50 %: winback_incentive [en, de]" in out
    assert "variant B 50 %: winback_incentive_short [en, de]" in out
    assert "coupon 15 % for 21 days" in out
    assert "exits     on ordered, unsubscribed, bounced; otherwise ends after incentive, apology" in out
    assert (
        "       after 3 d, the first that matches:\n"
        "         answered price → incentive (at once)\n"
        "         answered delivery → apology (at once)\n"
        "         otherwise → incentive (at its day)"
    ) in out
    assert "4. apology       only through a branch" in out and "       then → end" in out


def test_journeys_show_unknown_name_and_broken_file_say_so_without_a_traceback(tmp_path: Path, capsys) -> None:
    assert main(["journeys", "show", "winbak"]) == 2
    assert "no journey 'winbak' in journeys.yaml (did you mean 'winback'?)" in capsys.readouterr().err
    root = template_root(tmp_path)
    journeys = root / "journeys.yaml"
    journeys.write_text(
        journeys.read_text(encoding="utf-8").replace("template: review_request", "template: review_requets"),
        encoding="utf-8",
    )
    assert show_command("post_purchase", root) == 1
    err = capsys.readouterr().err
    assert "review_requets" in err and "Traceback" not in err


def test_languages_come_from_the_template_files_and_a_weighted_split_from_the_weights(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    (root / "emails" / "review_request.de.html").unlink()
    (root / "emails" / "review_request.de.txt").unlink()
    journeys = root / "journeys.yaml"
    journeys.write_text(
        journeys.read_text(encoding="utf-8")
        .replace("template: winback_incentive, weight: 1", "template: winback_incentive, weight: 3")
        .replace("reentry_days: 30\n", "reentry_days: 30\n    holdout_share: 0.2\n"),
        encoding="utf-8",
    )
    assert template_languages("review_request", root) == ("en",)
    assert template_languages("winback_miss_you", root) == ("en", "de")
    definitions = parse_journeys(root)
    post = picture("post_purchase", definitions, root)
    assert post.holdout_share == 0.2 and post.steps[1].uses[0].languages == ("en",)
    incentive = picture("winback", definitions, root).steps[2]
    assert [(u.variant, u.share) for u in incentive.uses] == [("A", 0.75), ("B", 0.25)]
    svg = as_svg(picture("winback", definitions, root))
    assert "A 75 %: winback_incentive" in svg and "B 25 %: winback_incentive_short" in svg


def test_the_winbacks_branches_are_drawn_from_their_step_to_where_they_lead() -> None:
    shown = picture("winback", parse_journeys())
    feedback = shown.steps[1]
    assert [(b.reaction, b.target) for b in feedback.branches] == [
        ("answered price", "incentive"),
        ("answered delivery", "apology"),
    ]
    assert feedback.check_after_days == 3 and feedback.then == "incentive"
    assert shown.steps[3].by_branch_only and not shown.steps[2].by_branch_only
    svg = as_svg(shown)
    lanes = re.findall(r'<g class="branch" data-from="(\d)" data-to="(\d)">.*?>([^<>]+)</text></g>', svg)
    # feedback -> incentive and -> apology; incentive's then: end -> the exits box (index 4)
    assert lanes == [("1", "2", "answered price"), ("1", "3", "answered delivery"), ("2", "4", "then end")]
    assert "after 3 d: branches below" in svg and "only by" in svg


def test_journeys_page_draws_every_journey_and_every_step_links_to_a_preview_that_renders(gallery: str) -> None:
    page = _get(gallery + "/journeys")
    definitions = parse_journeys()
    svgs = re.findall(r'<svg [^>]*data-journey="([a-z_]+)"', page)
    assert svgs == list(definitions.journeys)
    assert "<script" not in page and "cdn" not in page.lower()
    for name, journey in definitions.journeys.items():
        drawn = page[page.index(f'data-journey="{name}"') :]
        drawn = drawn[: drawn.index("</svg>")]
        for step in journey.steps:
            group = drawn[drawn.index(f'data-step="{step.id}"') :]
            group = group[: group.index("</g>")]
            previews = re.findall(r'<a class="preview" href="([^"]+)"', group)
            assert len(previews) == len(step.templates), (name, step.id)
            for href, template in zip(previews, step.templates, strict=True):
                assert href.startswith(f"/view/{template}/")
                shown = _get(gallery + unescape(href))
                assert "<dt>Subject</dt>" in shown and 'title="HTML part"' in shown
                assert "<html" in _get(gallery + unescape(href).replace("/view/", "/email/") + ".html")
            languages = re.findall(r'<a class="language" href="([^"]+)"><tspan>(\w+)</tspan>', group)
            assert [language for _, language in languages] == ["en", "de"] * len(step.templates)
            for href, language in languages:
                assert f"<dt>Language</dt><dd>{language}</dd>" in _get(gallery + unescape(href))
    assert "hold-out 10 % get nothing" in page and "on ordered" in page
    assert ">+11 d</text>" in page and ">day 18</text>" in page  # the gap and the day counted from entry


def test_gallery_cells_show_subject_preheader_both_shares_and_a_thumbnail(gallery: str) -> None:
    page = _get(gallery + "/")
    cells = page.count('<td class="cell">')
    assert cells >= 10 * 8
    assert page.count('<div class="shares">promotion: <span class="ok">HTML ') == cells
    assert page.count('· <span class="ok">text ') == cells
    assert page.count('<iframe loading="lazy" tabindex="-1" title="thumbnail"') == cells
    assert page.count('<div class="subject">') == cells and page.count('<div class="preheader">') == cells
    assert 'href="/journeys"' in page


def test_detail_view_has_desktop_and_mobile_frames_without_a_fixed_height(gallery: str) -> None:
    base = gallery + "/view/winback_incentive/sample-at-risk"
    desktop, mobile = _get(base), _get(base + "?frame=mobile")
    assert 'data-frame="desktop"' in desktop and "width: 602px" in desktop
    assert 'data-frame="mobile"' in mobile and "width: 377px" in mobile
    assert "?frame=mobile" in desktop and "?frame=desktop" in mobile
    assert "900px" not in desktop and "scrollHeight" in desktop  # the frame grows to the whole email
    assert 'data-frame="desktop"' in _get(base + "?frame=huge")


def test_a_broken_template_says_why_in_its_cells_in_plain_words(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    vip = root / "emails" / "vip_recognition.html"
    vip.write_text(vip.read_text(encoding="utf-8").replace("customer.greeting_name", "customer.greting_name"))
    thanks = root / "emails" / "post_purchase_thanks.html"
    source = thanks.read_text(encoding="utf-8")
    thanks.write_text(source.replace("{% endif %}", "", 1), encoding="utf-8")
    served = _serve(root)
    url = next(served)
    try:
        page = _get(url + "/")
        errors = [unescape(e) for e in re.findall(r'<span class="error">([^<]*)</span>', page)]
        misspelt = [e for e in errors if "greting_name" in e]
        assert misspelt and all(e.startswith("emails/vip_recognition.html:7") for e in misspelt)
        assert all("did you mean 'greeting_name'" in e for e in misspelt)
        unclosed = [e for e in errors if e.startswith("emails/post_purchase_thanks.html:")]
        assert unclosed and all("if" in e for e in unclosed)
        assert not any("dict object" in e or "Traceback" in e or len(e) > 400 for e in errors)
        view = _get(url + "/view/vip_recognition/sample-vip")
        assert "did you mean &#x27;greeting_name&#x27;" in view
    finally:
        next(served, None)


def test_journeys_page_and_detail_frames_in_a_real_browser(gallery: str, tmp_path: Path) -> None:
    shot = screenshot(gallery + "/journeys", tmp_path / "journeys.png", height=1600)
    assert png_colours(shot) > 8  # boxes, arrows and text, not a blank page
    dom = dump_dom(gallery + "/journeys")
    assert dom.count('class="journey"') == len(parse_journeys().journeys)
    assert dom.count('class="preview"') >= 8
    url = gallery + "/view/winback_incentive/sample-at-risk?frame=mobile"
    mobile = screenshot(url, tmp_path / "m.png", 900, 1600)
    assert png_colours(mobile) > 20
    fitted = re.search(r'data-frame="mobile"[^>]*style="width: 377px; height: (\d+)px;', dump_dom(url))
    assert fitted and int(fitted.group(1)) > 900  # grown to the whole email, the footer included
