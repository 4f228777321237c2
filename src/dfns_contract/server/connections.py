"""The connection layer: the limits that must act before a request becomes an ASGI call.

uvicorn reads a header section with no bound on its size or its time, and
takes any number of connections from one client. A client that opens
connections and sends their headers slowly (slowloris) holds a file
descriptor each, for ever, until the process has none left for anyone else.
``guarded_protocol`` builds, per server, a subclass of uvicorn's httptools
protocol that adds:

* **connections per client address** (``Settings.max_connections_per_client``):
  a connection over the limit is answered, never reset: its request head is
  read (within the header deadline and size), answered 429 with
  ``Retry-After`` in the version's error body and ``Connection: close``, and
  closed once the client closes its end (or after ``LINGER_SECONDS``), so
  bytes still on their way cannot turn the answer into a reset. Only past
  the limit and its answer slots (an eighth of it, at least 4: each answer
  holds a descriptor until the head comes) is a new connection closed as it
  opens. One WARNING line when a client reaches the limit, not one per
  refused connection;
* **a header deadline** (``Settings.header_timeout``): a request's header
  section must be complete within it, counted from the connection opening
  or from the end of the previous exchange. Then 408 in the envelope if part
  of a request came, a quiet close if nothing did (an idle connection, where
  an unasked-for 408 could be read as the answer to the client's next request);
* **a header size bound while the section arrives** (``Settings.max_header_bytes``):
  431 once more bytes came than the limit without the section ending. A
  section that does end is measured exactly by request_limits.py;
* **the envelope for what cannot be parsed**: uvicorn answers a request it
  cannot parse with a ``text/plain`` 400 and a warning; here it is the
  envelope's 400 and an INFO line. There is no WebSocket route, so an
  ``Upgrade`` request is served as plain HTTP, without uvicorn's warnings;
* under the fault ``header-names-case-sensitive`` only, **the header names as
  sent** (uvicorn lower-cases them), in the scope for the pipeline
  (header_names.py). The faithful server pays nothing for it: the recording
  is a subclass used only when the fault is on.

The states come from the parser's own callbacks (``on_message_begin``,
``on_headers_complete``, ``on_message_complete``) and uvicorn's
``on_response_complete``; everything else is uvicorn's. httptools is part of
``uvicorn[standard]``, the project's dependency.
"""

from __future__ import annotations

import asyncio
import enum
import logging

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .access_log import log_access
from .errors import ApiError, ErrorId
from .header_names import RAW_HEADERS
from .rendering import Renderer
from .settings import Settings

logger = logging.getLogger("dfns_contract.server")


class Admission(enum.Enum):
    """What a new connection gets from the per-client limit."""

    SERVED = "served"
    #: Over the limit: its request head is read, answered 429 with ``Retry-After``, and closed.
    ANSWERED = "answered"
    #: Past the limit and its answer slots (``answer_slots``): closed as it opens, since an answer
    #: holds a descriptor until the head comes, and a client this far over is no test suite.
    CLOSED = "closed"


def answer_slots(limit: int) -> int:
    """How many connections over its limit a client may have waiting for their 429 at once: an
    eighth of the limit (at least 4), so a slowloris past the limit cannot take the file limit."""
    return max(4, limit // 8)


#: ``Retry-After`` of the 429 over the connection limit: a place frees as soon as one of the
#: client's connections ends, and a second is the least the header can say.
RETRY_AFTER_SECONDS = 1
#: The longest an answered connection waits for the client's end before closing: closing with
#: the client's bytes still arriving (a body) would reset the connection, and lose the answer.
LINGER_SECONDS = 2.0


class ClientConnections:
    """Open connections per client address, for one server (its event loop only: no lock)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}
        #: The most connections each client has had open at once (how far a workload is from the limit).
        self.peak: dict[str, int] = {}
        self._at_limit: set[str] = set()

    def admit(self, host: str) -> Admission:
        """Count a new connection: served, answered 429 (over the limit), or closed (past its answer slots)."""
        count = self.open.get(host, 0) + 1
        self.open[host] = count
        self.peak[host] = max(self.peak.get(host, 0), count)
        if count <= self.limit:
            return Admission.SERVED
        if host not in self._at_limit:
            self._at_limit.add(host)
            logger.warning(
                "client %s has %d connections open, the limit (max_connections_per_client): "
                "answering its new connections 429 until it has fewer", host, self.limit,
            )
        return Admission.ANSWERED if count <= self.limit + answer_slots(self.limit) else Admission.CLOSED

    def release(self, host: str) -> None:
        count = self.open[host] - 1
        if count:
            self.open[host] = count
        else:
            del self.open[host]
        if count < self.limit:
            self._at_limit.discard(host)


def guarded_protocol(
    settings: Settings, renderer: Renderer, *, raw_header_names: bool = False
) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with this server's connection limits (pass it as ``Config(http=...)``).

    ``raw_header_names``: also keep the header names as sent (the fault
    header-names-case-sensitive needs them).
    """
    connections = ClientConnections(settings.max_connections_per_client)
    header_timeout = settings.header_timeout
    max_header_bytes = settings.max_header_bytes
    access_log = settings.access_log
    #: The errors this layer answers with, rendered per answer (a 2026 body has a new id each time).
    errors = {
        "timeout": ApiError(ErrorId.REQUEST_TIMEOUT),
        "too-large": ApiError(ErrorId.HEADERS_TOO_LARGE, limit=str(max_header_bytes)),
        "malformed": ApiError(ErrorId.MALFORMED_REQUEST),
        "fault": ApiError(ErrorId.INTERNAL),
        "too-many-connections": ApiError(
            ErrorId.TOO_MANY_CONNECTIONS, limit=str(settings.max_connections_per_client)
        ),
    }
    #: Headers an answer carries besides the error: when to come back, for a limit that frees.
    extra_headers = {"too-many-connections": {"Retry-After": str(RETRY_AFTER_SECONDS)}}

    def answer(name: str) -> tuple[str, bytes]:
        """(status for the access log, the whole response) of one of this layer's answers."""
        error = errors[name]
        status = str(renderer.table[error.error].status)
        return status, renderer.raw_error(error, extra_headers.get(name))

    class GuardedHttpProtocol(HttpToolsProtocol):
        """One connection.

        ``_waiting``: for a request's header section (between two requests, or
        in one); ``_begun``: part of that request came; ``_message_complete``:
        the last request that began has been read to its end.
        """

        #: This server's count of open connections per client address.
        client_connections = connections
        _host: str | None = None
        _refused = False
        #: Over the client's connection limit: read the head, answer 429, linger, close.
        _over_limit = False
        _head_tail = b""
        _answered = False
        _waiting = False
        _begun = False
        _header_bytes = 0
        _deadline: asyncio.TimerHandle | None = None
        _message_complete = True

        # -- the connection --------------------------------------------------------

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._host = self.client[0] if self.client else None
            admission = Admission.SERVED if self._host is None else connections.admit(self._host)
            if admission is Admission.CLOSED:
                self._refused = True
                transport.close()
            elif admission is Admission.ANSWERED:
                self._over_limit = True
                self._deadline = self.loop.call_later(header_timeout, self._answer_over_limit)
            else:
                self._wait_for_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_deadline()
            if self._host is not None:
                connections.release(self._host)
                self._host = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            """uvicorn's, with the size bound, and the envelope for what cannot be parsed."""
            if self._refused:
                return
            if self._over_limit:
                self._read_head_over_limit(data)
                return
            self._unset_keepalive_if_required()
            if self._waiting:
                self._header_bytes += len(data)
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                pass  # no protocol to switch to: the request was served as plain HTTP
            except httptools.HttpParserCallbackError as exc:
                cause = exc.__context__
                if isinstance(cause, UnicodeError):  # a target that is not ASCII
                    self._refuse("malformed", "malformed request (%s)" % cause)
                else:
                    logger.error("error in the HTTP layer", exc_info=cause or exc)
                    self._refuse("fault", None)
                return
            except httptools.HttpParserError as exc:
                self._refuse("malformed", "malformed request (%s)" % exc)
                return
            if self._waiting and self._header_bytes > max_header_bytes:
                self._refuse("too-large", "header section over %d bytes" % max_header_bytes)

        # -- the parser's and uvicorn's callbacks ----------------------------------

        def on_message_begin(self) -> None:
            self._message_complete = False
            if not self._waiting:  # pipelined: it began while the one before it is served
                self._wait_for_headers()
            self._begun = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._waiting = False
            self._cancel_deadline()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._message_complete = True
            super().on_message_complete()
            if self.cycle is not None and self.cycle.response_complete:
                self._wait_for_headers()  # answered before its body ended: the next request may come

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.transport.is_closing() or not (self.cycle is None or self.cycle.response_complete):
                return  # closing, or a pipelined request runs now
            if self._waiting:
                return  # the next request has begun: its header deadline runs
            if self._message_complete:
                self._wait_for_headers()
            else:  # answered early: the rest of the body (read and dropped) gets as long as headers
                self._cancel_deadline()
                self._deadline = self.loop.call_later(header_timeout, self.transport.close)

        # -- limits ----------------------------------------------------------------

        def _wait_for_headers(self) -> None:
            self._waiting = True
            self._begun = False
            self._header_bytes = 0
            self._cancel_deadline()
            self._deadline = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _cancel_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _headers_too_slow(self) -> None:
            self._deadline = None
            if not self._waiting or self.transport.is_closing():
                return
            if not self._begun:
                self.transport.close()  # idle: nothing to answer
            else:
                self._refuse("timeout", "header section not complete within %g s" % header_timeout)

        def _read_head_over_limit(self, data: bytes) -> None:
            """Count the head of a request over the connection limit, and answer once it is whole
            (or at the header limit); after the answer, what comes is read and dropped."""
            if self._answered:
                return
            self._header_bytes += len(data)
            self._head_tail = (self._head_tail + data)[-(len(data) + 3):]
            if b"\r\n\r\n" in self._head_tail or self._header_bytes > max_header_bytes:
                self._answer_over_limit()
            else:
                self._head_tail = self._head_tail[-3:]

        def _answer_over_limit(self) -> None:
            """429 with ``Retry-After``, then a lingering close; a quiet close if nothing came."""
            self._cancel_deadline()
            if self._answered or self.transport.is_closing():
                return
            if not self._header_bytes:
                self.transport.close()  # idle: nothing to answer
                return
            self._answered = True
            status, response = answer("too-many-connections")
            self.transport.write(response)
            self._close_after_client()
            self._log_refusal(status, "over its connection limit (max_connections_per_client %d)"
                              % connections.limit)

        def _close_after_client(self) -> None:
            """Send our end, then close when the client's end comes (``eof_received``), or after
            ``LINGER_SECONDS``: bytes arriving at a closed socket would reset the connection."""
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self._deadline = self.loop.call_later(LINGER_SECONDS, self.transport.close)

        def _refuse(self, name: str, reason: str | None) -> None:
            """Answer without the application, then close: the parser cannot go on from here."""
            self._waiting = False
            self._cancel_deadline()
            if self.transport.is_closing():
                return
            status, response = answer(name)
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(response)
            self.transport.close()
            self._log_refusal(status, reason)

        def _log_refusal(self, status: str, reason: str | None) -> None:
            client = "%s:%d" % self.client if self.client else "-"
            if reason is not None:
                logger.info("refused a request from %s: %s", client, reason)
            if access_log:
                log_access(client, "-", "-", status, 0.0)

    GuardedHttpProtocol.__qualname__ = "GuardedHttpProtocol"
    if not raw_header_names:
        return GuardedHttpProtocol

    class RawNamesHttpProtocol(GuardedHttpProtocol):
        """One connection, keeping each request's header names as they came (``RAW_HEADERS``)."""

        _raw_headers: list[tuple[bytes, bytes]]

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._raw_headers = []
            self.scope[RAW_HEADERS] = self._raw_headers  # type: ignore[literal-required]

        def on_header(self, name: bytes, value: bytes) -> None:
            self._raw_headers.append((name, value))
            super().on_header(name, value)

    RawNamesHttpProtocol.__qualname__ = "RawNamesHttpProtocol"
    return RawNamesHttpProtocol
