"""ASGI middlewares: the last-resort 500, gzip, and the faults that act before routing.

Pure ASGI (no ``BaseHTTPMiddleware``) to keep the hot path cheap; the ones a
fault switches on are only installed when it is on.
"""

from __future__ import annotations

import json
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


class EchoSecrets:
    """Fault echo-secrets: every error answer becomes a 500 that quotes the request's credentials.

    Requests are still served (tokens issued, state changed); only answers of
    400 and above are replaced. The suite's secrets selftest runs against it:
    every case fails, and every failure shows the bearer token, the user action
    and the body (registration codes) twice, in the curl and in the response.
    """

    QUOTED = (b"authorization", b"x-dfns-useraction")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        failed = False
        read_all = False

        async def recording_receive() -> Message:
            nonlocal read_all
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
                read_all = not message.get("more_body", False)
            else:
                read_all = True
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                failed = message["status"] >= 400
            if not failed:
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                while not read_all:  # a request refused before its body was read
                    await recording_receive()
                await self._echo(scope, bytes(body), send)

        await self.app(scope, recording_receive, replacing_send)

    async def _echo(self, scope: Scope, body: bytes, send: Send) -> None:
        quoted = {name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in self.QUOTED}
        message = "Internal Server Error (request %s %s, headers %s, body %s)" % (
            scope.get("method"), scope.get("path"), quoted, body.decode("utf-8", "replace"))
        payload = json.dumps({"error": {"message": message}}).encode()
        await send({"type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
