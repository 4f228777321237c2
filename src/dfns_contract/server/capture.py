"""A record of every answer the server gave, for a test that checks their shapes (``Settings.capture``).

Off by default, and then not installed at all: it keeps each body in memory.
A selftest turns it on, points a whole suite run at the server and validates
what it kept (selftests/server/test_response_shapes.py). It records the
method, the path without the query (a query can carry a secret, as
access_log.py says), the status, the content type and the body's bytes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class CapturedResponse:
    method: str
    path: str
    status: int
    content_type: str
    body: bytes


class ResponseCapture:
    """The answers kept so far; safe to read from another thread than the server's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._responses: list[CapturedResponse] = []

    def record(self, response: CapturedResponse) -> None:
        with self._lock:
            self._responses.append(response)

    def responses(self) -> list[CapturedResponse]:
        """A copy, oldest first."""
        with self._lock:
            return list(self._responses)


class CaptureResponses:
    """The middleware that feeds a ``ResponseCapture``: it joins a response's body chunks, then records it."""

    def __init__(self, app: ASGIApp, capture: ResponseCapture) -> None:
        self.app = app
        self.capture = capture

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, content_type, chunks = 0, "", []

        async def keeping_send(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", ()))
                content_type = headers.get(b"content-type", b"").decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.capture.record(CapturedResponse(
                        scope["method"], scope["path"], status, content_type, b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, keeping_send)
