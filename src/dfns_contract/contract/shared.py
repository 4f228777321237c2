"""Requests a process sends once for every case that needs them: shared controls and shared set-ups.

A quota charges requests (``docs/rate-limits.md``), and many cases send the
same control: the eight ``no-jwt`` cases read ``GET /auth/apps`` as the
admin, eight cases activate ``otherAppId`` signed by the admin. A control
proves that the request is served when the fault is absent; that is a fact
about the target and the request (method, path, signer), not about the case,
so one answer per process proves it for every case that shares the request,
and each of them lists that exchange among its controls: a server that
refuses it fails every one of them. A case whose control must be next to its
fault (a replay, an ordering, a race) keeps its own.

``Shared.once`` runs a request (or a short sequence: the transfer the three
``external-id-conflict`` variants conflict with) the first time a case asks
for it and hands the same result to every later case of the process; cases
that run ahead at once wait for the one that is sending it. A request that
raised (the environment stopped it) is not kept: the next case sends it again.
One ``Shared`` per run id (``shared_for``), so every case context of a
process finds the same one, and pytest-xdist workers each have their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


class Shared:
    """What a process has sent once for all its cases, by key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[Hashable, _Slot] = {}

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``'s result, made by the first caller for ``key``; later callers (also at once) get the same."""
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
        with slot.lock:
            if not slot.done:
                slot.value = make()  # raising leaves the slot empty: the next case tries again
                slot.done = True
            return slot.value

    def seed(self, key: Hashable, value: object) -> None:
        """``value`` is what ``once(key, …)`` gives from now on (an answer this process already has)."""
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
        with slot.lock:
            slot.value, slot.done = value, True


_BY_RUN: dict[str, Shared] = {}
_BY_RUN_LOCK = threading.Lock()


def shared_for(run_id: str) -> Shared:
    """The ``Shared`` of the run ``run_id`` in this process (one per run: a selftest's runs do not share)."""
    with _BY_RUN_LOCK:
        return _BY_RUN.setdefault(run_id, Shared())
