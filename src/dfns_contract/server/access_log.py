"""The access log: one line per request, for a person to read, opt-in (``Settings.access_log``).

    127.0.0.1:52814 "POST /auth/login/init" 401 0.8ms

Client address, method, path, status, time from the request's headers to the
end of its answer. The path only: a query string, a header or a body can
carry a secret (a registration code, a token), so none of them is written.
A request the connection layer refused before it could be read (431, 408,
400) is logged with ``"- -"`` for method and path. A client that left before
its answer shows ``-`` for the status.

The lines go to the ``dfns_contract.server.access`` logger at INFO;
``dfns-mock --access-log`` turns it on and prints them on stderr.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("dfns_contract.server.access")


def log_access(client: str, method: str, path: str, status: str, elapsed_ms: float) -> None:
    """One line; the path escaped, so a ``%0a`` in it cannot start a forged line."""
    printable = path.encode("unicode_escape").decode("ascii")
    access_logger.info('%s "%s %s" %s %.1fms', client, method, printable, status, elapsed_ms)


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return "%s:%d" % (client[0], client[1]) if client else "-"


class AccessLog:
    """The outermost middleware, installed only when the access log is on (it costs a clock read)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = "-"

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            log_access(client_of(scope), scope["method"], scope["path"], status, elapsed)
