"""A local stand-in for API Gateway's HTTP API: real HTTP on 127.0.0.1, HTTP API v2 events inside.

Each request becomes the payload-format-2.0 event API Gateway would send (method, raw path,
query, lower-cased headers, base64 body, source IP and user agent in ``requestContext.http``),
the real handler is invoked with it, and its response dict is written back. Requests are
handled one at a time, like one warm Lambda container. ``make demo`` serves the tracking
function this way so the links in the outbox's emails work in a browser.

Requests API Gateway would refuse are refused here too, before the handler sees them, and never
by dropping the connection: a ``Content-Length`` that is not one decimal number (400), a body
above ``MAX_BODY`` (413), a ``Transfer-Encoding`` (501: the demo needs none), a body shorter than
its ``Content-Length`` (400 when the client closes, 408 when it stops sending for
``read_timeout`` seconds). Because requests are served one at a time, the timeout is also what
keeps one silent client from holding the server.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

from retention_tools.local.embedded import ACCOUNT
from retention_tools.local.runtime import invoke

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
READ_TIMEOUT = 10.0
"""Seconds a client may stay silent while sending its request before it is answered 408."""
_DECIMAL = re.compile(r"[0-9]{1,10}")
SIMULATED_IP_HEADER = "X-Simulated-Client-Ip"
"""Loopback callers (the demo's simulated audience) may set the source IP API Gateway would see."""


def http_api_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str, host: str = "localhost"
) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event for one request."""
    parts = urlsplit(target)
    lowered = {name.lower(): value for name, value in headers.items()}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


class Refused(Exception):
    """A request answered by the adapter itself, as API Gateway answers it without the function."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def content_length(values: list[str]) -> int:
    """The body's length from every ``Content-Length`` header the request carries (RFC 9110 §8.6:
    one decimal number; repeated headers must agree), or :class:`Refused`."""
    if not values:
        return 0
    distinct = {value.strip() for value in values}
    if len(distinct) != 1 or not _DECIMAL.fullmatch(next(iter(distinct))):
        raise Refused(400, "Content-Length must be one decimal number")
    length = int(distinct.pop())
    if length > MAX_BODY:
        raise Refused(413, f"body larger than {MAX_BODY} bytes")
    return length


class LocalHttpApi:
    """Serve ``handler`` on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(self, handler: Callable[[dict, Any], dict], port: int = 0, read_timeout: float = READ_TIMEOUT) -> None:
        self.handler = handler
        self.requests = 0
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            timeout = read_timeout  # the socket's timeout (StreamRequestHandler.setup)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding") is not None:
                    raise Refused(501, "Transfer-Encoding is not supported: send a Content-Length")
                length = content_length(self.headers.get_all("Content-Length") or [])
                body = b""
                try:
                    while len(body) < length:
                        chunk = self.rfile.read1(length - len(body))
                        if not chunk:
                            raise Refused(400, "body shorter than its Content-Length")
                        body += chunk
                except TimeoutError:
                    raise Refused(408, "request body not received in time") from None
                return body

            def _serve(self) -> None:
                try:
                    body = self._body()
                except Refused as refused:
                    self._answer(refused.status, [("Content-Type", "text/plain")], refused.reason.encode())
                    return
                host = self.headers.get("Host", "localhost")
                source = self.client_address[0]
                simulated = self.headers.get(SIMULATED_IP_HEADER)
                if simulated and source == "127.0.0.1":  # the demo's audience plays clients from elsewhere
                    source = simulated
                event = http_api_event(self.command, self.path, dict(self.headers.items()), body, source, host)
                try:
                    response = invoke(api.handler, event)
                except Exception:  # what API Gateway answers when the function fails
                    log.exception("the function failed on %s %s", self.command, urlsplit(self.path).path[:80])
                    self._answer(500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}')
                    return
                finally:
                    api.requests += 1
                payload = response.get("body") or ""
                data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
                headers = list((response.get("headers") or {}).items())
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    headers.extend((name, value) for value in values)
                self._answer(int(response.get("statusCode", 500)), headers, data)

            def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve  # noqa: N815 - BaseHTTPRequestHandler's naming

            def log_message(self, *_: Any) -> None:  # one line per request otherwise
                return

        self.server = HTTPServer(("127.0.0.1", port), _Handler)
        # stop() waits for the loop to look up: 0.1 s instead of the default 0.5 s
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalHttpApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalHttpApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
