"""The directly written MIME message is the one the stdlib ``email`` package writes, byte for byte."""

from __future__ import annotations

import email.quoprimime
from email import message_from_bytes
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st

from retention.mail import mime

_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP

# Text as templates write it: long and short lines, trailing blanks, '=', dots, non-ASCII, CR.
_TEXT = st.lists(
    st.sampled_from([*"ab =.\t\n-", "x" * 70, "é", "·", "😀", "\u2028", "\x0b", "\r", "\r\n", "From "]),
    max_size=80,
).map("".join)
_HEADER_VALUE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120) | st.sampled_from(
    [
        "a  b",
        " lead",
        "trail ",
        "x" * 75,
        "Grüße aus Köln",
        "<https://track.example.com/u/" + "t" * 60 + ">, <mailto:a@b>",
    ]
)


def stdlib_message(headers: list[tuple[str, str | Header]], text: str, html: str, boundary: str) -> bytes:
    """How compose built the message before: MIMEMultipart + MIMEText, compat32, as_bytes()."""
    message = MIMEMultipart("alternative")
    for name, value in headers:
        message[name] = value
    message.attach(MIMEText(text, "plain", _UTF8_QP))
    message.attach(MIMEText(html, "html", _UTF8_QP))
    message.set_boundary(boundary)
    return message.as_bytes()


@settings(max_examples=400, deadline=None)
@given(text=_TEXT)
def test_quoted_printable_is_the_stdlib_encoding(text: str) -> None:
    assert mime.quoted_printable(text) == email.quoprimime.body_encode(text.encode("utf-8").decode("latin-1"))


@settings(max_examples=300, deadline=None)
@given(value=_HEADER_VALUE, name=st.sampled_from(["Subject", "List-Unsubscribe", "X-Retention-Template"]))
def test_a_header_is_folded_as_compat32_folds_it(name: str, value: str) -> None:
    assert mime.header(name, value) == compat32.fold(name, value)


@settings(max_examples=150, deadline=None)
@given(subject=_HEADER_VALUE, text=_TEXT, html=_TEXT, non_ascii=st.booleans())
def test_the_whole_message_is_the_stdlib_message(subject: str, text: str, html: str, non_ascii: bool) -> None:
    # Given the headers compose writes, a subject that may need RFC 2047, and any two bodies
    title: str | Header = Header(subject + " ü", "utf-8") if non_ascii else subject
    headers: list[tuple[str, str | Header]] = [
        ("From", "The Coffee Corner <hello@shop.example.com>"),
        ("Subject", title),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    boundary = mime.boundary()
    # When both builders write it with the same boundary, Then the bytes are the same
    assert mime.alternative(headers, text, html, boundary) == stdlib_message(headers, text, html, boundary)


def test_the_boundary_cannot_occur_in_a_quoted_printable_body() -> None:
    # Given a body that spells out a boundary-like line
    separator = mime.boundary()
    body = f"--{separator}\n--{separator}--\n"
    # When it is encoded, Then no line of it is the boundary (every '=' became '=3D')
    assert separator not in mime.quoted_printable(body)
    parsed = message_from_bytes(mime.alternative([("Subject", "s")], body, body, separator))
    assert [part.get_payload(decode=True).decode() for part in parsed.get_payload()] == [body, body]


def test_unsubscribe_post_header_stays_plain_ascii_for_rfc8058_clients() -> None:
    message = mime.alternative([("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")], "t", "h")
    assert b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n" in message
