"""A loopback API gateway in front of a target: forwards every request, and answers 429 when its policy says so.

What a real environment puts before its API: the selftests use it to prove
that a rate limiter's answers are never reported as a broken contract.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class Gateway:
    """``limit(n)`` is called with the number of each request (1, 2, …): True answers 429 instead of forwarding."""

    def __init__(self, upstream: str, limit: Callable[[int], bool], retry_after: str | None = "0") -> None:
        self.upstream = urlsplit(upstream)
        self.limit, self.retry_after = limit, retry_after
        self.forwarded = self.limited = 0
        self._count = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def _number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if gateway.limit(gateway._number()):
                    gateway.limited += 1
                    self.send_response(429)
                    if gateway.retry_after is not None:
                        self.send_header("Retry-After", gateway.retry_after)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "17")
                    self.end_headers()
                    self.wfile.write(b"Too Many Requests")
                    return
                gateway.forwarded += 1
                status, headers, payload = gateway.forward(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _any  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "accept-encoding", "connection")}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


@contextmanager
def gateway(upstream: str, limit: Callable[[int], bool], retry_after: str | None = "0") -> Iterator[Gateway]:
    running = Gateway(upstream, limit, retry_after)
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
