"""Rate limits are the environment's, never the contract's: what is left of a 429 once the client gave up on it.

Every request, a race's sender's too, waits out its own 429 and is sent again
by the client (``client/retries.py``), within ``--dfns-rate-limit-budget``
and the run's deadline: no case, property or race is run again for a 429.
When the budget is spent, the request's ``RateLimited`` ends its case: an
*error* ("rate limited"), except for a race, whose burst is what a rate
limiter exists for: it is *not verified* (skipped), never failed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.client import RateLimited
from dfns_contract.plugin.options import AUTO_RATE, Settings

if TYPE_CHECKING:
    from dfns_contract.client.pacing import Pacing


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
            terminalreporter.write_line("dfns quota: the target sent no X-RateLimit headers: not paced, %d 429s "
                                        "waited out request by request (--dfns-rate-limit auto)" % state.refused)
            return
        terminalreporter.write_line("dfns quota: %d requests a %.0f s window (X-RateLimit-Limit); %d 429s met; paced "
                                    "by the quota (--dfns-rate-limit auto)" % (state.limit, state.window or 60,
                                                                               state.refused))

    def pytest_unconfigure(self) -> None:
        folder = self.settings.quota_folder
        if self.own_folder and folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
