"""Where the reference server runs when the suite is given no ``--base-url``.

A serial run starts it in its own process, at the first test that needs it.

Under pytest-xdist the controller, which runs no test, starts one server while
the workers boot, and hands its URL and profile to every local worker: the
workers share one target, as they share a live environment (the suite is
built for that: unique nonces and names, and each worker undoes its own state
changes), and none of them pays for importing, starting and stopping a server
of its own. On the 2-core machine that cost, paid in every worker, made ``-n 2``
half again as slow as a serial run; shared, ``-n 2`` is level with it (see
bench/README.md). Workers on other machines
(``--tx ssh=…``) cannot reach the controller's loopback address, so each of
them still starts its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.contract.profile import load_profile
from dfns_contract.plugin.output import MaskedTerminal

if TYPE_CHECKING:
    from dfns_contract.server.runner import RunningServer

#: How the header and the conformance report name the target when no --base-url is given.
DESCRIPTION = "embedded reference server (one per run, shared by local xdist workers)"
#: Key of ``workerinput`` that carries the shared server to a worker.
WORKERINPUT_KEY = "dfns_shared_server"
#: How long a worker's set-up waits for the controller's server (its own start has the same deadline).
STARTUP_TIMEOUT = 10.0


class SharedServerError(RuntimeError):
    """The controller's reference server did not start: every case that needs it errors with this."""


def is_local_worker(spec: Any) -> bool:
    """A worker on this machine (``-n``, ``--tx popen``): it can reach loopback and this machine's files."""
    return bool(getattr(spec, "popen", None)) and not getattr(spec, "via", None)


def stop_workers(config: pytest.Config) -> None:
    """Bring every pytest-xdist worker down now, as pytest-xdist's own session end does later (then a no-op).

    The controller calls it before it undoes what workers left changed: a worker
    still running could change the target again behind it. pytest-xdist
    internals: ``DSession.nodemanager.teardown_nodes`` (asks each worker to
    exit, kills it after 10 s).
    """
    dsession = config.pluginmanager.get_plugin("dsession")
    manager = getattr(dsession, "nodemanager", None)
    if manager is not None:
        manager.teardown_nodes()


class SharedServer:
    """pytest-xdist controller plugin: one reference server for all local workers.

    A thread prepares the server (binds its socket, seeds its world: the URL
    and profile the workers need) and then starts it. A worker is configured
    as soon as the URL and profile exist; one that connects before the server
    runs waits in the socket's backlog, within its request timeout.
    """

    def __init__(self, faults: Sequence[str], contract: str) -> None:
        self._faults = list(faults)
        self._contract = contract  # the published version it implements (--dfns-contract, --dfns-mock-contract)
        self._thread: threading.Thread | None = None
        self._prepared = threading.Event()
        self._shared: dict[str, Any] | None = None
        self._server: RunningServer | None = None
        self._error: str | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: Sequence[Any]) -> None:
        """Begin now, so the server starts while the workers' interpreters do."""
        if self._thread is None and any(is_local_worker(spec) for spec in specs):
            self._thread = threading.Thread(target=self._prepare_and_start, name="dfns-mock start", daemon=True)
            self._thread.start()

    def _prepare_and_start(self) -> None:
        try:
            from dfns_contract.server.runner import prepare_server

            prepared = prepare_server(faults=self._faults, contract=self._contract)
            load_profile(None, {}, defaults=prepared.profile)  # its secrets are masked in this process too
            self._shared = {"url": prepared.url, "profile": prepared.profile}
            self._prepared.set()
            self._server = prepared.start(STARTUP_TIMEOUT)
        except Exception as exc:  # every worker reports it, as its own start would
            self._error = "%s: %s" % (exc.__class__.__name__, exc)
        finally:
            self._prepared.set()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self._thread is None or not is_local_worker(node.gateway.spec):
            return
        self._prepared.wait(STARTUP_TIMEOUT)
        shared = self._shared or {"error": self._error or "not prepared within %.0f s" % STARTUP_TIMEOUT}
        node.workerinput[WORKERINPUT_KEY] = shared

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """Let the server wind down (0.1-0.2 s) while the terminal summary is written.

        Not before: pytest-xdist's own ``pytest_sessionfinish`` (run first)
        waits for every worker, and a worker may still be running its cases or
        its cleanup after another was stopped by ``-x``, Ctrl-C or a crash
        (a crashed worker is even replaced by a new one).
        """
        if self._server is not None:
            self._server.request_stop()

    def target(self) -> tuple[str, Any] | None:
        """The shared server's URL and profile, while it runs (the controller's cleanup uses it)."""
        if self._shared is None or self._server is None:
            return None
        return self._shared["url"], load_profile(None, {}, defaults=self._shared["profile"])

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self._error:
            MaskedTerminal(terminalreporter).write_line(
                "dfns: the reference server shared by the workers failed: " + self._error, red=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Also after Ctrl-C, when workers were stopped before they were done."""
        if self._thread is not None:
            self._thread.join(STARTUP_TIMEOUT)
        if self._server is not None:
            self._server.stop()
            self._server = None


def shared_server(config: pytest.Config) -> dict[str, Any] | None:
    """In a worker: the URL and profile of the controller's server, if it shares one.

    Raises ``SharedServerError`` when the controller's server failed to start.
    """
    shared = getattr(config, "workerinput", {}).get(WORKERINPUT_KEY)
    if shared and "error" in shared:
        raise SharedServerError("the reference server (started once for all workers) did not start: %s" % shared["error"])
    return shared
