"""At most N requests per second, across every connection of the process: ``--dfns-rate-limit N``.

(``--dfns-rate-limit auto`` paces by the target's own headers instead: ``quota.py``.)

For an environment with a known quota, the suite paces itself rather than
meet the rate limiter. One pacer is shared by every client of a process (the
race senders included); under pytest-xdist the quota is split between the
workers. Each request leaves ``1 / rate`` after the one before it *left*:
the pause is the quota's, not a guess at when something will be ready. The
waiting is done in turn (one sender waits at a time), so a sender held up by a
busy machine after its slot came does not leave together with the next ones,
as senders that had each been handed a slot in advance would: a rate limiter
counts arrivals, not a schedule.

A race is the exception: its senders must arrive together, or a server that
checks and then records would pass. They ask once for all of them
(``before_burst``), and the pacer keeps the average rate by waiting that many
intervals before the next request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol


class Pacing(Protocol):
    """What the transport asks of a pacer: ``before_send`` each request, ``observe`` each answer, and
    ``before_burst`` once for a race's senders, which then leave together (``contract/races.py``)."""

    def before_send(self) -> float: ...

    def before_burst(self, requests: int) -> float: ...

    def observe(self, status: int, headers: Mapping[str, str]) -> None: ...


class Pacer:
    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._clock, self._pause = clock, pause
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_for_slot(self) -> float:
        """Block until this request may leave (``interval`` after the previous one left); returns how long it waited."""
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            if delay > 0:
                self._pause(delay)
            self._next = self._clock() + self.interval
        return delay

    before_send = wait_for_slot

    def before_burst(self, requests: int) -> float:
        """Block until ``requests`` may leave together: the next slot, then ``requests`` intervals before the
        one after them, so the rate holds on average and the race is still a race."""
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            if delay > 0:
                self._pause(delay)
            self._next = self._clock() + self.interval * max(1, requests)
        return delay

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """A forced rate reads nothing from the answers (``--dfns-rate-limit auto`` does: ``quota.py``)."""


class InFlight:
    """At most ``limit`` requests of this process on their way at once: ``--dfns-concurrency``.

    Shared by every client of a process, like the pacer; the independent work
    of the run (tests run ahead, a property's batch, the replay model's walks)
    may ask for more, and waits here for a free slot. A request holds its slot
    only for its own round trip, never while it waits for another, so no
    request waits for one that waits for it.

    * ``slot(burst=True)``: a race's sender takes no slot: a race is a burst by
      design (``contract/races.py``; sent a few at a time, a racy server would
      pass); the pacer lets its senders leave together (``before_burst``).
    * ``alone()``: a request that, on a broken server, could change what every
      other request sees (an app that deactivates itself) is sent when no other
      is on its way, and none leaves until the block ends; the thread in the
      block sends as it likes.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one request must be allowed in flight, not %d" % limit)
        self.limit = limit
        self._changed = threading.Condition()
        self._busy = 0
        self._alone: int | None = None  # the thread sending alone
        self._waiting_alone = 0

    @contextmanager
    def slot(self, *, burst: bool = False) -> Iterator[None]:
        """Wait for a slot (a burst: only for no one to be alone), hold it for the round trip."""
        me = threading.get_ident()
        with self._changed:
            self._changed.wait_for(lambda: self._alone == me or (
                self._alone is None and not self._waiting_alone and (burst or self._busy < self.limit)))
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        """The block's requests are the only ones on their way (new ones wait; those on their way end first)."""
        with self._changed:
            self._waiting_alone += 1
            self._changed.wait_for(lambda: self._alone is None and self._busy == 0)
            self._waiting_alone -= 1
            self._alone = threading.get_ident()
        try:
            yield
        finally:
            with self._changed:
                self._alone = None
                self._changed.notify_all()
