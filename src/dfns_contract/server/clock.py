"""Where the server's time comes from.

Every expiry (nonces, tokens, registration codes) is judged against one
injectable clock, so a test can move time forward instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class ManualClock:
    """Real time plus an offset that a test moves forward with ``advance``.

    Following real time (rather than standing still) keeps nonces made by a
    client with the real clock fresh until the test deliberately jumps.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return system_clock() + self._offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta
