"""When one request is sent again: once after a connection that failed before any answer, and after a 429.

The environment's hiccups are not the target's death nor the contract's
fault (``docs/environment-answers.md``):

* **a reset** (the connection reset or closed before any answer: a load
  balancer that closed an idle keep-alive connection, a server at its
  connection limit) is sent again *once*, on a new connection, with fresh
  one-time values (``DfnsClient.request`` builds them again). A request whose
  one-time value the case chose itself (``X-DFNS-NONCE``, ``X-DFNS-USERACTION``
  given by the caller) is never sent again: the first sending may have been
  processed, and a second would be a reuse the case did not mean;
* **a 429** is waited out (``Retry-After``, seconds or an HTTP date; else
  ``X-RateLimit-Reset``, Unix seconds; else exponential backoff with jitter,
  1 s doubling up to 30 s) and that request sent again with fresh one-time
  values, as often as the budget (``--dfns-rate-limit-budget``, each wait
  charged at least ``MIN_CHARGE`` so that ``Retry-After: 0`` cannot loop
  forever) and the run's deadline allow.

``Retries`` holds one budget (a process's run has one, the session cleanup
another, so that a run that spent its budget can still put the target back);
every ``Retries`` of the process adds to ``COUNTS``, which the reports read
through ``retry_counts()``. The pause is injectable: selftests need not wait.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from dfns_contract.client.activity import RETRY_AFTER, pause_on_rate_limit

#: Kinds of ``TransportError`` (``exchange.describe_transport_failure``) that got no answer at all and are
#: sent again once: the connection was reset or closed before a byte of the answer came.
NO_ANSWER_KINDS = frozenset({"reset", "closed"})
#: ``--dfns-rate-limit-budget``'s default, seconds.
DEFAULT_BUDGET = 60.0
#: Each wait for a 429 is charged at least this much of the budget, so "Retry-After: 0" cannot loop forever.
MIN_CHARGE = 1.0
#: Backoff without advice: BACKOFF_BASE × 2^attempt, at most MAX_BACKOFF, times a jitter in [0.5, 1).
BACKOFF_BASE = 1.0
MAX_BACKOFF = 30.0


@dataclass
class RetryCounts:
    """What this process sent again, and why (one per process: ``COUNTS``)."""

    #: Requests sent again after their connection failed before any answer.
    resets: int = 0
    #: 429 answers met (each waited out and its request sent again, or the last one reported).
    rate_limited: int = 0
    #: Requests sent again after a 429.
    rate_limit_retries: int = 0
    #: Seconds spent waiting for 429s.
    waited: float = 0.0


COUNTS = RetryCounts()
_COUNTS_LOCK = threading.Lock()


def retry_counts() -> dict[str, float]:
    """This process's retries so far, as plain numbers (the reports and ``plugin/retries.py`` read them)."""
    with _COUNTS_LOCK:
        return asdict(COUNTS)


def reset_counts() -> None:
    """Start counting again (a selftest that runs the client in its own process)."""
    with _COUNTS_LOCK:
        COUNTS.resets = COUNTS.rate_limited = COUNTS.rate_limit_retries = 0
        COUNTS.waited = 0.0


def count_reset() -> None:
    with _COUNTS_LOCK:
        COUNTS.resets += 1


def count_rate_limited() -> None:
    with _COUNTS_LOCK:
        COUNTS.rate_limited += 1


class Retries:
    """One budget for waiting out 429s; thread-safe (the run's concurrent requests share it)."""

    def __init__(self, budget: float = DEFAULT_BUDGET, *, pause: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        self.budget = budget
        self._pause, self._jitter = pause, jitter
        self._lock = threading.Lock()
        #: What the waits cost the budget so far: at least MIN_CHARGE each.
        self.charged = 0.0

    def backoff(self, attempt: int) -> float:
        """The wait when the answer gave no advice: exponential, with jitter so that senders do not meet again."""
        return min(MAX_BACKOFF, BACKOFF_BASE * 2.0 ** attempt) * (0.5 + self._jitter() / 2)

    def allowance(self, advice: float | None, attempt: int, remaining: float | None) -> float | None:
        """Seconds to wait before sending again (charged to the budget), or None when the budget or the
        run's deadline (``remaining`` seconds; None: no deadline) cannot cover it."""
        wait = advice if advice is not None else self.backoff(attempt)
        charge = max(wait, MIN_CHARGE)
        if remaining is not None and wait >= remaining:
            return None
        with self._lock:
            if self.charged + charge > self.budget:
                return None
            self.charged += charge
        return wait

    def wait(self, seconds: float) -> None:
        """Wait as the target asked, and count it with the process's retries."""
        if seconds > 0:
            pause_on_rate_limit(self._pause, seconds, RETRY_AFTER)
        with _COUNTS_LOCK:
            COUNTS.rate_limit_retries += 1
            COUNTS.waited += seconds

    def for_cleanup(self) -> Retries:
        """A budget of the same size for the session cleanup, whatever the run spent of its own."""
        return Retries(self.budget, pause=self._pause, jitter=self._jitter)


#: The budget of clients without a guard (start-up checks, detection); the suite sets it from its option.
RETRIES = Retries()
