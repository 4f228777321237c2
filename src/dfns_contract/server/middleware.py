"""ASGI middlewares: the last-resort 500, gzip, and the faults that act before routing.

Pure ASGI (no ``BaseHTTPMiddleware``) to keep the hot path cheap; the ones a
fault switches on are only installed when it is on.
"""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, ErrorId
from .rendering import Renderer

logger = logging.getLogger("dfns_contract.server")

_ODD_BYTE = re.compile(rb"[^\x20-\x7e]")


class CatchAll:
    """Any exception becomes the documented 500 (never a traceback or a dropped connection).

    The exception is logged to the server's logger; the client sees only the
    envelope. If the response had already started there is nothing left to
    send, so the connection ends with what was sent.
    """

    def __init__(self, app: ASGIApp, renderer: Renderer) -> None:
        self.app = app
        self.renderer = renderer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await self.renderer.internal_error()(scope, receive, send)


class OddBytesCrash(RuntimeError):
    """Raised on purpose: a server that cannot cope with a non-ASCII header byte."""


class CrashOnOddBytes:
    """Faults html-500-on-odd-bytes, internal-error-shape, odd-bytes-500: the trigger.

    The renderer decides the shape of the resulting 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(
            _ODD_BYTE.search(value) for _, value in scope["headers"]
        ):
            raise OddBytesCrash("a header value holds a byte outside printable ASCII")
        await self.app(scope, receive, send)


class AnswerEverything:
    """Faults reject-all and one-error: every request gets the same error."""

    def __init__(self, app: ASGIApp, renderer: Renderer, error: ErrorId) -> None:
        self.app = app
        self.renderer = renderer
        self.error = error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.renderer.error(ApiError(self.error))(scope, receive, send)
