"""The local HTTP API adapter over real sockets on 127.0.0.1: malformed framing is answered, never
dropped, and a client that stops sending is answered 408 instead of holding the server."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from retention_tools.local.http_api import MAX_BODY, LocalHttpApi

TIMEOUT = 0.3  # the adapter's read timeout in these tests: short, so a stalled client is answered soon


def _echo(event: dict[str, Any], _: Any) -> dict[str, Any]:
    """A function that answers with the length of the body it was given."""
    if event["rawPath"] == "/fail":
        raise RuntimeError("the function broke")
    body = base64.b64decode(event["body"]) if event.get("body") else b""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(len(body))}


@pytest.fixture
def api() -> Iterator[LocalHttpApi]:
    with LocalHttpApi(_echo, read_timeout=TIMEOUT) as served:
        yield served


def _exchange(api: LocalHttpApi, raw: bytes, close_sending: bool = False) -> tuple[int, bytes]:
    """Send ``raw`` on a fresh connection and read the whole answer (the adapter speaks HTTP/1.0)."""
    host, port = api.server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(raw)
        if close_sending:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 "), answer[:80]  # an answer, not a dropped connection
    return int(head.split(b" ", 2)[1]), body


def _post(length_headers: str, body: bytes = b"") -> bytes:
    return f"POST /x HTTP/1.1\r\nHost: localhost\r\n{length_headers}\r\n".encode() + body


def test_a_well_framed_request_reaches_the_function(api: LocalHttpApi) -> None:
    assert _exchange(api, _post("Content-Length: 5\r\n", b"hello")) == (200, b"5")
    assert _exchange(api, b"GET /x HTTP/1.0\r\n\r\n") == (200, b"0")
    assert api.requests == 2


@pytest.mark.parametrize(
    "length_headers",
    [
        "Content-Length: abc\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: +5\r\n",
        "Content-Length: 1e3\r\n",
        "Content-Length: 5, 5\r\n",
        "Content-Length: \r\n",
        "Content-Length: 99999999999999999999\r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
    ],
)
def test_a_content_length_that_is_not_one_number_is_answered_400(api: LocalHttpApi, length_headers: str) -> None:
    status, body = _exchange(api, _post(length_headers, b"hello"))
    assert (status, body) == (400, b"Content-Length must be one decimal number")
    assert api.requests == 0  # the function never saw it


def test_a_body_shorter_than_its_length_is_answered_408_when_the_client_goes_silent(api: LocalHttpApi) -> None:
    # Given a client that announces 100 bytes, sends 10 and then waits
    status, body = _exchange(api, _post("Content-Length: 100\r\n", b"0123456789"))
    # Then the adapter answers once its read times out, instead of waiting forever
    assert (status, body) == (408, b"request body not received in time")
    assert _exchange(api, _post("Content-Length: 2\r\n", b"ok")) == (200, b"2")  # and serves the next client


def test_a_body_cut_short_by_the_client_is_answered_400(api: LocalHttpApi) -> None:
    status, body = _exchange(api, _post("Content-Length: 100\r\n", b"0123456789"), close_sending=True)
    assert (status, body) == (400, b"body shorter than its Content-Length")


def test_a_body_above_the_limit_and_chunked_bodies_are_refused(api: LocalHttpApi) -> None:
    assert _exchange(api, _post(f"Content-Length: {MAX_BODY + 1}\r\n"))[0] == 413
    chunked = _post("Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n")
    assert _exchange(api, chunked)[0] == 501
    assert api.requests == 0


def test_a_client_that_never_finishes_its_headers_does_not_hold_the_server(api: LocalHttpApi) -> None:
    host, port = api.server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as stalled:
        stalled.sendall(b"GET /x HTTP/1.1\r\nHost: local")  # and nothing more
        assert _exchange(api, b"GET /x HTTP/1.0\r\n\r\n") == (200, b"0")


def test_a_failing_function_is_answered_500_and_the_server_keeps_serving(api: LocalHttpApi) -> None:
    status, body = _exchange(api, b"GET /fail HTTP/1.0\r\n\r\n")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    assert _exchange(api, b"GET /x HTTP/1.0\r\n\r\n") == (200, b"0")
