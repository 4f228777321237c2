"""The session cleanup's summary: one line per state change, from every process, and the gate on it.

Each process undoes its own changes when its session ends (the ``dfns_cleanup``
fixture); a pytest-xdist worker hands its lines to the controller when it goes
down. A change that could not be restored fails an otherwise green run: the
next reader of that environment (or the next run) would meet a state nobody chose.
"""

from __future__ import annotations

import pytest

from dfns_contract.contract.cleanup import run_summary
from dfns_contract.plugin.output import MaskedTerminal
from dfns_contract.plugin.stash import CLEANUP_LINES

NOT_RESTORED = "NOT restored"


class Restore:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @property
    def lines(self) -> list[str]:
        return self.config.stash.get(CLEANUP_LINES, [])

    def not_restored(self) -> list[str]:
        return [line for line in self.lines if NOT_RESTORED in line]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """xdist controller: collect each worker's cleanup lines for the summary."""
        lines = getattr(node, "workeroutput", {}).get("dfns_cleanup")
        if lines:
            self.config.stash.setdefault(CLEANUP_LINES, []).extend(lines)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Before the reports are written, so they carry the exit status."""
        if not hasattr(self.config, "workerinput") and self.not_restored() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.lines or hasattr(self.config, "workerinput"):
            return
        failed = self.not_restored()
        out = MaskedTerminal(terminalreporter)
        out.section("dfns cleanup (state the run changed on the target)")
        for line in self.lines:
            out.write_line(line, red=NOT_RESTORED in line)
        out.write_line("dfns cleanup: " + run_summary(self.lines), bold=True, red=bool(failed))
        if failed:
            out.write_line(
                "dfns cleanup: the run fails because %d state change%s not restored; put it back by hand (see above)"
                % (len(failed), " was" if len(failed) == 1 else "s were"), red=True, bold=True)
