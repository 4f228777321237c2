"""What the run cost the target's network: requests sent, at most how many at once, the longest chain.

A team that runs the suite against environments far away needs to know what a
round trip costs it: the run can be no faster than its longest chain of
dependent requests times the round trip, and sends its requests at most
``--dfns-concurrency`` at once. One line at the end of the run (not at ``-q``):

    dfns network: 460 requests, at most 8 at once (--dfns-concurrency), longest chain 24 requests (a walk of the replay model)

Each process counts its own (``client/chains.py``); a pytest-xdist worker
hands its numbers to the controller when it finishes (``workeroutput``), which
adds the requests up and keeps the longest chain.
"""

from __future__ import annotations

from typing import Any

import pytest

from dfns_contract.plugin.output import MaskedTerminal

#: Key of ``workeroutput`` that carries a worker's counts to the controller.
WORKEROUTPUT_KEY = "dfns_network"


class Network:
    def __init__(self, config: pytest.Config, concurrency: int) -> None:
        self.config = config
        self.concurrency = concurrency
        self.requests = 0
        self.longest = (0, "")

    def pytest_sessionfinish(self) -> None:
        """Every process adds its own counts; a worker also hands them to the controller."""
        import sys

        chains = sys.modules.get("dfns_contract.client.chains")
        if chains is None:  # no test ran in this process: it sent nothing
            return
        self._add(chains.CHAINS.requests, chains.CHAINS.longest.requests, chains.CHAINS.longest.label)
        output = getattr(self.config, "workeroutput", None)
        if output is not None:
            output[WORKEROUTPUT_KEY] = {"requests": self.requests, "longest": list(self.longest)}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        counts = getattr(node, "workeroutput", {}).get(WORKEROUTPUT_KEY)
        if counts:
            self._add(counts["requests"], *counts["longest"])

    def _add(self, requests: int, longest: int, label: str) -> None:
        self.requests += requests
        if longest > self.longest[0]:
            self.longest = (longest, label)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if hasattr(self.config, "workerinput") or self.config.getoption("verbose") < 0 or not self.requests:
            return
        longest, label = self.longest
        chain = ", longest chain %d request%s (%s)" % (longest, "" if longest == 1 else "s", label) if longest else ""
        MaskedTerminal(terminalreporter).write_line("dfns network: %d requests, at most %d at once (--dfns-concurrency)%s"
                                                    % (self.requests, self.concurrency, chain))
