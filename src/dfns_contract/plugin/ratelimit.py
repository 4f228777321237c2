"""Rate limits are the environment's, never the contract's: what is left of a 429 once the client gave up on it.

Every request, a race's sender's too, waits out its own 429 and is sent again
by the client (``client/retries.py``), within ``--dfns-rate-limit-budget``
and the run's deadline: no case, property or race is run again for a 429.
When the budget is spent, the request's ``RateLimited`` ends its case: an
*error* ("rate limited"), except for a race, whose burst is what a rate
limiter exists for: it is *not verified* (skipped), never failed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dfns_contract.client import RateLimited


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
    def __init__(self, budget: float) -> None:
        self.budget = budget

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        try:
            return (yield)
        except BaseException as error:
            limited = rate_limited(error)
            if limited is None or not limited.concurrent:
                raise
            pytest.skip("rate limited: the race's burst met the target's rate limiter and the rate-limit budget "
                        "(%.0f s, --dfns-rate-limit-budget) is spent: %s" % (self.budget, limited))
