"""How many requests a process sent, and the longest chain of them that had to wait for each other.

Against a remote target every request is a round trip, so a run can be no
faster than its longest *dependent chain* (a case's control, its signing flow
and its fault, one after the other; a walk of the replay model) times the
round trip, however much of the rest runs concurrently. The units of work
mark their chains (``begin``/``end``, or ``chain``): a chain is one thread's
requests between the two. The run reports both numbers, so that a team knows
what a region further away will cost it (``plugin/network.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Longest:
    requests: int = 0
    label: str = ""


class Chains:
    """Counts requests and chains; thread-safe, one per process (``CHAINS``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.requests = 0
        self.longest = Longest()

    def sent(self) -> None:
        """One request left (``DfnsClient.send``): counted, and in this thread's innermost open chain."""
        with self._lock:
            self.requests += 1
        stack = self._stack()
        if stack:
            stack[-1][1] += 1

    def begin(self, label: str) -> None:
        """This thread's requests from now on are one chain, until ``end`` (chains nest: the inner one counts)."""
        self._stack().append([label, 0])

    def end(self) -> None:
        """Close this thread's innermost chain, keeping it if it is the longest so far."""
        stack = self._stack()
        if not stack:
            return
        label, count = stack.pop()
        with self._lock:
            if count > self.longest.requests:
                self.longest = Longest(count, label)

    @contextmanager
    def chain(self, label: str) -> Iterator[None]:
        """A chain for the duration of the block."""
        self.begin(label)
        try:
            yield
        finally:
            self.end()

    def _stack(self) -> list[list]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def reset(self) -> None:
        with self._lock:
            self.requests, self.longest = 0, Longest()


#: The process's counts (the suite's clients report to it).
CHAINS = Chains()
