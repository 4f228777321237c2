"""Run the reference server in-process: ``start_server`` returns once it answers.

uvicorn runs in a daemon thread on a socket bound here, so ``port=0`` works
and the URL is known before the first request. Each call builds a fresh app
(own world, keys and secret), so several servers can run in one process:
one per fault of a mutation matrix, say.

``prepare_server`` does the part that needs neither Starlette nor uvicorn
(bind and listen, seed the world): URL and profile are known at once, and a
client that connects before ``PreparedServer.start`` is queued by the kernel
and answered once the server runs. The pytest-xdist controller hands them to
the workers that way while the server starts (``dfns_contract.embedded``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .clock import Clock, system_clock
from .contracts import ContractVersion, resolve_contract
from .faults import FaultSet, resolve_faults
from .seed import SeededWorld, new_seeded_world
from .settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

    from .connections import ClientConnections
    from .state import ServerState

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0


class ServerStartError(RuntimeError):
    """The server did not start listening in time, or its thread died."""


@dataclass
class RunningServer:
    """A started server. Use as a context manager, or call ``stop``."""

    url: str
    app: Starlette
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _socket: socket.socket = field(repr=False)

    @property
    def state(self) -> ServerState:
        """World, stores, clock and fault set, for tests that look inside."""
        return self.app.state.server

    @property
    def profile(self) -> dict[str, Any]:
        """The target profile (schemas/profile.json) describing the seeded world."""
        return self.state.seeded.profile(self.url)

    @property
    def client_connections(self) -> ClientConnections:
        """The connection layer's count of open connections per client address, and their peak."""
        return self._server.config.http_protocol_class.client_connections  # type: ignore[attr-defined]

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Stop and wait: ``request_stop`` then ``wait_stopped``."""
        self.request_stop()
        self.wait_stopped(timeout)

    def request_stop(self) -> None:
        """Ask uvicorn to finish without waiting (it takes ~0.2 s: stop many servers at once)."""
        self._server.should_exit = True

    def wait_stopped(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Wait for the server to finish; force it if it has not within ``timeout``."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class PreparedServer:
    """A server whose socket listens and whose world is seeded, not yet serving."""

    url: str
    faults: FaultSet
    clock: Clock
    settings: Settings
    seeded_world: SeededWorld = field(repr=False)
    _socket: socket.socket = field(repr=False)
    #: The version of the errors page it answers as (contracts.py).
    contract: ContractVersion = field(default_factory=lambda: resolve_contract(None))

    @property
    def profile(self) -> dict[str, Any]:
        """The target profile (schemas/profile.json) describing the seeded world."""
        return self.seeded_world.seeded.profile(self.url)

    def start(self, startup_timeout: float = STARTUP_TIMEOUT) -> RunningServer:
        """Serve on the prepared socket; return once uvicorn runs, or raise ``ServerStartError``."""
        try:
            import uvicorn

            from .app import create_app
            from .connections import guarded_protocol

            app = create_app(faults=self.faults, clock=self.clock, settings=self.settings,
                             seeded_world=self.seeded_world, contract=self.contract)
            protocol = guarded_protocol(
                self.settings,
                app.state.server.renderer,
                raw_header_names="header-names-case-sensitive" in self.faults,
            )
        except BaseException:
            self.discard()
            raise
        settings = self.settings
        config = uvicorn.Config(
            app,
            http=protocol,  # uvicorn's httptools protocol with the connection limits
            ws="none",  # no WebSocket route: an Upgrade request is plain HTTP here
            log_level="warning",
            log_config=None,  # a library must not reconfigure the host process's logging
            lifespan="on",  # the sweeper of expired one-time values runs in the app's lifespan
            access_log=False,  # the server's own, opt-in (Settings.access_log, access_log.py)
            timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
            h11_max_incomplete_event_size=settings.max_header_bytes,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        sock = self._socket
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="dfns-mock %s" % self.url, daemon=True
        )
        running = RunningServer(self.url, app, server, thread, sock)
        thread.start()
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive():
                sock.close()
                raise ServerStartError(
                    "the reference server's thread ended before it started listening"
                )
            if time.monotonic() > deadline:
                running.stop(timeout=1.0)
                raise ServerStartError(
                    "the reference server did not start within %.1f s" % startup_timeout
                )
            thread.join(0.005)  # returns early if the thread dies
        return running

    def discard(self) -> None:
        """Never started: close the socket, so that queued clients are refused rather than kept waiting."""
        self._socket.close()


def prepare_server(
    *,
    faults: Iterable[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    registration_code_ttl: timedelta | None = None,
    settings: Settings | None = None,
    contract: str | None = None,
) -> PreparedServer:
    """Bind, listen and seed a fresh server answering as ``contract`` (a version of the errors page,
    default the first edit); raise ``UnknownFault``, ``UnknownContract`` or ``ServerStartError``."""
    settings = settings or Settings()
    if registration_code_ttl is not None:
        settings = replace(settings, registration_code_ttl=registration_code_ttl)
    fault_set = resolve_faults(faults)
    version = resolve_contract(contract)
    clock = clock or system_clock
    seeded_world = new_seeded_world(settings, clock)
    sock = _bind(host, port)
    return PreparedServer(_url(sock), fault_set, clock, settings, seeded_world, sock, version)


def start_server(
    *,
    faults: Iterable[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    registration_code_ttl: timedelta | None = None,
    settings: Settings | None = None,
    startup_timeout: float = STARTUP_TIMEOUT,
    contract: str | None = None,
) -> RunningServer:
    """Start a fresh reference server answering as ``contract`` (default ``2024-08-19``, the errors
    page as first published); raise ``UnknownFault``, ``UnknownContract`` or ``ServerStartError``."""
    prepared = prepare_server(faults=faults, host=host, port=port, clock=clock,
                              registration_code_ttl=registration_code_ttl, settings=settings,
                              contract=contract)
    return prepared.start(startup_timeout)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(
            "cannot listen on %s port %d: %s" % (host, port, exc.strerror)
        ) from None
    sock.listen(2048)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return "http://%s:%d" % ("[%s]" % host if ":" in host else host, port)
