"""Rate limits are the environment's, never the contract's: wait as told, run the case again, within a budget.

A 429, or a 503 with ``Retry-After``, stops the request (``RateLimited``,
before any check). The case is then run again from its first request, so its
nonces and user actions are fresh and a replay case never takes its first use
for its replay, after waiting what ``Retry-After`` says (or backing off:
1 s, 2 s, 4 s… at most 30 s when it says nothing). The run may spend
``--dfns-rate-limit-budget`` seconds waiting in all (each pytest-xdist worker
its own; each retry costs at least a second of it, so that ``Retry-After: 0``
cannot loop forever); past it, a rate-limited case is an *error* ("rate limited"), and a
rate-limited race, whose burst is what a rate limiter exists for, is *not
verified*. The pause is the target's request, not a guess at when something
will be ready.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.client import RateLimited
from dfns_contract.plugin.options import AUTO_RATE, Settings

if TYPE_CHECKING:
    from dfns_contract.client.pacing import Pacing

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
            if limited is None:
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
                if again is None:
                    raise
                limited = again

    def _give_up(self, limited: RateLimited) -> None:
        spent = "the rate-limit budget (%.0f s, --dfns-rate-limit-budget) is spent" % self.budget
        if limited.concurrent:
            pytest.skip("rate limited: the race's burst met the target's rate limiter and %s: %s" % (spent, limited))
        raise RateLimited(limited.exchange, limited.concurrent) from None

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.retries:
            terminalreporter.write_line("dfns rate limits: %d case%s run again after waiting %.1f s in all (budget %.0f s)"
                                        % (self.retries, "" if self.retries == 1 else "s", self.waited, self.budget))


# -- the run's pacer: --dfns-rate-limit ----------------------------------------------------------

#: Key of ``workerinput`` that carries the run's quota folder to a local worker.
QUOTA_KEY = "dfns_quota"


def quota_folder(config: pytest.Config) -> Path:
    """The folder where the run's processes share the target's quota: the controller's, handed to local workers."""
    handed = getattr(config, "workerinput", {}).get(QUOTA_KEY)
    if handed:
        return Path(handed)
    return Path(tempfile.mkdtemp(prefix="dfns-contract-quota-"))


def run_pacer(settings: Settings) -> "Pacing | None":
    """This process's pacer, made once: the quota's (``auto``), a fixed rate split between workers, or none."""
    made = getattr(settings, "pacer", None)
    if made is not None or settings.rate_limit is None:
        return made
    if settings.rate_limit == AUTO_RATE:
        from dfns_contract.client.quota import QuotaPacer

        settings.pacer = QuotaPacer(settings.quota_folder)
    else:
        from dfns_contract.client.pacing import Pacer

        workers = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), 1)
        settings.pacer = Pacer(float(settings.rate_limit) / workers)
    return settings.pacer


def quota_limit(settings: Settings) -> int | None:
    """``X-RateLimit-Limit`` as the run knows it so far (the preflight's answers; a worker reads the shared state)."""
    pacer = run_pacer(settings) if settings.rate_limit == AUTO_RATE and settings.quota_folder else None
    snapshot = getattr(pacer, "snapshot", None)
    return snapshot().limit if snapshot is not None else None


class Quota:
    """``--dfns-rate-limit auto``: hands the quota folder to local workers, says what the quota cost, cleans up."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.own_folder = QUOTA_KEY not in getattr(config, "workerinput", {})

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: a local worker shares this run's quota state (a remote one learns its own)."""
        from dfns_contract.plugin.xdist import is_local_worker

        if is_local_worker(node.gateway.spec) and self.settings.quota_folder is not None:
            node.workerinput[QUOTA_KEY] = str(self.settings.quota_folder)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        pacer = getattr(self.settings, "pacer", None)
        if hasattr(self.config, "workerinput") or pacer is None or not hasattr(pacer, "snapshot"):
            return
        state = pacer.snapshot()
        if not state.known:
            terminalreporter.write_line("dfns quota: the target sent no X-RateLimit headers and no 429: not paced "
                                        "(--dfns-rate-limit auto)")
            return
        source = "guessed after a 429 without headers" if state.guessed else "X-RateLimit-Limit"
        terminalreporter.write_line("dfns quota: %d requests a %.0f s window (%s); %d 429s met; paced by the quota "
                                    "(--dfns-rate-limit auto)" % (state.limit, state.window or 60, source,
                                                                  state.refused))

    def pytest_unconfigure(self) -> None:
        folder = self.settings.quota_folder
        if self.own_folder and folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
