"""Hostile addresses and names: refused or cleaned where they enter, and never able to shape a header.

An address is checked twice: at ingest (the event models normalise it) and before each send
(:func:`deliverable_address`, for what the store holds from before). The To header is built by
the standard library's formatter, so a name can be anything and still be one display name.
"""

from __future__ import annotations

import email
import unicodedata
from email.mime.multipart import MIMEMultipart
from email.policy import default
from email.utils import getaddresses

import pytest
from factories import order_detail
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from retention.mail.addresses import deliverable_address, to_header
from retention.models.events import OrderPlaced
from retention.models.types import clean_text, normalise_email

HOSTILE = [
    "a\x00b@example.com",
    "a\x01b@example.com",
    "a\x1bb@example.com",
    "a\x7f@example.com",
    "a\r\nbcc@example.com",
    "a:b@example.com",  # group syntax
    "a(b)@example.com",  # comment
    "a\\b@example.com",
    "a[b]@example.com",
    "a<b>@example.com",
    "a,b@example.com",
    '"quoted local"@example.com',
    "a@[192.0.2.1]",  # IP literal
    "a@localhost",
    "a@shop.test",  # special-use
    "a@shop.invalid",
    "a..b@example.com",
    ".a@example.com",
    "a@-shop.com",
    "a@example.com\x00",
    "a@exa\ud800mple.com",  # a lone surrogate
    "x" * 65 + "@example.com",
    "",
    "no-at-sign",
]


@pytest.mark.parametrize(
    ("given_address", "normal"),
    [
        ("o'brien@example.com", "o'brien@example.com"),  # RFC 5322 atext includes the apostrophe
        ("Ada.Lovelace+news@Example.COM", "Ada.Lovelace+news@example.com"),
        ("  leyla@example.com ", "leyla@example.com"),
        ("anna@bücher.example", "anna@bücher.example"),
        ("ömer@example.com", "ömer@example.com"),  # accepted and stored; SES cannot send to it
    ],
)
def test_valid_addresses_are_normalised_at_ingest(given_address: str, normal: str) -> None:
    assert OrderPlaced.model_validate(order_detail(email=given_address)).email == normal


@pytest.mark.parametrize("address", HOSTILE)
def test_hostile_addresses_are_refused_at_ingest_naming_the_field(address: str) -> None:
    with pytest.raises(ValidationError) as refused:
        OrderPlaced.model_validate(order_detail(email=address))
    (problem,) = refused.value.errors()
    assert problem["loc"] == ("email",)


@pytest.mark.parametrize("address", HOSTILE)
def test_hostile_addresses_already_stored_are_never_sent_to(address: str) -> None:
    assert deliverable_address(address) is None


def test_to_header_quotes_specials_and_encodes_non_ascii_names() -> None:
    assert to_header("O'Brien, Ann", "o'brien@example.com") == "\"O'Brien, Ann\" <o'brien@example.com>"
    assert to_header("", "leyla@example.com") == "leyla@example.com"
    encoded = to_header("Ömer Çelik", "omer@example.com")
    assert encoded.isascii() and encoded.endswith(" <omer@example.com>")
    assert _parsed_to(encoded) == [("Ömer Çelik", "omer@example.com")]


def test_a_name_cannot_add_a_header_line() -> None:
    header = to_header("Ann\r\nBcc: victim@example.com", "ann@example.com")
    message = _sent_with(header)
    assert message["Bcc"] is None
    assert _parsed_to(header) == [("Ann Bcc: victim@example.com", "ann@example.com")]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Leyla\r\nMammadova", "Leyla Mammadova"),
        ("Ann\x00\x1b[31m Lee", "Ann [31m Lee"),
        ("a\u2028b\u2029c", "a b c"),
        ("\u202eevil\u202c name", "evil name"),  # a right-to-left override would display it reversed
        ("  spaced\t\tout  ", "spaced out"),
        ("Zoë 😀", "Zoë 😀"),
    ],
)
def test_names_are_cleaned_once_where_they_enter(raw: str, clean: str) -> None:
    order = OrderPlaced.model_validate(
        order_detail(name=raw, items=[{"sku": "S1", "name": raw, "category": "beans", "price": "20.00", "qty": 1}])
    )
    assert order.name == clean and order.items[0].name == clean


# ------------------------------------------------------------------ properties

_addressish = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text("abcXYZ019'.+-_!#$%&*/=?^`{|}~ö", min_size=1, max_size=12)
    | st.text(st.characters(codec="utf-8"), min_size=0, max_size=20)
    | st.text("abc'.+-_!#$%&*/=?^`{|}~():;<>[]\\\" \r\n\x00\x7f", max_size=12),
    st.text(st.characters(codec="utf-8"), max_size=20)
    | st.sampled_from(["example.com", "Example.COM", "bücher.example", "shop.test", "[192.0.2.1]", "localhost"]),
)
_SPECIALS = set('()<>[]:;@\\,"') - {"@"}


@settings(max_examples=400, deadline=None)
@given(address=_addressish | st.text(max_size=40), name=st.text(max_size=40))
def test_any_accepted_address_is_plain_atext_and_makes_exactly_one_recipient(address: str, name: str) -> None:
    try:
        stored = normalise_email(address)
    except ValueError:
        assert deliverable_address(address) is None  # what ingest refuses, sending refuses too
        return
    local, _, domain = stored.rpartition("@")
    assert local and "@" not in local and "." in domain and not (_SPECIALS & set(stored))
    assert all(unicodedata.category(ch)[0] != "C" and not ch.isspace() for ch in stored)
    assert normalise_email(stored) == stored  # normal form is a fixed point
    sendable = deliverable_address(stored)
    if sendable is None:
        assert not local.isascii()  # only SMTPUTF8 addresses are stored but not sent
        return
    assert sendable.isascii()
    header = to_header(name, sendable)
    assert "\r" not in header and "\n" not in header
    message = _sent_with(header)
    assert [address for _, address in getaddresses([str(message["To"])])] == [sendable]
    assert list(message.keys()) == ["Content-Type", "MIME-Version", "To"]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_cleaned_text_has_no_control_characters_and_is_stable(text: str) -> None:
    cleaned = clean_text(text)
    assert all(unicodedata.category(ch) not in ("Cc", "Zl", "Zp", "Cs") for ch in cleaned)
    assert clean_text(cleaned) == cleaned
    cleaned.encode("utf-8")  # storable and sendable


def _sent_with(to: str) -> email.message.EmailMessage:
    """The To header as a mail client reads it after the MIME is serialised."""
    message = MIMEMultipart()
    message["To"] = to
    return email.message_from_bytes(message.as_bytes(), policy=default)


def _parsed_to(header: str) -> list[tuple[str, str]]:
    parsed = _sent_with(header)["To"]
    return [(address.display_name, address.addr_spec) for address in parsed.addresses]
