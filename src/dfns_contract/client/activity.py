"""What this process is doing now, as data: requests sent, and until when it waits on a rate limit.

A long run against a quota may wait a minute for a window to reset; a run
that prints nothing meanwhile looks hung. The waits are known only where they
happen (the quota pacer, ``quota.py``, and the 429 retries, ``retries.py``), so
those mark them here, and the progress line (``plugin/progress.py``) reads a
``Snapshot`` on its own timer. One ``ACTIVITY`` per process; thread-safe (a
run's requests wait in several threads at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Why a wait happens, as the progress line says it.
QUOTA, RETRY_AFTER = "the target's quota", "a 429 answer"


@dataclass(frozen=True)
class Snapshot:
    """One process's activity at one moment (wall-clock times: they are shown as the time of day)."""

    requests: int
    #: The latest end of the waits under way (``time.time()``), and why; None when none waits.
    waiting_until: float | None = None
    waiting_for: str = ""


class Activity:
    """The waits under way in this process, by thread; requests are counted by ``chains.CHAINS``."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waits: dict[int, tuple[float, str]] = {}

    @contextmanager
    def waiting(self, seconds: float, why: str) -> Iterator[None]:
        """The block waits ``seconds`` on a rate limit (``why``): shown until it ends."""
        me = threading.get_ident()
        with self._lock:
            self._waits[me] = (self._clock() + seconds, why)
        try:
            yield
        finally:
            with self._lock:
                self._waits.pop(me, None)

    def snapshot(self) -> Snapshot:
        from dfns_contract.client.chains import CHAINS

        with self._lock:
            waits = list(self._waits.values())
        until, why = max(waits) if waits else (None, "")
        return Snapshot(CHAINS.requests, until, why)


#: The process's activity (the pacer and the retries mark their waits in it).
ACTIVITY = Activity()


def pause_on_rate_limit(pause: Callable[[float], None], seconds: float, why: str) -> None:
    """``pause(seconds)``, shown as a wait on a rate limit while it lasts."""
    with ACTIVITY.waiting(seconds, why):
        pause(seconds)
