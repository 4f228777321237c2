"""A line every 10 s saying what a long run is doing: ``--dfns-progress``.

A run behind a quota of 100 requests a minute, or against a region far away,
may print nothing for a minute at a time, and a run that looks hung gets
killed. So, while the cases run, the controller prints through pytest's
terminal writer, every ``--dfns-progress-interval`` seconds (10 unless told)::

    dfns progress: 12/40 cases done, 311 requests sent; waiting on a rate limit until 14:03:05 (the target's quota)

When: ``auto`` (the default) when the output is a terminal; ``on`` (or the
flag alone) also when it is not (a CI log); ``off`` never; never under
``-qq``, whatever the option says.

Where the numbers come from: cases done are the controller's own count of
finished tests (every test's teardown report reaches it, from pytest-xdist
workers too); requests sent and the waits are each process's
``client.activity.ACTIVITY``. A local pytest-xdist worker writes its snapshot
to a file of a folder the controller hands it (``workerinput``), on a timer
of its own, so that a worker waiting in the middle of a case on a rate limit
is seen while it waits, not when its case ends. A worker on another machine
cannot reach that folder: its requests are left out of the line (the end of
the run's ``dfns network`` line counts them).

A line never breaks pytest's: the timer thread writes only while no report
is being written (one lock, held around pytest's own logging hooks), ends the
dot line first, and makes pytest start its next line afresh.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.client.activity import ACTIVITY, Snapshot
from dfns_contract.plugin.output import mask

#: Key of ``workerinput`` with the folder where local workers write their activity, and their timer's interval.
WORKERINPUT_KEY = "dfns_progress"
#: A worker writes its snapshot this often at most (seconds), so that the controller's line is at most this late.
WORKER_PERIOD = 1.0


def enabled(mode: str, verbosity: int, isatty: bool) -> bool:
    """Whether the run prints progress lines: never under -qq; ``on`` always, ``off`` never, ``auto`` on a tty."""
    if verbosity <= -2 or mode == "off":
        return False
    return mode == "on" or isatty


def line(done: int, total: int | None, requests: int, waiting_until: float | None, waiting_for: str) -> str:
    """The progress line (the time of day a wait ends, this machine's local time)."""
    text = "dfns progress: %d/%s cases done, %d request%s sent" % (
        done, total if total is not None else "?", requests, "" if requests == 1 else "s")
    if waiting_until is not None:
        text += "; waiting on a rate limit until %s (%s)" % (
            time.strftime("%H:%M:%S", time.localtime(waiting_until)), waiting_for)
    return text


def combined(snapshots: Sequence[Snapshot], now: float) -> Snapshot:
    """Every process's activity as one: requests added up, the latest wait still under way."""
    waits = [(s.waiting_until, s.waiting_for) for s in snapshots if s.waiting_until is not None and s.waiting_until > now]
    until, why = max(waits) if waits else (None, "")
    return Snapshot(sum(s.requests for s in snapshots), until, why)


class Ticker:
    """A daemon thread calling ``tick`` every ``interval`` seconds until ``stop``; it waits on an Event."""

    def __init__(self, interval: float, tick: Any, name: str) -> None:
        self._stop = threading.Event()
        self._interval, self._tick = interval, tick
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._tick()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)


class Progress:
    """The controller's progress lines; whether there are any is decided once pytest's terminal exists."""

    def __init__(self, config: pytest.Config, mode: str, interval: float) -> None:
        self.config = config
        self.mode = mode
        self.interval = interval
        self._decided: pytest.TerminalReporter | None | bool = False  # False: not yet; None: no lines
        self.done = 0
        self.total: int | None = None
        self.lines = 0
        self._writing = threading.Lock()  # held by pytest's report writing and by a progress line
        self._running = False
        self._folder: Path | None = None
        self._ticker = Ticker(interval, self.emit, "dfns progress")
        #: A copy of the terminal's file descriptor, taken while pytest's capture is off (``_original_output``).
        self._out: int | None = None

    @property
    def terminal(self) -> pytest.TerminalReporter | None:
        """pytest's terminal reporter when this run prints progress lines, else None (decided at first use: the
        reporter is registered by pytest's own ``pytest_configure``, which may come after the suite's)."""
        if self._decided is False:
            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            shown = terminal is not None and enabled(self.mode, self.config.get_verbosity(),
                                                     bool(getattr(terminal, "isatty", False)))
            self._decided = terminal if shown else None
            if shown:
                self._out = _original_output(terminal)
        return self._decided or None

    # -- what the run did --------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.total = len(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """A local worker writes its activity where this process reads it."""
        from dfns_contract.plugin.xdist import is_local_worker

        if self.terminal is not None and is_local_worker(node.gateway.spec):
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="dfns-contract-progress-"))
            node.workerinput[WORKERINPUT_KEY] = {"folder": str(self._folder), "interval": self.interval}

    # -- when lines may be written ---------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Iterator[None]:
        if self.terminal is None:
            return (yield)
        self._ticker.start()
        try:
            return (yield)
        finally:
            with self._writing:
                self._running = False
            self._ticker.stop()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> Iterator[None]:
        with self._writing:
            self._running = True  # from the first case on: before it, pytest-xdist may be rewriting its own line
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Iterator[None]:
        with self._writing:
            if report.when == "teardown":
                self.done += 1
            return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> Iterator[None]:
        with self._writing:
            return (yield)

    # -- the line ---------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """This process's activity and the local workers' last written."""
        snapshots = [ACTIVITY.snapshot()]
        if self._folder is not None:
            for path in sorted(self._folder.glob("*.json")):
                try:
                    snapshots.append(Snapshot(**json.loads(path.read_text(encoding="utf-8"))))
                except (OSError, ValueError, TypeError):
                    continue  # being replaced: the next tick reads it
        return combined(snapshots, time.time())

    def emit(self) -> None:
        """Write one progress line on a line of its own, between pytest's writes."""
        now = self.snapshot()
        terminal = self.terminal
        with self._writing:
            if not self._running or terminal is None or self._out is None:
                return
            writer = terminal._tw  # pytest's TerminalWriter: the only way to know where the dot line is
            text = mask(line(self.done, self.total, now.requests, now.waiting_until, now.waiting_for))
            text = ("\n" if writer.width_of_current_line else "") + text + "\n"
            try:
                os.write(self._out, text.encode(getattr(terminal._tw, "_file", sys.stdout).encoding or "utf-8",
                                                "replace"))
            except (OSError, LookupError, AttributeError):
                return
            if hasattr(writer, "_current_line"):
                writer._current_line = ""  # pytest places its [NN%] by the width it thinks the line has
            terminal.currentfspath = None  # pytest's next result starts a line of its own
            self.lines += 1

    def pytest_unconfigure(self) -> None:
        self._ticker.stop()
        if self._out is not None:
            os.close(self._out)
            self._out = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _original_output(terminal: pytest.TerminalReporter) -> int | None:
    """A copy of the descriptor pytest's terminal writes to, taken now, while no case runs.

    While a case runs, pytest's capture points that descriptor at a file of its own (what the case prints is
    shown only if it fails): a line written through pytest's writer then would land there, or after the case.
    A copy taken between cases still points where the terminal does. pytest flushes its writer after each
    report, so nothing of its own waits in the buffer while the copy is written to."""
    try:
        return os.dup(terminal._tw._file.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


class WorkerActivity:
    """A local pytest-xdist worker: writes its activity for the controller's line, on a timer of its own."""

    def __init__(self, config: pytest.Config, folder: str, interval: float) -> None:
        worker = config.workerinput.get("workerid", "gw")  # type: ignore[attr-defined]
        self.path = Path(folder) / ("%s.json" % worker)
        self._ticker = Ticker(min(interval / 2, WORKER_PERIOD), self.write, "dfns progress (worker)")

    def write(self) -> None:
        snapshot = ACTIVITY.snapshot()
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            partial.write_text(json.dumps(snapshot.__dict__), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:
            pass  # the controller has gone (its folder removed): nothing to tell

    def pytest_sessionstart(self) -> None:
        self._ticker.start()

    def pytest_sessionfinish(self) -> None:
        self._ticker.stop()
        self.write()

    def pytest_unconfigure(self) -> None:
        self._ticker.stop()


def register(config: pytest.Config, mode: str, interval: float) -> None:
    """Add the controller's lines, or a local worker's writer when the controller handed it a folder."""
    if hasattr(config, "workerinput"):
        handed = config.workerinput.get(WORKERINPUT_KEY)  # type: ignore[attr-defined]
        if handed:
            config.pluginmanager.register(WorkerActivity(config, handed["folder"], handed["interval"]),
                                          "dfns-progress-worker")
        return
    if mode != "off" and config.get_verbosity() > -2:
        config.pluginmanager.register(Progress(config, mode, interval), "dfns-progress")
