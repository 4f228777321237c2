"""A line every 10 s saying what a long run is doing: ``--dfns-progress``.

A run behind a quota of 100 requests a minute, or against a region far away,
may print nothing for a minute at a time, and a run that looks hung gets
killed. So, while the cases run, the controller prints through pytest's
terminal writer, every ``--dfns-progress-interval`` seconds (10 unless told)::

    dfns progress: 12/40 cases done, 311 requests sent; waiting on a rate limit until 14:03:05 (the target's quota)

The steps before and after the cases, which wait on a quota as long as any
case does, say which step it is::

    dfns progress: the start-up check, 4 requests sent; waiting on a rate limit until 14:03:05 (the target's quota)

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
from contextlib import AbstractContextManager, contextmanager, nullcontext
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
    return "dfns progress: %d/%s cases done, %s%s" % (
        done, total if total is not None else "?", _sent(requests), _wait(waiting_until, waiting_for))


def step_line(step: str, requests: int, waiting_until: float | None, waiting_for: str) -> str:
    """The line of a step outside the cases (the start-up check, the cleanup): what it has sent, and a wait."""
    return "dfns progress: %s, %s%s" % (step, _sent(requests), _wait(waiting_until, waiting_for))


def _sent(requests: int) -> str:
    return "%d request%s sent" % (requests, "" if requests == 1 else "s")


def _wait(until: float | None, why: str) -> str:
    if until is None:
        return ""
    return "; waiting on a rate limit until %s (%s)" % (time.strftime("%H:%M:%S", time.localtime(until)), why)


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
        #: The step outside the cases under way (``during``), and the requests sent before it began.
        self._step: str | None = None
        self._step_from = 0

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

    # -- the steps before and after the cases --------------------------------------------------------

    @contextmanager
    def during(self, step: str) -> Iterator[None]:
        """A line every interval while ``step`` lasts (the start-up check, the cleanup), as while the cases run.

        The start-up check comes before pytest's terminal exists: its lines go to standard output, shown when
        that is a terminal (``auto``) or asked for (``on``)."""
        if not self._shows_steps():
            yield
            return
        with self._writing:
            self._step, self._step_from = step, ACTIVITY.snapshot().requests
        ticker = Ticker(self.interval, self.emit, "dfns progress (%s)" % step)
        ticker.start()
        try:
            yield
        finally:
            ticker.stop()
            with self._writing:
                self._step = None

    def _shows_steps(self) -> bool:
        if self.config.pluginmanager.get_plugin("terminalreporter") is not None:
            return self.terminal is not None
        return enabled(self.mode, self.config.get_verbosity(), sys.stdout.isatty())

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
        with self._writing:
            if self._step is not None:
                own = ACTIVITY.snapshot()
                text = step_line(self._step, own.requests - self._step_from, own.waiting_until, own.waiting_for)
            elif self._running:
                text = line(self.done, self.total, now.requests, now.waiting_until, now.waiting_for)
            else:
                return
            if self.config.pluginmanager.get_plugin("terminalreporter") is None:
                # The start-up check: pytest's terminal does not exist yet, and nothing else writes.
                self._write(sys.stdout.fileno(), mask(text) + "\n", sys.stdout.encoding)
                return
            terminal = self.terminal
            if terminal is None or self._out is None:
                return
            writer = terminal._tw  # pytest's TerminalWriter: the only way to know where the dot line is
            text = ("\n" if writer.width_of_current_line else "") + mask(text) + "\n"
            if not self._write(self._out, text, getattr(writer, "_file", sys.stdout).encoding):
                return
            if hasattr(writer, "_current_line"):
                writer._current_line = ""  # pytest places its [NN%] by the width it thinks the line has
            terminal.currentfspath = None  # pytest's next result starts a line of its own

    def _write(self, fd: int, text: str, encoding: str | None) -> bool:
        try:
            os.write(fd, text.encode(encoding or "utf-8", "replace"))
        except (OSError, LookupError, AttributeError, ValueError):
            return False
        self.lines += 1
        return True

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


def controller_progress(config: pytest.Config, mode: str, interval: float) -> Progress | None:
    """The controller's lines (None: ``off``, ``-qq``, or a worker), made before the start-up check."""
    if hasattr(config, "workerinput") or mode == "off" or config.get_verbosity() <= -2:
        return None
    return Progress(config, mode, interval)


def register(config: pytest.Config, progress: Progress | None) -> None:
    """Add the controller's lines, or a local worker's writer when the controller handed it a folder."""
    if hasattr(config, "workerinput"):
        handed = config.workerinput.get(WORKERINPUT_KEY)  # type: ignore[attr-defined]
        if handed:
            config.pluginmanager.register(WorkerActivity(config, handed["folder"], handed["interval"]),
                                          "dfns-progress-worker")
        return
    if progress is not None:
        config.pluginmanager.register(progress, PLUGIN_NAME)


#: The controller's ``Progress`` among pytest's plugins (the cleanup finds it there).
PLUGIN_NAME = "dfns-progress"


def during(config: pytest.Config, step: str) -> AbstractContextManager[None]:
    """``Progress.during`` of the run's lines, or nothing when there are none."""
    progress = config.pluginmanager.get_plugin(PLUGIN_NAME)
    return progress.during(step) if isinstance(progress, Progress) else nullcontext()
