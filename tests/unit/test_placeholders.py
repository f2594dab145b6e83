"""Placeholder senders and tracking URLs are refused (retention/mail/placeholders.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retention.mail.placeholders import (
    ALLOW_PLACEHOLDERS_ENV,
    PlaceholderSettings,
    placeholder_host,
    placeholder_reason,
    refuse_placeholders,
)
from retention.mail.settings import MailSettings

REAL_SENDER = "hello@coffee-corner.shop"
REAL_TRACKING = "https://track.coffee-corner.shop"


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "Example.COM.",
        "mail.example.org",
        "example.net",
        "shop.invalid",
        "coffee.test",
        "localhost",
        "track.localhost",
        "shop.example",
        "printer.local",
        "127.0.0.1",
        "[::1]",
        "10.1.2.3",
        "",
    ],
)
def test_reserved_names_are_placeholders(host):
    assert placeholder_host(host)


@pytest.mark.parametrize(
    "host", ["coffee-corner.shop", "example.com.au", "notexample.com", "examples.org", "testing.de", "93.184.216.34"]
)
def test_real_names_are_not(host):
    assert not placeholder_host(host)


def test_each_placeholder_is_named_in_the_reason():
    assert "SENDER_ADDRESS" in placeholder_reason("hello@example.com", REAL_TRACKING)
    assert "TRACKING_BASE_URL" in placeholder_reason(REAL_SENDER, "https://track.example.com")
    assert "TRACKING_BASE_URL" in placeholder_reason(REAL_SENDER, "http://track.coffee-corner.shop")  # not https
    assert "not set" in placeholder_reason(REAL_SENDER, None)
    assert placeholder_reason(REAL_SENDER, REAL_TRACKING) is None
    assert placeholder_reason(REAL_SENDER, "https://abc123.execute-api.eu-west-1.amazonaws.com") is None


def _settings(sender: str, tracking: str | None) -> MailSettings:
    values = {
        "LINK_KEYS_SECRET": "keys",
        "SENDER_ADDRESS": sender,
        "SENDER_POSTAL_ADDRESS": "1 Roastery Lane, 10115 Berlin",
        "SHOP_URL": "https://coffee-corner.shop",
    }
    return MailSettings.model_validate(values | ({"TRACKING_BASE_URL": tracking} if tracking else {}))


def test_refusal_unless_the_embedded_aws_allows_placeholders(monkeypatch):
    monkeypatch.delenv(ALLOW_PLACEHOLDERS_ENV, raising=False)
    with pytest.raises(PlaceholderSettings, match=r"SENDER_ADDRESS 'hello@example\.com' is a placeholder"):
        refuse_placeholders(_settings("hello@example.com", REAL_TRACKING))
    with pytest.raises(PlaceholderSettings, match="TRACKING_BASE_URL is not set"):
        refuse_placeholders(_settings(REAL_SENDER, None))
    refuse_placeholders(_settings(REAL_SENDER, REAL_TRACKING))  # real settings: no refusal
    monkeypatch.setenv(ALLOW_PLACEHOLDERS_ENV, "yes")  # only the exact value opts out
    with pytest.raises(PlaceholderSettings):
        refuse_placeholders(_settings("hello@example.com", REAL_TRACKING))
    monkeypatch.setenv(ALLOW_PLACEHOLDERS_ENV, "embedded-aws")
    refuse_placeholders(_settings("hello@example.com", "https://track.example.com"))


def test_a_function_without_a_tracking_base_cannot_build_links():
    with pytest.raises(ValueError, match="TRACKING_BASE_URL is not set"):
        _ = _settings(REAL_SENDER, None).tracking_base


def test_a_test_send_with_placeholder_settings_sends_nothing(monkeypatch):
    # Given a stack still on the example.com defaults (the marketer's send-test against it)
    from retention.mail.render import Renderer
    from retention_tools.authoring.preview import PREVIEW_RING
    from retention_tools.authoring.sample_send import send_test
    from retention_tools.authoring.samples import sample_customers

    monkeypatch.delenv(ALLOW_PLACEHOLDERS_ENV, raising=False)
    settings = _settings("hello@example.com", "https://track.example.com")

    class Refusing:
        def send(self, *args: object) -> str:
            raise AssertionError("nothing may be sent")

    # When it is asked to send, Then it refuses with the reason before composing or sending
    with pytest.raises(PlaceholderSettings, match=r"example\.com"):
        send_test(
            "winback_miss_you",
            "marketer@coffee-corner.shop",
            sample_customers()[0],
            renderer=Renderer(),
            ring=PREVIEW_RING,
            settings=settings,
            sender=Refusing(),  # type: ignore[arg-type]
            now=datetime(2026, 3, 1, tzinfo=UTC),
        )
