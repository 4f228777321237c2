"""What the run sent again because of the environment: one line at the end of the run, when there was any.

    dfns retries: 1 request sent again after its connection failed before any answer; 3 answers 429 met,
    3 requests sent again after waiting 0.0 s in all

Each process counts its own (``client/retries.py``, ``retry_counts``); a
pytest-xdist worker hands its counts to the controller when it finishes
(``workeroutput``), which adds them up. A gate nobody watches says what the
environment cost it, so that a flaky gateway is seen before it costs a run.
``counts`` is what a report may record.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from dfns_contract.plugin.output import MaskedTerminal

#: Key of ``workeroutput`` that carries a worker's counts to the controller.
WORKEROUTPUT_KEY = "dfns_retries"


class Retried:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        #: The run's retries, every process's added up (``client.retries.RetryCounts``' fields).
        self.counts: dict[str, float] = {"resets": 0, "rate_limited": 0, "rate_limit_retries": 0, "waited": 0.0}

    def pytest_sessionfinish(self) -> None:
        """Every process adds its own counts; a worker also hands them to the controller."""
        retries = sys.modules.get("dfns_contract.client.retries")
        if retries is None:  # no client in this process: nothing was sent
            return
        self._add(retries.retry_counts())
        output = getattr(self.config, "workeroutput", None)
        if output is not None:
            output[WORKEROUTPUT_KEY] = dict(self.counts)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        counts = getattr(node, "workeroutput", {}).get(WORKEROUTPUT_KEY)
        if counts:
            self._add(counts)

    def _add(self, counts: dict[str, float]) -> None:
        for name in self.counts:
            self.counts[name] += counts.get(name, 0)

    def line(self) -> str:
        """The run's retries in words; "" when nothing was sent again and no 429 was met."""
        resets, limited = int(self.counts["resets"]), int(self.counts["rate_limited"])
        if not resets and not limited:
            return ""
        parts = []
        if resets:
            parts.append("%d request%s sent again after its connection failed before any answer"
                         % (resets, "" if resets == 1 else "s"))
        if limited:
            again = int(self.counts["rate_limit_retries"])
            parts.append("%d answer%s 429 met, %d request%s sent again after waiting %.1f s in all "
                         "(--dfns-rate-limit-budget)" % (limited, "" if limited == 1 else "s", again,
                                                         "" if again == 1 else "s", self.counts["waited"]))
        return "dfns retries: " + "; ".join(parts)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if hasattr(self.config, "workerinput") or self.config.get_verbosity() <= -2:
            return
        line = self.line()
        if line:
            MaskedTerminal(terminalreporter).write_line(line)
