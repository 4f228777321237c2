"""A run that ends in bounded time: the target's health (a circuit breaker) and the run's deadline.

A slow or dead target must not hold a run that nobody watches: without a
guard each case, and each example of a property, would wait a full timeout
again. One ``TargetGuard`` per process is shared by every client of the run
(other principals, the race senders). Before each request it checks:

* **the breaker**: once the target is taken as unreachable, no later request
  is sent; each is ``TargetDown`` at once, naming the failure that opened it.
  A dead target costs one timeout per process, not one per case. It opens on
  a transport failure (``TransportError``) that says the target is gone: a
  connection refused, a connect or an answer that timed out, an answer cut
  short or not HTTP, and a request whose connection was reset or closed
  before any answer *and* failed again when sent once more on a new
  connection (``client/retries.py``). A single reset or close before any
  answer (an idle keep-alive connection closed by a load balancer) is sent
  again and does not open it; nor does one the client may not send again (its
  one-time value was the case's choice): that request is an error of its own
  case. There is no probe: against someone's production, a target that just
  failed is left alone, and the run says INCOMPLETE ("run again later") either way.
* **the deadline**: past ``deadline`` seconds after the guard started (the
  first case that talks to the target), no request is sent: ``DeadlinePassed``.
  A request already on its way is not cut short; it is bounded by its timeout.

Both are ``EnvironmentFailure``: the case is an *error*, not a failure, and a
property stops at once. The session cleanup must still try to put the target
back after either: its client takes ``for_cleanup()``, a guard with a breaker
of its own and no deadline (each of its requests is bounded by the timeout,
and a target that fails it costs it one timeout, not one per request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from dfns_contract.client.exchange import DeadlinePassed, RunStopped, TargetDown, TransportError
from dfns_contract.client.retries import DEFAULT_BUDGET, Retries

#: Seconds every run may take on top of the per-case part of the deadline (start-up of the cases, fixtures).
DEADLINE_BASE = 60.0
#: Share of the fuzzing budget's examples a heavy test (property, race, replay model) is counted for.
HEAVY_SHARE = 0.25


def run_deadline(timeout: float, cases: int, heavy: int, examples: int) -> float:
    """The default ``--dfns-deadline``: ``60 s + timeout × (cases + heavy × examples / 4)``.

    ``cases`` are the selected tests, ``heavy`` those among them marked
    ``heavy`` (the fuzzing, race and replay-model tests: many requests each),
    ``examples`` the values the fuzzing budget checks per property (dev 32, ci 64, thorough 1000). It lets
    the run average about a quarter of the timeout per request (the suite
    sends about 4 per case and 1 to 2 per example), so a slow but answering
    target on a remote network (100 ms a request) is never cut short, even at
    ``--dfns-timeout 1``.
    """
    return DEADLINE_BASE + timeout * (cases + heavy * examples * HEAVY_SHARE)


class TargetGuard:
    """The breaker and the deadline of one process; thread-safe (the race senders share it)."""

    def __init__(self, deadline: float | None = None, *, clock: Callable[[], float] = time.monotonic,
                 cleanup: bool = False, retries: Retries | None = None) -> None:
        self.deadline = deadline
        #: The budget for waiting out 429s (``--dfns-rate-limit-budget``), shared by every client of the guard.
        self.retries = retries if retries is not None else Retries(DEFAULT_BUDGET)
        self._clock = clock
        self.started = clock()
        self.cleanup = cleanup
        self._lock = threading.Lock()
        #: The first transport failure of this process; None while the target is healthy.
        self.first_failure: TransportError | None = None
        #: Requests refused by the breaker and by the deadline.
        self.refused = {"target down": 0, "deadline": 0}
        #: Why the run stopped sending (``halt``); None while it runs.
        self.halted: str | None = None

    @property
    def tripped(self) -> bool:
        return self.first_failure is not None

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative past it); None without a deadline."""
        return None if self.deadline is None else self.deadline - (self._clock() - self.started)

    def before_send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> None:
        """Raise ``TargetDown``, ``DeadlinePassed`` or ``RunStopped`` when this request must not be sent."""
        if self.halted is not None:
            raise RunStopped(method, url, headers, body, self.halted)
        first = self.first_failure
        if first is not None:
            self._count("target down")
            raise TargetDown(method, url, headers, body, self._down(first))
        left = self.remaining()
        if left is not None and left <= 0:
            self._count("deadline")
            raise DeadlinePassed(method, url, headers, body, "the run's deadline passed (%.0f s after its first case, "
                                 "--dfns-deadline): the target answers too slowly for the run to finish in time"
                                 % self.deadline)

    def failed(self, error: TransportError) -> None:
        """Open the breaker: the target is unreachable (the client decides which failures say so, ``DfnsClient.send``)."""
        with self._lock:
            if self.first_failure is None:
                self.first_failure = error

    def halt(self, why: str) -> None:
        """Send nothing more: the run is ending, and work started ahead must end now, not when it is done."""
        self.halted = why

    def for_cleanup(self) -> TargetGuard:
        """A guard for the session cleanup: not stopped by this run's breaker or deadline, only by its own breaker."""
        return TargetGuard(None, clock=self._clock, cleanup=True, retries=self.retries.for_cleanup())

    def _down(self, first: TransportError) -> str:
        if self.cleanup:
            return "the target already failed earlier in the cleanup (%s)" % first.line
        return ("the target already failed earlier in this run (%s); after a transport failure no request is sent, "
                "so that a dead target costs one timeout, not one per case" % first.line)

    def _count(self, why: str) -> None:
        with self._lock:
            self.refused[why] += 1
