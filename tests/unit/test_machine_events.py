"""Machine opens and scanner clicks: each rule, and humans left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from retention.models.tracking import TrackingRules, Visit
from retention.tracking.machine import machine_click, machine_open, tracking_rules

SENT = datetime(2026, 5, 1, 10, tzinfo=UTC)
HUMAN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _visit(**changes) -> Visit:
    return Visit(**{"user_agent": HUMAN, "source_ip": "203.0.113.9", "at": SENT + timedelta(hours=2), **changes})


@pytest.fixture(scope="module")
def rules() -> TrackingRules:
    return tracking_rules()


def test_a_person_is_a_person(rules) -> None:
    assert machine_open(_visit(), SENT, rules) is None
    assert machine_click(_visit(), SENT, None, rules) is None


@pytest.mark.parametrize(
    "visit",
    [
        _visit(user_agent="Mozilla/5.0"),  # Apple Mail Privacy Protection
        _visit(source_ip="17.253.4.1"),  # Apple's network
        _visit(user_agent="Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"),
        _visit(at=SENT + timedelta(seconds=4)),  # prefetched on delivery
        _visit(user_agent=""),
    ],
)
def test_machine_opens(rules, visit) -> None:
    assert machine_open(visit, SENT, rules) is not None


@pytest.mark.parametrize(
    ("visit", "honeypot"),
    [
        (_visit(method="HEAD"), None),
        (_visit(user_agent="Mozilla/5.0 (compatible; Barracuda Sentinel)"), None),
        (_visit(user_agent="python-requests/2.32"), None),
        (_visit(at=SENT + timedelta(seconds=12)), None),
        (_visit(), SENT + timedelta(hours=2, seconds=-30)),  # right after the hidden link was followed
    ],
)
def test_scanner_clicks(rules, visit, honeypot) -> None:
    assert machine_click(visit, SENT, honeypot, rules) is not None


def test_the_shipped_rules_file_is_valid_and_bad_ranges_are_refused() -> None:
    assert tracking_rules().attribution_window_days == 5
    with pytest.raises(ValueError, match="not an IP range"):
        TrackingRules.model_validate({"machine_opens": {"ip_ranges": ["17.0.0.0/33"]}})
