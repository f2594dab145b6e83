"""``retention doctor --stack NAME`` against the embedded AWS: one line per check, an exit code."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from retention.mail.placeholders import ALLOW_PLACEHOLDERS_ENV
from retention_tools.cli import main
from retention_tools.doctor import Check, check_production_access, diagnose
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.http_api import LocalHttpApi
from retention_tools.local.runtime import load_function

_stages = itertools.count(1)
NAMES = [
    "SES identity",
    "SES production access",
    "SES configuration set",
    "tracking API",
    "link signing keys",
    "alarm topic",
]


@pytest.fixture
def tracking_api(moto_account: None) -> Iterator[LocalHttpApi]:
    with LocalHttpApi(load_function("tracking").handler) as api:
        yield api


def _stack(parameters: dict[str, str] | None = None) -> EmbeddedAws:
    return EmbeddedAws(stage=f"doc{next(_stages)}", shared=True, parameters=parameters)


def _by_name(checks: list[Check]) -> dict[str, Check]:
    assert [check.name for check in checks] == NAMES
    return {check.name: check for check in checks}


def test_a_ready_stack_passes_every_check_and_exits_0(tracking_api, capsys):
    with _stack({"AlarmEmail": "ops@coffee-corner.shop"}) as aws:
        stack = aws.register_stack({"TrackingBaseUrl": tracking_api.url})
        checks = _by_name(diagnose(stack, aws.client))
        code = main(["doctor", "--stack", stack, "--region", "eu-west-1"])
    assert all(check.ok for check in checks.values()), [c.line() for c in checks.values()]
    assert "hello@example.com verified" in checks["SES identity"].detail
    assert "DELIVERY" in checks["SES configuration set"].detail and "BOUNCE" in checks["SES configuration set"].detail
    assert "404" in checks["tracking API"].detail
    assert "email:ops@coffee-corner.shop" in checks["alarm topic"].detail
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":", 1)[0] for line in lines[:6]] == [f"ok   {name}" for name in NAMES]
    assert lines[6] == "ready to send"


def test_what_is_left_to_do_fails_its_line_and_exits_1(tracking_api, capsys):
    # Given a stack nobody subscribed to, whose sender has no SES identity, and whose tracking URL
    # answers something other than the tracking function
    with _stack() as aws, LocalHttpApi(lambda event, context: {"statusCode": 200, "body": "parked domain"}) as parked:
        overrides = {"TrackingBaseUrl": parked.url, "SenderAddress": "news@coffee-corner.shop"}
        stack = aws.register_stack(overrides)
        checks = _by_name(diagnose(stack, aws.client))
        code = main(["doctor", "--stack", stack, "--region", "eu-west-1"])
    failed = {name for name, check in checks.items() if not check.ok}
    assert failed == {"SES identity", "tracking API", "alarm topic"}
    assert "no SES identity for news@coffee-corner.shop or coffee-corner.shop" in checks["SES identity"].detail
    assert "answered 200, expected 404" in checks["tracking API"].detail
    assert "no confirmed subscription" in checks["alarm topic"].detail
    assert code == 1
    out = capsys.readouterr().out
    assert out.count("FAIL ") == 3 and "3 of 6 checks passed" in out


def test_a_placeholder_sender_or_tracking_url_fails_outside_the_embedded_aws(tracking_api, monkeypatch):
    with _stack() as aws:
        stack = aws.register_stack({"TrackingBaseUrl": tracking_api.url})
        monkeypatch.delenv(ALLOW_PLACEHOLDERS_ENV)
        checks = _by_name(diagnose(stack, aws.client))
    assert "hello@example.com is a placeholder" in checks["SES identity"].detail
    assert "is not a public https URL" in checks["tracking API"].detail
    assert not checks["SES identity"].ok and not checks["tracking API"].ok


def test_a_missing_stack_exits_2(moto_account, capsys):
    with _stack():
        assert main(["doctor", "--stack", "no-such-stack", "--region", "eu-west-1"]) == 2
    assert "no-such-stack" in capsys.readouterr().err


class _SesAccount:
    def __init__(self, **account: object) -> None:
        self.account = account

    def get_account(self) -> dict:
        return self.account


def test_the_sandbox_and_paused_sending_are_reported():
    def clients(account: dict):
        return lambda service: _SesAccount(**account)

    sandbox = check_production_access({}, clients({"ProductionAccessEnabled": False, "SendingEnabled": True}))
    paused = check_production_access({}, clients({"ProductionAccessEnabled": True, "SendingEnabled": False}))
    live = check_production_access(
        {}, clients({"ProductionAccessEnabled": True, "SendingEnabled": True, "SendQuota": {"MaxSendRate": 14.0}})
    )
    assert not sandbox.ok and "SES sandbox" in sandbox.detail and "request production access" in sandbox.detail
    assert not paused.ok and "paused" in paused.detail
    assert live.ok and "14 emails a second" in live.detail
