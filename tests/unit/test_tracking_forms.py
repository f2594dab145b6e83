"""The tracking API's form reader: RFC 8058 one-click in both encodings, nothing else, never raising."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.tracking.http import MAX_BODY, MAX_FIELDS, form_fields, request_body

BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _multipart(*parts: tuple[str, bytes], headers: str = "") -> bytes:
    body = b""
    for disposition, value in parts:
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{headers}\r\n".encode() + value + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


ONE_CLICK = _multipart(('form-data; name="List-Unsubscribe"', b"One-Click"))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (ONE_CLICK, MULTIPART),
        (ONE_CLICK, f'multipart/form-data; boundary="{BOUNDARY}"'),
        (ONE_CLICK, f"Multipart/Form-Data; boundary={BOUNDARY}; charset=utf-8"),
        (ONE_CLICK.replace(b"\r\n", b"\n"), MULTIPART),  # bare LF line ends, as some clients send
        (
            _multipart(
                ('form-data; name="List-Unsubscribe"', b"T25lLUNsaWNr"), headers="Content-Transfer-Encoding: base64\r\n"
            ),
            MULTIPART,
        ),
        (b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded; charset=utf-8"),
        (b"List-Unsubscribe=One-Click", ""),
    ],
)
def test_one_click_is_read_from_both_encodings(body: bytes, content_type: str) -> None:
    assert form_fields(body, content_type) == {"List-Unsubscribe": "One-Click"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (ONE_CLICK, "multipart/form-data"),  # no boundary
        (ONE_CLICK, f"multipart/form-data; boundary={BOUNDARY}\r\nX-Injected: 1"),
        (ONE_CLICK, f"multipart/form-data; boundary={BOUNDARY}é"),
        (ONE_CLICK, "text/plain"),
        (ONE_CLICK, "application/json"),
        (ONE_CLICK + b"x" * MAX_BODY, MULTIPART),  # too big
        (_multipart(*[('form-data; name="List-Unsubscribe"', b"One-Click")] * 2), MULTIPART),  # given twice
        (b"List-Unsubscribe=One-Click&List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click" + b"&a=1" * MAX_FIELDS, "application/x-www-form-urlencoded"),
        (
            _multipart(
                *[(f'form-data; name="f{n}"', b"1") for n in range(MAX_FIELDS)],
                ('form-data; name="List-Unsubscribe"', b"One-Click"),
            ),
            MULTIPART,
        ),
        (b"List-Unsubscribe=One-Click\xff", "application/x-www-form-urlencoded"),  # not UTF-8
    ],
)
def test_anything_else_reads_as_an_empty_form(body: bytes, content_type: str) -> None:
    assert form_fields(body, content_type) == {}


@pytest.mark.parametrize(
    ("part_headers", "disposition"),
    [
        ("", 'form-data; name="List-Unsubscribe"; filename="x.txt"'),  # a file, not a field
        ("Content-Type: application/octet-stream\r\n", 'form-data; name="List-Unsubscribe"'),
        ("Content-Type: text/plain; charset=x-no-such-charset\r\n", 'form-data; name="List-Unsubscribe"'),
        ("", "form-data"),  # no name
    ],
)
def test_multipart_parts_that_are_not_text_fields_are_ignored(part_headers: str, disposition: str) -> None:
    assert form_fields(_multipart((disposition, b"One-Click"), headers=part_headers), MULTIPART) == {}


def test_a_field_in_another_charset_is_decoded_in_it() -> None:
    body = _multipart(
        ('form-data; name="action"', b"paus\xe9"), headers="Content-Type: text/plain; charset=latin-1\r\n"
    )
    assert form_fields(body, MULTIPART) == {"action": "pausé"}


def test_the_event_body_is_decoded_to_bytes_bounded_and_strictly() -> None:
    latin = b"action=paus\xe9"
    assert request_body(base64.b64encode(latin).decode(), True) == latin  # not forced through UTF-8
    assert request_body("action=pause", False) == b"action=pause"
    assert request_body(None, True) == b""
    assert request_body("not base64!", True) is None
    assert request_body(base64.b64encode(b"x" * (MAX_BODY + 10)).decode(), True) is None


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=400)
    | st.builds(lambda v: _multipart(('form-data; name="List-Unsubscribe"', v)), st.binary(max_size=40)),
    content_type=st.sampled_from([MULTIPART, "application/x-www-form-urlencoded", ""]) | st.text(max_size=60),
)
def test_reading_any_form_never_raises(body: bytes, content_type: str) -> None:
    fields = form_fields(body, content_type)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in fields.items())
    assert len(fields) <= MAX_FIELDS
