"""One-time values: nonces, user actions and challenges that may be used once.

The server runs on one asyncio thread, so a claim is atomic as long as there
is no ``await`` between looking a key up and recording it: ``claim`` has
none. ``claim_slowly`` puts one there on purpose, for the ``*-racy`` faults
that stand for a slow shared store, so the suite can prove its race tests can
fail.

A key is kept until it expires (past that, what it stood for is refused as
stale anyway), and an expired key counts as forgotten even before it is
pruned, as in a store with a time to live: when it expires is the caller's
to say, which is where the faults that forget too soon act (pipeline.py).
Expired keys go in two ways: a store that grows prunes itself as it records
(amortised, so a flood cannot outgrow it), and the ``Sweeper`` prunes every
store on a timer (``Settings.prune_interval``), so the memory of a burst is
given back on time even if no request comes after it.

Two more stores stand for deployments gone wrong, each made only under its
fault: ``PerConnection`` (a replay store per replica, a load balancer pinning
each connection to one) and ``AnswerCache`` (a gateway that answers a replayed
nonce with the first answer it got).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

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
        return self._remembers(key)

    def __len__(self) -> int:
        return len(self._expiry)

    def claim(self, key: str, expires_at: datetime | None) -> bool:
        """Record ``key``; False if it is remembered (recorded, not expired). ``None`` never expires."""
        if self._remembers(key):
            return False
        self._record(key, expires_at)
        return True

    async def claim_slowly(self, key: str, expires_at: datetime | None) -> bool:
        """``claim`` with a yield between check and record: a deliberate race."""
        if self._remembers(key):
            return False
        await anyio.sleep(RACY_DELAY)
        self._record(key, expires_at)
        return True

    def _remembers(self, key: str) -> bool:
        """Recorded and not yet expired; a key expiring this very instant still counts.

        A nonce dated exactly ``max_age`` ago is still fresh (wire/nonce.py), and
        its key expires at that instant: both ends inclusive, so no instant exists
        where a nonce is accepted and its use forgotten.
        """
        expires = self._expiry.get(key)
        return expires is not None and expires >= self._clock().timestamp()

    def _record(self, key: str, expires_at: datetime | None) -> None:
        self._expiry[key] = expires_at.timestamp() if expires_at is not None else float("inf")
        if len(self._expiry) >= self._prune_at:
            self.prune()

    def prune(self) -> None:
        """Forget expired keys; amortised O(1) as it records, since the next prune waits for twice the size."""
        now = self._clock().timestamp()
        self._expiry = {k: exp for k, exp in self._expiry.items() if exp >= now}
        self._prune_at = max(_FIRST_PRUNE, 2 * len(self._expiry))


class Prunable(Protocol):
    def prune(self) -> None: ...


class PerConnection:
    """Fault replay-store-per-replica: a ``OneTimeStore`` per connection, as per replica.

    A load balancer that pins each connection to one replica, each replica with
    a replay store of its own, remembers a nonce only where it was used: its
    replay on another connection reaches a replica that never saw it. One
    replica per connection (the ASGI scope's client address and port) keeps
    that deterministic, where hashing connections onto N replicas would let a
    replay through only by chance. Replicas whose stores are empty go at the
    next sweep.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._replicas: dict[Hashable, OneTimeStore] = {}

    def __len__(self) -> int:
        return sum(len(store) for store in self._replicas.values())

    def store(self, connection: Hashable) -> OneTimeStore:
        """The store of the replica this connection is pinned to."""
        replica = self._replicas.get(connection)
        if replica is None:
            replica = self._replicas[connection] = OneTimeStore(self._clock)
        return replica

    def prune(self) -> None:
        for store in self._replicas.values():
            store.prune()
        self._replicas = {key: store for key, store in self._replicas.items() if len(store)}


Answer = TypeVar("Answer")


class AnswerCache(Generic[Answer]):
    """Fault replay-answered-from-cache: the first answer to each nonce, kept as long as the nonce.

    What a gateway does when it takes the nonce for an idempotency key: a
    request that repeats a nonce gets the answer the first one got, instead
    of the documented 400.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._answers: dict[str, tuple[float, Answer]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    def remember(self, key: str, answer: Answer, expires_at: datetime | None) -> None:
        expires = expires_at.timestamp() if expires_at is not None else float("inf")
        self._answers.setdefault(key, (expires, answer))

    def recall(self, key: str) -> Answer | None:
        """The first answer to ``key``; None while that request is still being answered."""
        kept = self._answers.get(key)
        return kept[1] if kept is not None else None

    def prune(self) -> None:
        now = self._clock().timestamp()
        self._answers = {k: kept for k, kept in self._answers.items() if kept[0] >= now}


class Sweeper:
    """Prunes the stores every ``interval`` seconds, from the server's lifespan (app.py)."""

    def __init__(self, stores: Iterable[Prunable], interval: float) -> None:
        self.stores: list[Prunable] = list(stores)
        self.interval = interval
        #: Sweeps done so far (tests wait for it instead of sleeping).
        self.sweeps = 0

    def watch(self, store: Prunable) -> None:
        """Prune this store too (those a fault adds)."""
        self.stores.append(store)

    def sweep(self) -> None:
        for store in self.stores:
            store.prune()
        self.sweeps += 1

    async def run(self) -> None:
        """Sweep until cancelled."""
        while True:
            await anyio.sleep(self.interval)
            self.sweep()
