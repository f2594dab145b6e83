"""A local stand-in for API Gateway's HTTP API: real HTTP on 127.0.0.1, HTTP API v2 events inside.

Each request becomes the payload-format-2.0 event API Gateway would send (method, raw path,
query, lower-cased headers, base64 body, source IP and user agent in ``requestContext.http``),
the real handler is invoked with it, and its response dict is written back. Requests are
handled one at a time, like one warm Lambda container. ``make demo`` serves the tracking
function this way so the links in the outbox's emails work in a browser.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

from retention_tools.local.embedded import ACCOUNT
from retention_tools.local.runtime import invoke

MAX_BODY = 64 * 1024
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


class LocalHttpApi:
    """Serve ``handler`` on 127.0.0.1 (a free port unless given) in a daemon thread."""

    def __init__(self, handler: Callable[[dict, Any], dict], port: int = 0) -> None:
        self.handler = handler
        self.requests = 0
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _serve(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length) if length > 0 else b""
                host = self.headers.get("Host", "localhost")
                source = self.client_address[0]
                simulated = self.headers.get(SIMULATED_IP_HEADER)
                if simulated and source == "127.0.0.1":  # the demo's audience plays clients from elsewhere
                    source = simulated
                event = http_api_event(self.command, self.path, dict(self.headers.items()), body, source, host)
                response = invoke(api.handler, event)
                api.requests += 1
                payload = response.get("body") or ""
                data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
                self.send_response(int(response.get("statusCode", 500)))
                for name, value in (response.get("headers") or {}).items():
                    self.send_header(name, value)
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    for value in values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve  # noqa: N815 - BaseHTTPRequestHandler's naming

            def log_message(self, *_: Any) -> None:  # one line per request otherwise
                return

        self.server = HTTPServer(("127.0.0.1", port), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

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
