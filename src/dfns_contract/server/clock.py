"""Where the server's time comes from.

Every expiry (nonces, tokens, registration codes) is judged against one
injectable clock, so a test can move time forward instead of sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


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
