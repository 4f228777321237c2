"""The run leaves the target as it found it, however it ends: the cleanup, its section and the gate on it.

Each process undoes its own changes when its session ends (the ``dfns_cleanup``
fixture), and journals each change before making it (``contract/journal.py``).
A pytest-xdist worker's own changes, not shared state: a change to an app or
user the profile names (``Undo.shared``) is handed to the controller, since
the other worker may be in the middle of a case that holds that state on
purpose when this one's session ends (a worker re-activated ``otherAppId``
while the other's case relied on it being off). The controller restores it
once every worker is down: when no process of the run relies on it any more.

That is not enough when a run is cut short: a Ctrl-C to the whole process
group or a SIGTERM reaches every pytest-xdist worker at once, the controller
stops listening to them, and pytest-xdist's own shutdown interrupts a worker
whose cleanup takes longer than a few seconds (execnet sends it SIGINT after
5 s, and kills it after 10). So the controller, once its workers are down,
reads the journal and undoes every change no process confirmed, with a client
of its own; what it cannot undo is one line with what to do by hand. The
``dfns cleanup`` section is written whenever a case changed state or the run
did not pass, and a change not restored fails an otherwise green run: the
next reader of that environment would meet a state nobody chose.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.contract.cleanup import NOT_RESTORED, Cleanup, not_restored, undo_from_record
from dfns_contract.contract.journal import Change, Journal, read_journal
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.output import MaskedTerminal, mask
from dfns_contract.plugin.process import interrupt_on_sigterm, restore_sigterm
from dfns_contract.plugin.progress import during
from dfns_contract.plugin.xdist import is_local_worker, stop_workers
from dfns_contract.reporting.cleanup import PREFIX as SUMMARY_PREFIX
from dfns_contract.reporting.cleanup import cleanup_view

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient

#: Key of ``workerinput`` that carries the journal's folder to a local worker.
WORKERINPUT_KEY = "dfns_journal"
#: Key of ``workeroutput`` with the lines of a worker that cannot write the controller's journal (``--tx ssh=…``).
WORKEROUTPUT_KEY = "dfns_cleanup"


class Restore:
    """Registered in every process of the run; only the controller restores what others left and reports."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        workerinput = getattr(config, "workerinput", None)
        self.controller = workerinput is None
        self.process = "main" if workerinput is None else str(workerinput.get("workerid", "worker"))
        shared = (workerinput or {}).get(WORKERINPUT_KEY)
        #: Whether the controller reads this process's journal (a remote worker hands its lines over instead).
        self.journal_shared = self.controller or shared is not None
        self.directory = Path(shared) if shared else Path(tempfile.mkdtemp(prefix="dfns-contract-journal-"))
        self.own_directory = not shared
        self.cleanup: Cleanup | None = None
        self.lines: list[str] = []
        self.finished = False
        self.interrupted = False
        self.exit_status: int | None = None

    def new_cleanup(self, client: DfnsClient) -> Cleanup:
        """This process's cleanup (the ``dfns_cleanup`` fixture's), journaled where the controller reads it.

        A worker whose journal the controller reads leaves shared state to it; a
        remote worker has no one to hand it to, and restores it at its own end.
        """
        defer = not self.controller and self.journal_shared
        self.cleanup = Cleanup(client, Journal(self.directory, self.process, mask=mask), defer_shared=defer)
        return self.cleanup

    def not_restored(self) -> list[str]:
        return [line for line in self.lines if NOT_RESTORED in line]

    def pytest_sessionstart(self) -> None:
        interrupt_on_sigterm()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: a local worker journals where this process will read it."""
        if is_local_worker(node.gateway.spec):
            node.workerinput[WORKERINPUT_KEY] = str(self.directory)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """xdist controller: the lines of a remote worker, which has a journal of its own."""
        self.lines.extend(getattr(node, "workeroutput", {}).get(WORKEROUTPUT_KEY) or [])

    def finish(self, session: pytest.Session) -> None:
        """Controller, at the start of the session's end: stop the workers, undo what is left, keep the lines.

        Called by the conformance plugin before it decides the run's word (a
        change not restored keeps a run from PASSED), and again, harmlessly, by
        this plugin's own ``pytest_sessionfinish``.
        """
        if self.finished:
            return
        self.finished = True
        self.interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        with during(self.config, "the cleanup"):  # a quota's wait here is as long as anywhere
            self._finish()

    def _finish(self) -> None:
        if self.cleanup is not None:
            self.cleanup.run()  # a serial run's own undos; interrupted, its fixture is not torn down yet
        if not self.controller:
            if not self.journal_shared and self.cleanup is not None:
                self.config.workeroutput[WORKEROUTPUT_KEY] = [  # type: ignore[attr-defined]
                    mask("[%s] %s" % (self.process, line)) for line in self.cleanup.lines]
            return
        stop_workers(self.config)
        state = read_journal(self.directory)
        self.lines[:0] = [_line(change) for change in state.confirmed()]
        own = [change for change in state.pending() if change.process == self.process]
        self.lines.extend(_line(change) for change in own)
        others = [change for change in state.pending() if change.process != self.process]
        if others:
            self.lines.extend(self._restore_for_others(others))

    def _restore_for_others(self, changes: list[Change]) -> list[str]:
        """Undo, once per key, the shared state workers handed over and the changes of workers that were stopped
        or crashed before they confirmed them: every worker is down, so no case of the run relies on them now."""
        client, why = self._client()
        return restore_for_others(changes, client, why, self._shown_url())

    def _client(self) -> tuple[DfnsClient | None, str]:
        """A client of the profile's main principal, for the controller's own undos (or why there is none)."""
        from dfns_contract.plugin.fixtures import principal_client

        target = self._target()
        if target is None:
            return None, "the controller does not know the target (the reference server shared by the workers is gone)"
        base_url, profile = target
        if not profile.get("authToken"):
            return None, "the profile has no authToken to send the requests with"
        from dfns_contract.client.guard import TargetGuard

        client = principal_client(base_url, profile, self.settings)
        client.guard = TargetGuard(cleanup=True)  # no deadline; after its first transport failure it sends no more
        return client, ""

    def _target(self) -> tuple[str, Any] | None:
        if self.settings.base_url:
            return self.settings.base_url, self.settings.profile
        shared = self.config.pluginmanager.get_plugin("dfns-shared-server")
        return shared.target() if shared is not None else None

    def _shown_url(self) -> str:
        return self.settings.shown_url or "<the target>"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.finish(session)
        # After the conformance plugin's gates (the summary hook is handed the status pytest had before them).
        self.exit_status = session.exitstatus

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
        """The ``dfns cleanup`` section whenever a case changed state or the run did not pass; one line for a
        green run that left nothing changed, none for one that changed nothing (``reporting/cleanup.py``)."""
        if not self.controller or self.config.option.collectonly:
            return
        passed = (self.exit_status if self.exit_status is not None else exitstatus) == pytest.ExitCode.OK
        view = cleanup_view(self.lines, passed=passed and not self.interrupted,
                            verbosity=self.config.getoption("verbose"))
        out = MaskedTerminal(terminalreporter)
        if view.title:
            out.section(view.title)
        for line, red in view.lines:
            out.write_line(line, red=red, bold=line.startswith(SUMMARY_PREFIX))

    def pytest_unconfigure(self) -> None:
        restore_sigterm()
        if self.own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def restore_for_others(changes: list[Change], client: DfnsClient | None, why: str, shown_url: str) -> list[str]:
    """The controller's undos of other processes' ``changes``, once per key (two workers may hand over the same
    app); one line each, prefixed with the processes it speaks for. ``why``: why there is no ``client``."""
    by_key: dict[str, list[Change]] = {}
    for change in changes:
        by_key.setdefault(change.key, []).append(change)
    cleanup = Cleanup(client)
    lines: list[str | tuple[str, str]] = []
    for key, same in by_key.items():
        prefix = "[controller, for %s] " % ", ".join(dict.fromkeys(change.process for change in same))
        try:
            undo = undo_from_record(same[0].undo)
        except ValueError as exc:
            lines.append(prefix + "%s: %s in the journal (%s)" % (NOT_RESTORED, key, exc))
        else:
            if client is None:
                lines.append(prefix + not_restored(undo, why, shown_url))
            else:
                cleanup.register(undo)
                lines.append((prefix, undo.key))
    cleanup.run()
    return [line if isinstance(line, str) else line[0] + cleanup.outcomes[line[1]] for line in lines]


def _line(change: Change) -> str:
    """A process's line as the summary shows it: a worker's carries its id."""
    line = change.line or "%s: %s registered, never undone by its process" % (NOT_RESTORED, change.key)
    return line if change.process == "main" else "[%s] %s" % (change.process, line)
