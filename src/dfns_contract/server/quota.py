"""The organisation's request quota, as Dfns documents it: a window of N requests, the headers, 429 when spent.

``api-reference/rate-limits.md`` (2026): the limit is per organisation, counted
over a 60-second window; every rate-limited answer carries
``X-RateLimit-Limit`` (requests a window), ``X-RateLimit-Remaining`` (left in
this window) and ``X-RateLimit-Reset`` (Unix seconds when it resets), and a
429 carries ``Retry-After`` (seconds). The reference server has one
organisation, so one quota counts every request of every client
(``Settings.rate_limit``; off by default). The page does not say whether
the window is fixed or sliding: this one is fixed, and starts at the first
request after the previous one ended. Its length is a setting
(``Settings.rate_window``), so the suite's own tests can run a quota in
seconds rather than minutes. The sandbox routes (not the Dfns API) are not
counted. The page shows no 429 body: the answer is the version's envelope
with the server's own words.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, ErrorId
from .rendering import Renderer

#: Paths outside the Dfns API (``endpoints/sandbox.py``): the quota does not count them.
UNCOUNTED_PREFIX = "/sandbox/"


@dataclass(frozen=True)
class Charge:
    """What one request found: whether it is served, and the headers that say so."""

    allowed: bool
    limit: int
    remaining: int
    #: Unix time (seconds, a float) when the window resets.
    reset: float


class WindowQuota:
    """``limit`` requests per ``window`` seconds, counted for the whole server; thread-safe."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.time) -> None:
        if limit < 1 or not window > 0:
            raise ValueError("a quota needs at least one request per window of more than 0 s")
        self.limit, self.window = limit, window
        self._clock = clock
        self._lock = threading.Lock()
        self._ends = 0.0
        self._used = 0
        #: Requests served and refused (429), since the server started: what a selftest counts.
        self.served = 0
        self.refused = 0

    def charge(self) -> Charge:
        """Count one request: served while the window has room, refused once it is spent."""
        with self._lock:
            now = self._clock()
            if now >= self._ends:
                self._ends, self._used = now + self.window, 0
            allowed = self._used < self.limit
            if allowed:
                self._used += 1
                self.served += 1
            else:
                self.refused += 1
            return Charge(allowed, self.limit, self.limit - self._used, self._ends)

    def retry_after(self, charge: Charge) -> int:
        """Whole seconds until the window resets, at least 1 (``Retry-After`` takes no fraction)."""
        return max(1, math.ceil(charge.reset - self._clock()))


def quota_headers(charge: Charge) -> list[tuple[bytes, bytes]]:
    """The documented headers; the reset rounded up, so a client that waits for it never comes early."""
    return [(b"x-ratelimit-limit", str(charge.limit).encode()),
            (b"x-ratelimit-remaining", str(charge.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(charge.reset)).encode())]


class QuotaLimit:
    """The middleware: each API request charged; a served answer gains the headers, a refused one is 429."""

    def __init__(self, app: ASGIApp, renderer: Renderer, quota: WindowQuota) -> None:
        self.app = app
        self.renderer = renderer
        self.quota = quota

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED_PREFIX):
            await self.app(scope, receive, send)
            return
        charge = self.quota.charge()
        if not charge.allowed:
            headers = {name.decode(): value.decode() for name, value in quota_headers(charge)}
            headers["Retry-After"] = str(self.quota.retry_after(charge))
            error = ApiError(ErrorId.RATE_LIMITED, limit=str(self.quota.limit), window="%g" % self.quota.window)
            await self.renderer.error(error, headers=headers)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *quota_headers(charge)]}
            await send(message)

        await self.app(scope, receive, with_headers)
