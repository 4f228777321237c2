"""HTTP/1.1 over a bare socket: what the reference server's hostile-input selftests send with.

``requests`` refuses to send much of what these tests need (a header section
cut in half, a body after a pause, bytes no client library would write), so
these tests write the bytes themselves and read the answer with a deadline.
Every read is bounded: a test never waits longer than its ``timeout``.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TIMEOUT = 10.0


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str | None:
        """The error envelope's message, or None when the body is not the documented envelope."""
        try:
            data = self.json
        except ValueError:
            return None
        if isinstance(data, dict) and set(data) == {"error"} and isinstance(data["error"], dict):
            message = data["error"].get("message")
            return message if isinstance(message, str) else None
        return None

    def is_envelope(self) -> bool:
        """A JSON error envelope, as errors.md documents it, served as application/json."""
        return (
            self.message is not None
            and self.headers.get("content-type", "").split(";")[0] == "application/json"
        )


class Closed(Exception):
    """The server closed the connection before (or instead of) an answer."""


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def connect(url: str, source: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> socket.socket:
    """A connection to the server, from ``source`` (another loopback address, say) if given."""
    sock = socket.create_connection(
        address(url), timeout=timeout, source_address=(source, 0) if source else None
    )
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(
    method: str, target: str, headers: Mapping[str, str | bytes], body: bytes | None = None
) -> bytes:
    """The request line and header section; Content-Length added when a body is given."""
    lines = [("%s %s HTTP/1.1" % (method, target)).encode("latin-1"), b"Host: 127.0.0.1"]
    for name, value in headers.items():
        raw = value if isinstance(value, bytes) else value.encode("latin-1")
        lines.append(name.encode("latin-1") + b": " + raw)
    if body is not None and not any(n.lower() == "content-length" for n in headers):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def request(
    method: str, target: str, headers: Mapping[str, str | bytes], body: bytes | None = None
) -> bytes:
    return head(method, target, headers, body) + (body or b"")


class Reader:
    """Reads responses from one socket, keeping what arrives past one answer for the next."""

    def __init__(self, sock: socket.socket, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.sock = sock
        self.timeout = timeout
        self.buffer = b""

    def _more(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete answer within %.1f s" % self.timeout)
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed("the server closed the connection (%d bytes received)" % len(self.buffer))
        self.buffer += chunk

    def _until(self, marker: bytes, deadline: float) -> bytes:
        while marker not in self.buffer:
            self._more(deadline)
        before, _, self.buffer = self.buffer.partition(marker)
        return before

    def _exactly(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            self._more(deadline)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def response(self) -> RawResponse:
        """The next response (an interim 1xx counts as one); ``Closed`` if the connection ends first."""
        deadline = time.monotonic() + self.timeout
        status_line, *lines = self._until(b"\r\n\r\n", deadline).split(b"\r\n")
        status = int(status_line.split()[1])
        headers = {}
        for line in lines:
            name, _, value = line.partition(b":")
            headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
        if 100 <= status < 200:
            return RawResponse(status, headers)
        if "content-length" in headers:
            return RawResponse(status, headers, self._exactly(int(headers["content-length"]), deadline))
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._until(b"\r\n", deadline).split(b";")[0], 16)
                body += self._exactly(size + 2, deadline)[:size]
                if size == 0:
                    return RawResponse(status, headers, body)
        return RawResponse(status, headers, body)

    def closed(self) -> bool:
        """True once the server has closed the connection (waits up to ``timeout`` for it)."""
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                self._more(deadline)
        except Closed:
            return True
        except TimeoutError:
            return False


def exchange(
    url: str, data: bytes, timeout: float = DEFAULT_TIMEOUT, source: str | None = None
) -> RawResponse:
    """Send ``data`` on a new connection and read one answer."""
    with connect(url, source, timeout) as sock:
        sock.sendall(data)
        return Reader(sock, timeout).response()
