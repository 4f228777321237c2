"""One-time values: nonces, user actions and challenges that may be used once.

The server runs on one asyncio thread, so a claim is atomic as long as there
is no ``await`` between looking a key up and recording it: ``claim`` has
none. ``claim_slowly`` puts one there on purpose, for the ``*-racy`` faults
that stand for a slow shared store, so the suite can prove its race tests can
fail.

A key is kept until it expires (past that, what it stood for is refused as
stale anyway). Expired keys go in two ways: a store that grows prunes itself
as it records (amortised, so a flood cannot outgrow it), and the ``Sweeper``
prunes every store on a timer (``Settings.prune_interval``), so the memory
of a burst is given back on time even if no request comes after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import anyio

from .clock import Clock

#: The simulated latency of the racy store, between check and record.
RACY_DELAY = 0.05
_FIRST_PRUNE = 4096


class OneTimeStore:
    """Keys seen before, each remembered until it expires (after which it is refused elsewhere)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._prune_at = _FIRST_PRUNE

    def __contains__(self, key: str) -> bool:
        return key in self._expiry

    def __len__(self) -> int:
        return len(self._expiry)

    def claim(self, key: str, expires_at: datetime | None) -> bool:
        """Record ``key``; False if it was already recorded. ``None`` never expires."""
        if key in self._expiry:
            return False
        self._record(key, expires_at)
        return True

    async def claim_slowly(self, key: str, expires_at: datetime | None) -> bool:
        """``claim`` with a yield between check and record: a deliberate race."""
        if key in self._expiry:
            return False
        await anyio.sleep(RACY_DELAY)
        self._record(key, expires_at)
        return True

    def _record(self, key: str, expires_at: datetime | None) -> None:
        self._expiry[key] = expires_at.timestamp() if expires_at is not None else float("inf")
        if len(self._expiry) >= self._prune_at:
            self.prune()

    def prune(self) -> None:
        """Forget expired keys; amortised O(1) as it records, since the next prune waits for twice the size."""
        now = self._clock().timestamp()
        self._expiry = {k: exp for k, exp in self._expiry.items() if exp > now}
        self._prune_at = max(_FIRST_PRUNE, 2 * len(self._expiry))


class Sweeper:
    """Prunes the stores every ``interval`` seconds, from the server's lifespan (app.py)."""

    def __init__(self, stores: Sequence[OneTimeStore], interval: float) -> None:
        self.stores = stores
        self.interval = interval
        #: Sweeps done so far (tests wait for it instead of sleeping).
        self.sweeps = 0

    def sweep(self) -> None:
        for store in self.stores:
            store.prune()
        self.sweeps += 1

    async def run(self) -> None:
        """Sweep until cancelled."""
        while True:
            await anyio.sleep(self.interval)
            self.sweep()
