"""A loopback fault proxy in front of a target: per request, forward, delay, rate-limit, hang, reset or cut the answer.

What a real network can do to a run, on 127.0.0.1 only: the selftests and the
benchmark put it between the suite and the reference server to prove that a
slow or dead target ends the run in bounded time, and that each transport
failure is one clear *error*, never a broken contract.

A ``policy`` sees each request (its number 1, 2, … in arrival order, its
method and path) and returns what to do with it:

* ``FORWARD``: send it upstream and relay the answer;
* ``Delay(s)``: wait ``s`` seconds, then forward (the wait is the proxy's own,
  released at once when the proxy stops);
* ``RateLimit(retry_after)``: answer 429 without forwarding;
* ``HANG``: read the request and never answer (until the proxy stops or the client gives up);
* ``RESET``: read the request and reset the connection (TCP RST), forwarding nothing;
* ``Cut(after)``: forward, then send only the first ``after`` bytes of the answer
  (``in_body=True``: of its body, after the complete headers) and close;
* ``Answer(status, headers, body)``: answer so without forwarding (a gateway's HTML 502, a 429 with the
  rate-limit headers).

Every request's headers are kept in arrival order (``received``), so that a
test can see what a request sent again carried.

The proxy speaks HTTP/1.1 with keep-alive to the client and opens one upstream
connection per request. It counts what it did (``counts``), calls
``on_forwarded(number, method, path, status)`` once a forwarded request was
answered upstream (before the client gets the answer), and, as a context manager,
stops every thread it started.
"""

from __future__ import annotations

import http.client
import select
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union
from urllib.parse import urlsplit

#: Headers of a hop, not of the message: the proxy sets its own framing (Content-Length).
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
              "proxy-connection", "te", "trailer", "upgrade"}
#: How long the proxy waits on its upstream (the reference server answers in milliseconds).
UPSTREAM_TIMEOUT = 30.0
#: How long ``stop`` waits for each of the proxy's threads.
JOIN_TIMEOUT = 10.0
#: How often a held request looks whether the proxy is stopping (between, it waits on its client's socket).
HOLD_POLL = 0.05
#: The part of a hold at its end that a next hold may overlap and still count as after it (``timeouts_in_sequence``).
SEQUENCE_SLACK = 0.1


@dataclass(frozen=True)
class Forward:
    """Send the request upstream and relay the answer as it came."""


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before forwarding: a slow network or a slow target."""

    seconds: float


@dataclass(frozen=True)
class RateLimit:
    """Answer 429 (with ``Retry-After`` unless None) without forwarding: a gateway's rate limiter."""

    retry_after: str | None = "0"


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer, until the proxy stops: a dead target behind a live socket."""


@dataclass(frozen=True)
class Reset:
    """Read the request and reset the connection (RST), forwarding nothing."""


@dataclass(frozen=True)
class Cut:
    """Forward, then send only the first ``after`` bytes of the answer and close (``in_body``: of the body)."""

    after: int
    in_body: bool = False


@dataclass(frozen=True)
class Answer:
    """Answer ``status`` with these headers and body, without forwarding: what a gateway says for the target."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


#: A gateway's HTML page for a target it could not reach, as load balancers answer.
HTML_502 = Answer(502, (("Content-Type", "text/html"),),
                  b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
                  b"</body></html>")

Action = Union[Forward, Delay, RateLimit, Hang, Reset, Cut, Answer]
FORWARD, HANG, RESET = Forward(), Hang(), Reset()


@dataclass(frozen=True)
class Request:
    """What a policy decides on: the request's number (1, 2, … in arrival order), method, path, and the
    names of its headers, lower-cased (which one-time values it carries)."""

    number: int
    method: str
    path: str
    header_names: frozenset[str] = frozenset()


Policy = Callable[[Request], Action]
Forwarded = Callable[[int, str, str, int], None]
Upstream = Callable[[str, str, dict[str, str], "bytes | None"], tuple[int, list[tuple[str, str]], bytes]]


def forward_all(request: Request) -> Action:
    return FORWARD


def after_request(n: int, then: Action, before: Action = FORWARD) -> Policy:
    """``before`` for requests 1…n, ``then`` for every later one (a target that goes bad mid-run)."""
    return lambda request: before if request.number <= n else then


class FaultProxy:
    """The proxy; start it with ``with FaultProxy(...) as proxy`` (or ``start``/``stop``)."""

    def __init__(self, upstream: str, policy: Policy = forward_all, *,
                 on_forwarded: Forwarded | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.policy = policy
        self.on_forwarded = on_forwarded
        #: What the proxy did, by kind: forwarded, delayed, rate-limited, hung, reset, cut.
        self.counts: Counter[str] = Counter()
        #: Replaceable (a test makes the proxy answer as something that is not a Dfns API).
        self.forward: Upstream = self._forward_upstream
        self.stopping = threading.Event()
        self._numbers = 0
        self._lock = threading.Lock()
        #: Requests on their way through the proxy now, and the most there ever were at once.
        self.in_flight = 0
        self.most_in_flight = 0
        #: When each request arrived (``time.monotonic``), in arrival order: what a rate limiter sees.
        self.arrivals: list[float] = []
        #: Each hung or delayed request's hold, (arrived, client gave up or the hold ended), in monotonic time:
        #: ``timeouts_in_sequence`` counts from them how many timeouts a run waited one after another.
        self.holds: list[tuple[float, float]] = []
        #: Each request as it arrived (number, method, path, headers), in arrival order.
        self.received: list[tuple[int, str, str, dict[str, str]]] = []
        self._connections: set[socket.socket] = set()
        self.server = _Server(("127.0.0.1", 0), self._handler(), self)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests, close every client connection, and join every thread the proxy started."""
        self.stopping.set()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(JOIN_TIMEOUT)
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)
        self.server.server_close()  # joins the handler threads (block_on_close)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- counts ---------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """Requests that reached the proxy, whatever it did with them."""
        return self._numbers

    @property
    def forwarded(self) -> int:
        return self.counts["forwarded"]

    @property
    def limited(self) -> int:
        return self.counts["rate-limited"]

    def _number(self) -> int:
        with self._lock:
            self._numbers += 1
            return self._numbers

    def _arrived(self, coming: bool) -> None:
        with self._lock:
            self.in_flight += 1 if coming else -1
            if coming:
                self.arrivals.append(time.monotonic())
                self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def most_in_any_second(self) -> int:
        """The most requests that arrived within any one second: what a rate limiter counts."""
        times, most, start = sorted(self.arrivals), 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    def timeouts_in_sequence(self) -> int:
        """The most holds one after another (none overlapping the next): the timeouts a client waited in sequence.

        Holds that overlap were waited together, however long each took on a loaded machine: a count, not a
        duration. A hold that starts within the last tenth of the previous one counts as after it: a client's
        next request may reach the proxy a moment before the proxy sees it gave up on the last one.
        """
        count, free_from = 0, float("-inf")
        for start, end in sorted(self.holds, key=lambda hold: hold[1]):
            if start >= free_from:
                count, free_from = count + 1, end - SEQUENCE_SLACK * (end - start)
        return count

    def _hold(self, handler: BaseHTTPRequestHandler, seconds: float | None) -> bool:
        """Hold a request ``seconds`` (``None``: until the proxy stops), noting when its client gave up; whether
        the proxy is stopping."""
        start = time.monotonic()
        end = None if seconds is None else start + seconds
        gave_up: float | None = None
        while not self.stopping.is_set():
            wait = HOLD_POLL if end is None else min(HOLD_POLL, max(end - time.monotonic(), 0.0))
            closed = _closed_by_client(handler.connection, wait) if gave_up is None else None
            if closed:
                gave_up = time.monotonic()
                if end is None:
                    break  # nothing more to wait for: a hung request is never answered
            elif closed is None:
                self.stopping.wait(wait)  # nothing to learn from the socket now: wait on the clock alone
            if end is not None and time.monotonic() >= end:
                break
        with self._lock:
            self.holds.append((start, gave_up if gave_up is not None else time.monotonic()))
        return self.stopping.is_set()

    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    # -- one request ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real API gateway
            disable_nagle_algorithm = True  # each answer leaves at once, as from a real gateway (TCP_NODELAY)

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                request = Request(proxy._number(), self.command, self.path,
                                  frozenset(name.lower() for name in self.headers.keys()))
                with proxy._lock:
                    proxy.received.append((request.number, self.command, self.path, dict(self.headers.items())))
                proxy._arrived(True)
                try:
                    proxy.act(proxy.policy(request), request, self, body)
                finally:
                    proxy._arrived(False)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _any  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def act(self, action: Action, request: Request, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        """Do what the policy said with one request."""
        if isinstance(action, Hang):
            self.counts["hung"] += 1
            self._hold(handler, None)
            handler.close_connection = True
            return
        if isinstance(action, Reset):
            self.counts["reset"] += 1
            _reset(handler)
            handler.close_connection = True
            return
        if isinstance(action, RateLimit):
            self.counts["rate-limited"] += 1
            headers = [("Retry-After", action.retry_after)] if action.retry_after is not None else []
            handler.wfile.write(_response(429, headers + [("Content-Type", "text/plain")], b"Too Many Requests"))
            return
        if isinstance(action, Answer):
            self.counts["answered"] += 1
            handler.wfile.write(_response(action.status, list(action.headers), action.body))
            return
        if isinstance(action, Delay):
            self.counts["delayed"] += 1
            if self._hold(handler, action.seconds):
                handler.close_connection = True
                return
        headers = {name: value for name, value in handler.headers.items()
                   if name.lower() not in ("host", "accept-encoding", "connection")}
        status, answer_headers, payload = self.forward(request.method, request.path, headers, body)
        self.counts["forwarded"] += 1
        if self.on_forwarded is not None:
            self.on_forwarded(request.number, request.method, request.path, status)
        raw = _response(status, [(k, v) for k, v in answer_headers if k.lower() not in HOP_BY_HOP], payload)
        if isinstance(action, Cut):
            self.counts["cut"] += 1
            keep = action.after + (raw.index(b"\r\n\r\n") + 4 if action.in_body else 0)
            handler.wfile.write(raw[:keep])
            handler.wfile.flush()
            _shut(handler.connection)
            handler.close_connection = True
            return
        handler.wfile.write(raw)

    def _forward_upstream(self, method: str, path: str, headers: dict[str, str],
                          body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=UPSTREAM_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


def _closed_by_client(connection: socket.socket, wait: float) -> bool | None:
    """Whether the client closed (or reset) the connection within ``wait`` seconds: readable with nothing to read;
    ``None`` when it sent more (pipelined) at once, which tells nothing.

    Waiting on the socket, not on a clock, notes the moment the client gave up as it happens."""
    try:
        readable, _, _ = select.select([connection], [], [], wait)
        if not readable:
            return False
        return None if connection.recv(1, socket.MSG_PEEK) else True
    except (OSError, ValueError):
        return True


class _Server(ThreadingHTTPServer):
    """Handler threads that ``server_close`` joins, and connections the proxy can close when it stops."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # a race opens 20 connections at once: none may wait for a SYN retransmit

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.proxy._track(request, True)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.proxy._track(request, False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away mid-answer is what some tests do on purpose


def _response(status: int, headers: list[tuple[str, str]], payload: bytes) -> bytes:
    reason = http.client.responses.get(status, "Unknown")
    lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % item for item in headers]
    lines.append("Content-Length: %d" % len(payload))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def _shut(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not an orderly FIN.

    The handler's reader holds a reference to the socket, which a ``close`` would
    wait for: it is closed first, so that the socket really closes here.
    """
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.rfile.close()
        handler.connection.close()
    except OSError:
        pass


@contextmanager
def fault_proxy(upstream: str, policy: Policy = forward_all, *,
                on_forwarded: Forwarded | None = None) -> Iterator[FaultProxy]:
    """``FaultProxy(upstream, policy)`` running for the ``with`` block."""
    with FaultProxy(upstream, policy, on_forwarded=on_forwarded) as proxy:
        yield proxy
