"""Replays after a pause: a one-time value used early in the session, and replayed seconds later.

A replay store may forget a used nonce or user action some time after its
first use, sooner than the server stops accepting it (a cache entry whose
expiry is set from the time of first use, too short). Only a replay sent
seconds after the first use sees it. Waiting those seconds inside the case
would add them to every run, so the first use is sent when the session's
first case starts (``plugin/fixtures.py``: ``dfns_pauses``), the case itself
runs last in its process (``plugin/ordering.py``), and it waits only for
what is left of the pause when it gets there: usually nothing.

The wait is for time itself to pass (the property under test), not for
something to happen: it is bounded by the pause, at most
``MAX_PAUSE`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dfns_contract.client import EnvironmentFailure, Exchange

#: The variant of a replay case that replays after a pause.
AFTER_A_PAUSE = "after-a-pause"
#: Seconds between the first use and the replay, unless the profile says (``replayPauseSeconds``).
DEFAULT_PAUSE = 1.5
#: The longest pause a profile may ask for: the case waits it when it runs first.
MAX_PAUSE = 60.0

FirstUse = Callable[[], "tuple[Exchange, Callable[[], Exchange]]"]


@dataclass
class Used:
    """A first use: what it got, when, and how to send the same value again."""

    first: Exchange | None
    replay: Callable[[], Exchange] | None
    at: float
    error: BaseException | None = None


@dataclass
class Pauses:
    """This process's first uses, by case id; thread-safe."""

    pause: float = DEFAULT_PAUSE
    _uses: dict[str, Used] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use_now(self, case_id: str, first_use: FirstUse) -> None:
        """Send the first use of ``case_id`` now (once); an environment failure is kept for the case to raise."""
        with self._lock:
            if case_id in self._uses:
                return
        try:
            first, replay = first_use()
            used = Used(first, replay, time.monotonic())
        except (Exception, EnvironmentFailure) as exc:  # noqa: BLE001 - the case reports it, in its own report
            used = Used(None, None, time.monotonic(), exc)
        with self._lock:
            self._uses.setdefault(case_id, used)

    def first_then_replay(self, case_id: str, first_use: FirstUse) -> tuple[Exchange, Exchange]:
        """The first use (sent early, or now if it was not) and its replay, at least ``pause`` seconds later."""
        self.use_now(case_id, first_use)
        with self._lock:
            used = self._uses.pop(case_id)
        if used.error is not None:
            raise used.error
        assert used.first is not None and used.replay is not None
        left = used.at + self.pause - time.monotonic()
        if left > 0:
            threading.Event().wait(min(left, MAX_PAUSE))
        return used.first, used.replay()


def pause_from(value: object) -> float:
    """``replayPauseSeconds`` from a profile (a number or its text), within (0, MAX_PAUSE]."""
    if value in (None, ""):
        return DEFAULT_PAUSE
    seconds = float(value)  # type: ignore[arg-type]
    return min(max(seconds, 0.1), MAX_PAUSE)
