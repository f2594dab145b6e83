"""The tracking API's HTTP answers and form parsing, so the handler is only its routes.

Forms are read from at most ``MAX_BODY`` bytes of the decoded body in the two encodings a
browser or a mailbox provider sends for RFC 8058's one-click unsubscribe: ``multipart/form-data``
(what RFC 8058 recommends; parsed by the standard library's MIME parser, text parts only) and
``application/x-www-form-urlencoded``. Anything else — too big, not decodable, an unknown
charset, a content type with control characters or without a boundary, another content type,
more than ``MAX_FIELDS`` fields, a field given twice — reads as an empty form, which every route
answers with 400. Reading a form never raises.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.errors
import email.parser
import email.policy
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response

from retention.tracking.errors import MalformedLink, RefusedLink
from retention.tracking.pages import page

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
HTML_HEADERS = {
    **NO_CACHE,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_BODY = 2048
MAX_FIELDS = 10


def status_of(error: RefusedLink) -> int:
    """400 for text that is not a token; 404 for everything else (the same neutral page)."""
    return 400 if isinstance(error, MalformedLink) else 404


def pixel(status: int = 200) -> Response:
    return Response(status_code=status, content_type="image/gif", body=GIF, headers=NO_CACHE)


def html(status: int, name: str, shop: str, shop_url: str, language: str = "", **values: object) -> Response:
    body = page(name, shop, shop_url, language, **values)
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=HTML_HEADERS)


def redirect(location: str) -> Response:
    return Response(status_code=302, headers={**NO_CACHE, "Location": location}, body="")


def request_body(body: str | None, base64_encoded: bool) -> bytes | None:
    """The raw bytes of an HTTP API event's body, or None when it is too big to be a form or is
    not valid base64. Decoded here rather than by Powertools' ``decoded_body``, which also
    decodes the bytes as UTF-8 and so refuses a form sent in another charset."""
    if not body:
        return b""
    if len(body) > (MAX_BODY * 4 // 3 + 4 if base64_encoded else MAX_BODY):
        return None
    try:
        return base64.b64decode(body, validate=True) if base64_encoded else body.encode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return None


def form_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The fields of a small form body, each given once; empty for anything else (see the module)."""
    if len(body) > MAX_BODY or not content_type.isascii() or any(ord(ch) < 32 for ch in content_type):
        return {}
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            return _multipart(body, content_type)
        if kind in ("application/x-www-form-urlencoded", ""):
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
            return {name: values[0] for name, values in parsed.items() if len(values) == 1}
    except (ValueError, LookupError, email.errors.MessageError):  # UnicodeDecodeError is a ValueError
        return {}
    return {}


def _multipart(body: bytes, content_type: str) -> dict[str, str]:
    """``multipart/form-data`` text fields (no files), parsed by the standard library's MIME parser."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("ascii")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or not message.get_boundary():
        return {}
    parts = list(message.iter_parts())
    if len(parts) > MAX_FIELDS:
        return {}
    fields: dict[str, list[str]] = {}
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None or part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = codecs.lookup(part.get_content_charset() or "utf-8").name  # LookupError: unknown charset
        fields.setdefault(name, []).append(payload.decode(charset))
    return {name: values[0] for name, values in fields.items() if len(values) == 1}
