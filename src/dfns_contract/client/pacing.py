"""At most N requests per second, across every connection of the process: ``--dfns-rate-limit``.

For an environment with a known quota, the suite paces itself rather than
meet the rate limiter. One pacer is shared by every client of a process (the
race senders included); under pytest-xdist the quota is split between the
workers. Each request takes the next free slot on a schedule ``1 / rate``
apart and waits for it: the pause is the quota's, not a guess at when
something will be ready.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._clock, self._pause = clock, pause
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_for_slot(self) -> float:
        """Block until this request may leave; returns how long it waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._pause(delay)
        return delay
