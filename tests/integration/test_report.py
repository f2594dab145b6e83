"""The report on real tracked mail: the CLI's table and JSON, and the HTML report in a browser."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from browser import dump_dom, png_colours, screenshot
from factories import T0
from journey_helpers import World, treated
from tracking_helpers import links_of, request

from retention_tools.cli import main
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.simulation import SIMULATION_TIMERS

_stages = itertools.count(1)
SENT = T0 + timedelta(days=90)


@pytest.fixture(scope="module")
def tracked(moto_account: None) -> Iterator[World]:
    """Twelve win-back emails: six opened by people, three by Apple's proxy only, two clicked, one ordered."""
    with EmbeddedAws(stage=f"r{next(_stages)}", shared=True, env=SIMULATION_TIMERS):
        world = World()
        ids = treated("REP", 12)
        world.winback_sent(ids, T0, SENT)
        for n, cid in enumerate(ids):
            links = links_of(world.mail_to(cid)[0])
            if n < 6:
                request("GET", f"/o/{links.pixel}", SENT + timedelta(hours=2))
            elif n < 9:
                request("GET", f"/o/{links.pixel}", SENT + timedelta(hours=2), user_agent="Mozilla/5.0", ip="17.1.1.1")
            if n < 2:
                request("GET", f"/c/{links.clicks[0]}", SENT + timedelta(hours=3))
        world.order(ids[0], SENT + timedelta(days=1), total="64.00")
        world.deliver(SENT + timedelta(days=1))
        yield world


def test_report_table_and_json_from_the_cli(tracked: World, capsys) -> None:
    since, until = SENT.date().isoformat(), (SENT + timedelta(days=2)).date().isoformat()
    assert main(["report", "--journey", "winback", "--since", since, "--until", until, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (winback,) = data["journeys"]
    counts, rates = winback["totals"]["counts"], winback["totals"]["rates"]
    assert counts["sent"] == 12 and counts["unique_opens_human"] == 6 and counts["unique_opens"] == 9
    assert rates["open_rate_human"] == 0.5 and rates["click_rate"] == pytest.approx(2 / 12, abs=1e-6)
    assert counts["attributed_orders"] == 1 and counts["attributed_revenue"] == "64"
    assert main(["report", "--since", since, "--until", until]) == 0
    table = capsys.readouterr().out
    assert "winback" in table and "50.0 %" in table and "Lift over the hold-out" in table
    assert main(["report", "--journey", "nope"]) == 2


def test_html_report_renders_with_charts_in_a_real_browser(tracked: World, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.html"
    since, until = SENT.date().isoformat(), (SENT + timedelta(days=2)).date().isoformat()
    assert main(["report", "--since", since, "--until", until, "--format", "html", "--output", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 2
    steps = html[html.index('<table id="steps">') :]
    assert "<td>winback.miss_you</td><td>12</td>" in steps[: steps.index("</table>")]
    assert 'id="weeks"' in html and 'id="health"' in html and "too few to tell" in html  # 12 emails, no hold-out
    shot = screenshot(out.as_uri(), tmp_path / "report.png", height=1800)
    assert png_colours(shot) > 40  # tables and two charts, not a blank page
    dom = dump_dom(out.as_uri())
    assert 'id="journeys"' in dom and 'id="lift"' in dom and "Pushing too hard?" in dom
    assert 'id="steps"' in dom and 'id="weeks"' in dom
