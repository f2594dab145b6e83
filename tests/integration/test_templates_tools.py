"""Marketer tools: lint and preview from the command line, and the gallery page in a real browser."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import dump_dom, png_colours, screenshot

from retention_tools.authoring.gallery import make_server
from retention_tools.cli import main


def test_lint_command_passes_on_the_shipped_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "lint"]) == 0
    assert "no problems" in capsys.readouterr().out


def test_journeys_lint_command_lists_the_journeys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journeys", "lint"]) == 0
    out = capsys.readouterr().out
    assert (
        "winback: on CustomerInactive → miss_you (+0 d), feedback (+7 d; after 3 d: answered price → incentive,"
        " answered delivery → apology), incentive (+18 d), apology (by a branch)"
    ) in out


def test_preview_writes_html_and_text_for_a_segment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "preview", "winback_miss_you", "--segment", "lapsed", "--out", str(tmp_path)]) == 0
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == [
        "winback_miss_you--sample-de.html",
        "winback_miss_you--sample-de.txt",
        "winback_miss_you--sample-lapsed.html",
        "winback_miss_you--sample-lapsed.txt",
    ]
    assert "Hallo Greta," in (tmp_path / "winback_miss_you--sample-de.txt").read_text(encoding="utf-8")
    assert "promo" in capsys.readouterr().out


def test_preview_for_a_customer_file(tmp_path: Path) -> None:
    customer = tmp_path / "me.yaml"
    customer.write_text(
        "customer_id: me-1\nlabel: Me\nname: Ana Lima\nlifecycle: vip\norder_count: 30\ncategories: {tea: 9}\n",
        encoding="utf-8",
    )
    assert main(["templates", "preview", "vip_recognition", "--customer", str(customer), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "vip_recognition--me-1.txt").read_text(encoding="utf-8")
    assert "Hi Ana," in text and "Over 30 orders" in text


def test_preview_reports_unknown_template_and_bad_customer_file(tmp_path: Path, capsys) -> None:
    assert main(["templates", "preview", "nope"]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("customer_id: x\n", encoding="utf-8")
    assert main(["templates", "preview", "vip_recognition", "--customer", str(bad)]) == 2
    assert "label: Field required" in capsys.readouterr().err


@pytest.fixture
def gallery() -> Iterator[str]:
    server = make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_gallery_lists_every_template_for_every_sample(gallery: str) -> None:
    page = urllib.request.urlopen(gallery + "/").read().decode()  # noqa: S310 - loopback
    assert page.count('<div class="shares">promotion: ') >= 10 * 8
    assert 'class="over"' not in page and 'class="error"' not in page
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(gallery + "/view/nope/sample-new")  # noqa: S310
    assert missing.value.code == 404


def test_gallery_pages_render_in_a_real_browser(gallery: str, tmp_path: Path) -> None:
    index = screenshot(gallery + "/", tmp_path / "index.png")
    assert png_colours(index) > 8
    view_url = gallery + "/view/winback_incentive/sample-at-risk"
    view = screenshot(view_url, tmp_path / "view.png", height=1400)
    assert png_colours(view) > 20  # the email itself, in its iframe, not a blank page
    dom = dump_dom(view_url)
    assert "Promotion share" in dom and "within the limit" in dom
    assert '<iframe title="HTML part"' in dom
