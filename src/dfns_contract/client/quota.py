"""``--dfns-rate-limit auto``: pace by the quota the target reports, shared by every process of the run.

Dfns counts requests per organisation over a 60-second window and reports it
on its answers (``api-reference/rate-limits.md``): ``X-RateLimit-Limit``
(requests a window), ``X-RateLimit-Remaining`` (left in this one),
``X-RateLimit-Reset`` (Unix seconds when it resets) and, on a 429,
``Retry-After``. The pacer reads them from every answer (``observe``) and,
before each request (``before_send``):

* while the target has sent no such header and no 429, lets it go at once
  (an unthrottled target is not slowed);
* once it knows the quota, spreads what remains of the window over the time
  left to its reset: one request every ``(reset - now) / remaining`` seconds,
  so the run never sends at ``Remaining: 0`` before ``Reset``; when none
  remains it waits for the reset;
* lets a race's senders leave together (``before_burst``): it waits until
  the window has that many left and counts them all at once, since senders
  spread over the window would no longer be a race;
* after a 429, holds every request until ``Retry-After`` (else the reset,
  else 1 s, 2 s, 4 s… at most 60 s) has passed; a 429 without the headers
  makes it pace from then on at what got through in the last 60 s.

The headers' time is the server's: the seconds left are counted from its
``Date`` header when it sends one (both are whole seconds, so the estimate is
at most a second late, never early), so a client clock that is off does not
make the pacer early. Each request is counted the moment it leaves, and a
count the target reports lower is taken (another client of the organisation
spends the same quota), so the pacer's count is never above the target's.

The quota is the organisation's, not a process's: every process of a run
(pytest-xdist workers, the controller's preflight and cleanup) shares one
state in a file of the run's temporary folder, read and written under an
exclusive lock (``fcntl.flock``) for each decision; without a folder the
state is this process's alone.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from dfns_contract.client.activity import QUOTA, pause_on_rate_limit

#: The documented window, used until the target's headers tell another.
DOCUMENTED_WINDOW = 60.0
#: Waited past a reset before the next window's first request: the reset is whole seconds.
RESET_MARGIN = 0.1
#: The longest a 429 without ``Retry-After`` or headers holds the run (exponential backoff's cap).
MAX_BACKOFF = 60.0
#: A reset further ahead than this is not believed (a clock or a header gone wrong): this many seconds.
LONGEST_WINDOW = 3600.0
#: The file that holds the shared state, in the run's folder.
STATE_FILE = "quota.json"


@dataclass
class QuotaState:
    """What the run knows of the target's quota; times are this machine's ``time.time()``."""

    limit: int | None = None
    remaining: int | None = None
    #: When the current window resets (local time), and the target's own value of it (Unix seconds).
    reset: float | None = None
    server_reset: float | None = None
    #: The window's length: the most seconds left that an answer reported (the documented 60 until one does).
    window: float | None = None
    #: The earliest the next request may leave, and no request before ``held`` (a 429's wait).
    next: float = 0.0
    held: float = 0.0
    #: 429s met, and how many in a row (the backoff's exponent).
    refused: int = 0
    backoff: int = 0
    #: No headers: when the last requests left (the last 60 s only), to pace after a 429 at what got through.

    @property
    def known(self) -> bool:
        return self.limit is not None


@dataclass(frozen=True)
class Reported:
    """The rate-limit headers of one answer (None where absent or unreadable)."""

    limit: int | None
    remaining: int | None
    reset: float | None
    retry_after: float | None
    #: Seconds until the reset, counted from the server's ``Date`` when it sent one.
    seconds_left: float | None


def reported(headers: Mapping[str, str], now: float) -> Reported:
    """Read the headers whatever their case (HTTP/2 sends them in lower case)."""
    lower = {name.lower(): value for name, value in headers.items()}

    def number(name: str) -> float | None:
        try:
            value = float(lower[name].strip())
        except (KeyError, ValueError):
            return None
        return value if math.isfinite(value) and value >= 0 else None

    limit, remaining, reset = (number("x-ratelimit-" + name) for name in ("limit", "remaining", "reset"))
    retry = number("retry-after")
    seconds_left = None
    if reset is not None:
        server_now = _server_time(lower.get("date"), now)
        seconds_left = min(max(reset - server_now, 0.0), LONGEST_WINDOW)
    return Reported(int(limit) if limit is not None and limit >= 1 else None,
                    int(remaining) if remaining is not None else None, reset, retry, seconds_left)


def _server_time(date: str | None, now: float) -> float:
    """The server's clock from its ``Date`` header, else ours."""
    if not date:
        return now
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return now


class QuotaPacer:
    """``--dfns-rate-limit auto``; ``folder``: the run's, shared by its processes (None: this process only)."""

    def __init__(self, folder: Path | None = None, *, clock: Callable[[], float] = time.time,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.path = folder / STATE_FILE if folder is not None else None
        self._clock, self._pause = clock, pause
        self._lock = threading.Lock()
        self._memory = QuotaState()
        #: This process's own: seconds waited for the quota, and requests that waited.
        self.waited = 0.0
        self.paced = 0

    # -- the transport's two calls -------------------------------------------------------

    def before_send(self) -> float:
        """Block until the quota lets one more request leave, and count it; returns how long it waited."""
        return self.before_burst(1)

    def before_burst(self, requests: int) -> float:
        """Block until ``requests`` may leave together (a race's senders: ``contract/races.py``), and count them
        all; returns how long it waited. A burst larger than the whole quota asks for all of it."""
        waited = 0.0
        while True:
            with self._state() as state:
                wait = self._plan(state, self._clock(), requests)
            if wait <= 0:
                if waited:
                    self.waited += waited
                    self.paced += 1
                return waited
            pause_on_rate_limit(self._pause, wait, QUOTA)
            waited += wait

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer: its rate-limit headers, and whether it is a 429."""
        now = self._clock()
        seen = reported(headers, now)
        with self._state() as state:
            if seen.limit is not None and seen.remaining is not None and seen.seconds_left is not None:
                self._learn(state, seen, now)
            if status == 429:
                self._refused(state, seen, now)
            elif 200 <= status < 500:
                state.backoff = 0

    def snapshot(self) -> QuotaState:
        """The shared state as it is now (for the summary and the request plan)."""
        with self._state() as state:
            return QuotaState(**asdict(state))

    # -- decisions ------------------------------------------------------------------------

    def _plan(self, state: QuotaState, now: float, requests: int = 1) -> float:
        """0 and the ``requests`` counted (leaving together), or how long to wait before asking again."""
        if state.held > now:
            return state.held - now
        if not state.known:  # no headers: no quota to pace by; a 429 is waited out request by request
            return 0.0
        assert state.limit is not None
        if state.reset is None or now >= state.reset:  # a new window: the target's headers will correct it
            state.remaining, state.next = state.limit, now
            state.reset = now + (state.window or DOCUMENTED_WINDOW)
        remaining, needed = state.remaining or 0, max(1, min(requests, state.limit))
        if remaining < needed:
            return state.reset + RESET_MARGIN - now
        if state.next > now:
            return state.next - now
        state.remaining = remaining - needed
        state.next = now + (state.reset - now) * needed / remaining
        return 0.0

    def _learn(self, state: QuotaState, seen: Reported, now: float) -> None:
        assert seen.limit is not None and seen.remaining is not None and seen.seconds_left is not None
        state.limit = seen.limit
        state.window = max(state.window or 0.0, math.ceil(seen.seconds_left)) or DOCUMENTED_WINDOW
        if state.server_reset is None or (seen.reset or 0) > state.server_reset:
            # The first answer of a newer window: its count, its reset.
            state.server_reset, state.remaining = seen.reset, seen.remaining
            state.reset = now + seen.seconds_left
        else:
            state.remaining = min(state.remaining if state.remaining is not None else seen.remaining, seen.remaining)

    def _refused(self, state: QuotaState, seen: Reported, now: float) -> None:
        state.refused += 1
        if seen.retry_after is not None:
            wait = seen.retry_after
        elif seen.seconds_left is not None:
            wait = seen.seconds_left + RESET_MARGIN
        else:
            wait = min(MAX_BACKOFF, 2.0 ** state.backoff)
        state.backoff += 1
        # Every process holds until then (the quota is the org's), but no rate is guessed from a 429 without
        # headers: one 429 in 25 would otherwise slow the whole run to what got through before it.
        state.held = max(state.held, now + wait)
        state.remaining, state.reset = 0, max(state.reset or 0.0, state.held)

    # -- the shared state -------------------------------------------------------------------

    @contextmanager
    def _state(self) -> Iterator[QuotaState]:
        """The state, read and written back under the process's lock and, when shared, the file's."""
        with self._lock:
            if self.path is None:
                yield self._memory
                return
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as handle:
                    text = handle.read()
                    state = _load(text)
                    yield state
                    handle.seek(0)
                    handle.truncate()
                    handle.write(json.dumps(asdict(state)))
            finally:
                os.close(fd)  # releases the lock


def _load(text: str) -> QuotaState:
    """The state a file holds (a new one for an empty or unreadable file: the quota is learned again)."""
    try:
        return QuotaState(**json.loads(text)) if text.strip() else QuotaState()
    except (ValueError, TypeError):
        return QuotaState()
