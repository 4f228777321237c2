"""A race's burst that met a rate limiter: wait as told, run the race again, within a budget.

Every other request waits out its own 429 and is sent again by the client
(``client/retries.py``): a case or a property is never run again for it. A
race cannot be: its requests are one burst, sent at once so that a racy
server would show it, and one of them sent again later is no race. So a race
whose burst met a 429 (``RateLimited``, ``concurrent``) is run again from its
first request, its one-time values fresh, after waiting what ``Retry-After``
says (or backing off: 1 s, 2 s, 4 s… at most 30 s when it says nothing). The
run may spend ``--dfns-rate-limit-budget`` seconds waiting on races in all
(each pytest-xdist worker its own; each retry costs at least a second of it,
so that ``Retry-After: 0`` cannot loop forever); past it, the race, whose
burst is what a rate limiter exists for, is *not verified*. A ``RateLimited``
of any other request (the client's budget spent) is an *error* as it comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from dfns_contract.client import RateLimited

MAX_BACKOFF = 30.0
#: Each retry is charged at least this much of the budget, so "Retry-After: 0" cannot loop forever.
MIN_CHARGE = 1.0


def rate_limited(error: BaseException | None) -> RateLimited | None:
    """The ``RateLimited`` behind an exception, also inside a group (Hypothesis reports several as one)."""
    if isinstance(error, RateLimited):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = rate_limited(inner)
            if found is not None:
                return found
    return None


class RateLimits:
    def __init__(self, budget: float, pause: Callable[[float], None] = time.sleep) -> None:
        self.budget = budget
        self.waited = 0.0
        #: What the retries cost the budget: at least MIN_CHARGE each.
        self.charged = 0.0
        self.retries = 0
        self._pause = pause

    def allowance(self, limited: RateLimited, attempt: int) -> float | None:
        """How long to wait before the next attempt; None when the budget cannot cover it."""
        wait = limited.retry_after if limited.retry_after is not None else min(MAX_BACKOFF, 2.0 ** attempt)
        if self.charged + max(wait, MIN_CHARGE) > self.budget:
            return None
        return wait

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        try:
            return (yield)
        except BaseException as error:
            limited = rate_limited(error)
            if limited is None or not limited.concurrent:
                raise
            return self._again(item, limited)

    def _again(self, item: pytest.Item, limited: RateLimited) -> None:
        attempt = 0
        while True:
            wait = self.allowance(limited, attempt)
            if wait is None:
                self._give_up(limited)
            self._pause(wait)
            self.waited += wait
            self.charged += max(wait, MIN_CHARGE)
            self.retries += 1
            attempt += 1
            try:
                item.runtest()
                return None
            except BaseException as error:
                again = rate_limited(error)
                if again is None or not again.concurrent:
                    raise
                limited = again

    def _give_up(self, limited: RateLimited) -> None:
        spent = "the rate-limit budget (%.0f s, --dfns-rate-limit-budget) is spent" % self.budget
        if limited.concurrent:
            pytest.skip("rate limited: the race's burst met the target's rate limiter and %s: %s" % (spent, limited))
        raise RateLimited(limited.exchange, limited.concurrent) from None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.retries:
            terminalreporter.write_line("dfns rate limits: %d race%s run again after waiting %.1f s in all (budget %.0f s)"
                                        % (self.retries, "" if self.retries == 1 else "s", self.waited, self.budget))
