"""Limits on one request, at the ASGI layer: header size, body size and time, a client that leaves.

``RequestLimits`` wraps the application, just inside the last-resort 500
(middleware.CatchAll):

* the header section, measured as it was sent (request line and fields,
  CRLFs included), over ``Settings.max_header_bytes``: 431. connections.py
  bounds a section still arriving; this measures the one that arrived whole;
* a ``Content-Length`` over ``Settings.max_body_bytes``: 413 before a byte of
  the body is read; a body without one (chunked) is counted as it comes, and
  refused with 413 the moment it passes the limit, so the server never holds
  more than the limit of it;
* a body not complete within ``Settings.body_timeout`` of its headers: 408;
* a client that disconnects before its body is complete: one INFO line (it
  used to surface as an unhandled error and its traceback).

A refusal raised while the application reads the body is an ``ApiError``, so
the pipeline answers it in the envelope like any other error; the answer
then says ``Connection: close``, since the rest of that body is unread. What
the application sends is passed through untouched otherwise.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .access_log import client_of
from .errors import ApiError, ErrorId
from .rendering import Renderer
from .settings import Settings

logger = logging.getLogger("dfns_contract.server")

_CLOSE = (b"connection", b"close")


def header_bytes(scope: Scope) -> int:
    """The size of the request line and header fields as sent: ``METHOD target HTTP/x\\r\\n``,
    ``name: value\\r\\n`` each, and the final ``\\r\\n``."""
    target = len(scope["raw_path"]) + (1 + len(scope["query_string"]) if scope["query_string"] else 0)
    line = len(scope["method"]) + 1 + target + 1 + 5 + len(scope["http_version"]) + 2
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"]) + 2


def content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # the parser accepts only digits; kept safe all the same
                return None
    return None


class RequestLimits:
    """The middleware: the header section and ``Content-Length`` judged before the application
    runs, the body counted and timed while it reads it (``_Body``)."""

    def __init__(self, app: ASGIApp, renderer: Renderer, settings: Settings) -> None:
        self.app = app
        self.renderer = renderer
        self.max_header_bytes = settings.max_header_bytes
        self.max_body_bytes = settings.max_body_bytes
        self.body_timeout = settings.body_timeout

    def too_large_body(self) -> ApiError:
        return ApiError(ErrorId.BODY_TOO_LARGE, limit=str(self.max_body_bytes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if header_bytes(scope) > self.max_header_bytes:
            error = ApiError(ErrorId.HEADERS_TOO_LARGE, limit=str(self.max_header_bytes))
            await self._refuse(error, "its header section is over the limit", scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(
                self.too_large_body(), "its Content-Length is over the limit", scope, receive, send
            )
            return
        body = _Body(self, scope, asyncio.get_running_loop().time() + self.body_timeout, receive)
        started = False

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if body.refused is not None:
                    message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        try:
            await self.app(scope, body.receive, closing_send)
        except ClientDisconnect:
            logger.info(
                "%s left before its request's body was complete: %s %s",
                client_of(scope), scope["method"], scope["path"],
            )
        except ApiError as exc:  # a refusal raised while reading, outside the pipeline
            if exc is not body.refused:
                raise
            if not started:
                await self.renderer.error(exc, headers={"Connection": "close"})(scope, receive, send)

    async def _refuse(
        self, error: ApiError, reason: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Answer without reading the body (only a streamed answer, fault ``chunked``, listens
        on ``receive``, for a disconnect), and close the connection after it."""
        log_refusal(scope, reason)
        await self.renderer.error(error, headers={"Connection": "close"})(scope, receive, send)


def log_refusal(scope: Scope, reason: str) -> None:
    logger.info(
        "refused %s %s from %s: %s", scope["method"], scope["path"], client_of(scope), reason
    )


class _Body:
    """The request's ``receive``, counted and timed: what ``RequestLimits`` hands the application."""

    def __init__(
        self, limits: RequestLimits, scope: Scope, deadline: float, receive: Receive
    ) -> None:
        self.limits = limits
        self.scope = scope
        self.deadline = deadline
        self._receive = receive
        self.received = 0
        self.complete = False
        #: The refusal raised while reading, if any (the answer must close the connection).
        self.refused: ApiError | None = None

    async def receive(self) -> Message:
        if self.complete:  # after the body, only a disconnect can come: no deadline for that
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            raise self._refusal(
                ApiError(ErrorId.REQUEST_TIMEOUT), "its body was not complete in time"
            ) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
            if self.received > self.limits.max_body_bytes:
                raise self._refusal(self.limits.too_large_body(), "its body went over the limit")
        return message

    def _refusal(self, error: ApiError, reason: str) -> ApiError:
        log_refusal(self.scope, reason)
        self.refused = error
        return error
