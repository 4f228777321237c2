"""What ``DfnsClient.send`` asks of ``requests``, at a fraction of the cost per request.

``Session.prepare_request`` and ``Session.merge_environment_settings`` read
the environment (proxy variables, ``~/.netrc``, ``REQUESTS_CA_BUNDLE``) and
merge the session's headers, auth and hooks on every call: about 0.35 ms of
client CPU per request, more than the rest of the suite's client. What they
produce depends only on the session's settings and the URL, not on the
request, so it is computed once per session, method and URL and reused:

* ``prepare`` copies a request prepared by ``Session.prepare_request`` itself
  (so session headers, netrc auth and hooks are exactly what requests would
  add) and gives it this request's body; it falls back to
  ``Session.prepare_request`` whenever the session holds cookies, or a body
  is empty (requests treats ``b""`` as no body);
* ``send_settings`` is ``Session.merge_environment_settings`` once per
  session and base URL (proxies depend on the host only);
* ``DfnsAdapter``, mounted for the base URL, chooses the connection pool
  once per origin and settings rather than on every request.

A change of the session's headers, auth, params, hooks, proxies, verify,
cert, stream or ``trust_env`` is noticed (it is part of the cache key); a
change of the *environment* (proxy variables, ``~/.netrc``, CA bundle
variables) after a session's first request to a URL is not.

``DfnsAdapter(connect_retries)`` is ``--dfns-retry-transport``: retry a request only when the
connection could not be made (refused, connect timeout, name resolution),
that is before any byte of it can have reached the server. A request that was
sent is never sent again, whatever happens next (reset, timeout, a partial or
complete response), since a second delivery of the same nonce or user action
would look like a replay.

``HeadAwareResponse``, the response class of the adapter's connections, tells a
response cut inside its status line or headers (``HeadersCut``, with the bytes
that came) from a complete one: ``http.client`` takes the end of the stream
for the end of the headers, so such an answer would otherwise reach the checks
as an empty, broken error envelope.
"""

from __future__ import annotations

import http.client
import queue
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from requests.cookies import RequestsCookieJar
from urllib3 import HTTPConnectionPool
from urllib3.util.retry import Retry

#: Bounded, so a run that builds URLs from drawn data cannot grow it without limit.
MAX_TEMPLATES = 512
#: Backoff between connect retries: the first at once, then 0.1 s doubling, at most 1 s.
RETRY_BACKOFF_FACTOR = 0.05
RETRY_BACKOFF_MAX = 1.0
_PLACEHOLDER_BODY = b"-"


@dataclass
class _SessionCache:
    templates: dict[tuple[str, str, bool], tuple[tuple[Any, ...], requests.PreparedRequest]] = field(
        default_factory=dict
    )
    settings: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)


_CACHES: weakref.WeakKeyDictionary[requests.Session, _SessionCache] = weakref.WeakKeyDictionary()


def _cache(session: requests.Session) -> _SessionCache:
    cache = _CACHES.get(session)
    if cache is None:
        cache = _CACHES.setdefault(session, _SessionCache())
    return cache


def _request_key(session: requests.Session) -> tuple[Any, ...]:
    """What ``Session.prepare_request`` takes from the session, besides cookies."""
    return (
        session.trust_env,
        tuple(session.headers.items()),
        session.auth,
        tuple(session.params.items()) if isinstance(session.params, dict) else session.params,
        tuple((event, tuple(hooks)) for event, hooks in session.hooks.items()),
    )


def prepare(session: requests.Session, method: str, url: str, body: bytes | None) -> requests.PreparedRequest:
    """``session.prepare_request(requests.Request(method, url, data=body))``, from a cached template."""
    if (body is not None and not body) or len(session.cookies):
        return session.prepare_request(requests.Request(method, url, data=body))
    templates = _cache(session).templates
    slot = (method, url, body is not None)
    key = _request_key(session)
    cached = templates.get(slot)
    if cached is None or cached[0] != key:
        if len(templates) >= MAX_TEMPLATES:
            templates.clear()
        # A placeholder body puts Content-Length where requests puts it; prepare_body sets the real one.
        data = None if body is None else _PLACEHOLDER_BODY
        cached = (key, session.prepare_request(requests.Request(method, url, data=data)))
        templates[slot] = cached
    template = cached[1]
    prepared = requests.PreparedRequest()
    prepared.method = template.method
    prepared.url = template.url
    prepared.headers = template.headers.copy()
    prepared._cookies = RequestsCookieJar()  # the session's jar is empty: a copy of it is a new jar
    prepared.hooks = template.hooks
    if body is not None:
        prepared.prepare_body(body, None)
    return prepared


def send_settings(session: requests.Session, base_url: str) -> dict[str, Any]:
    """``session.merge_environment_settings(url, {}, None, None, None)`` for any URL under ``base_url``."""
    settings = _cache(session).settings
    key = (
        session.trust_env,
        tuple(session.proxies.items()),
        session.stream,
        session.verify,
        session.cert,
    )
    cached = settings.get(base_url)
    if cached is None or cached[0] != key:
        cached = (key, session.merge_environment_settings(base_url + "/", {}, None, None, None))
        settings[base_url] = cached
    merged = dict(cached[1])
    merged["proxies"] = dict(merged["proxies"])  # requests may add to it; the cached one stays as it was
    return merged


def connect_retry(retries: int) -> Retry:
    """Retry connection failures only: never a request that was sent, never on a response."""
    return Retry(
        total=None,
        connect=retries,
        read=False,  # a read error re-raises at once, exactly as without retries
        status=0,
        other=0,
        redirect=0,
        raise_on_redirect=False,
        raise_on_status=False,
        respect_retry_after_header=False,
        backoff_factor=RETRY_BACKOFF_FACTOR,
        backoff_max=RETRY_BACKOFF_MAX,
    )


class HeadersCut(http.client.HTTPException):
    """The connection ended inside a response's status line or headers: ``received`` bytes of it came."""

    def __init__(self, received: int) -> None:
        self.received = received
        super().__init__("the connection was cut after %d bytes of the answer, inside its status line or headers"
                         % received)


class _HeadReader:
    """The socket's reader while a response's head is parsed: counts its bytes, notes a line the stream ended."""

    def __init__(self, fp: Any) -> None:
        self.fp = fp
        self.received = 0
        self.ended = False

    def readline(self, limit: int = -1) -> bytes:
        line = self.fp.readline(limit)
        self.received += len(line)
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            self.ended = True  # no line end and no limit reached: the stream ended here
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fp, name)


class HeadAwareResponse(http.client.HTTPResponse):
    """``http.client.HTTPResponse`` raising ``HeadersCut`` when the stream ends before the headers' blank line."""

    def begin(self) -> None:
        if self.headers is not None or self.fp is None:
            return super().begin()
        original = self.fp
        head = _HeadReader(original)
        self.fp = head  # type: ignore[assignment]
        try:
            super().begin()
        except http.client.RemoteDisconnected:  # nothing came: not a cut answer, no answer
            raise
        except http.client.BadStatusLine:  # "HTTP/1.1 2", cut short, is no status line either
            if not head.ended:
                raise
            raise HeadersCut(head.received) from None
        finally:
            if self.fp is head:
                self.fp = original
        if head.ended:
            self._close_conn()  # type: ignore[attr-defined]
            raise HeadersCut(head.received)


_HEAD_AWARE: dict[type, type] = {}


def head_aware(connection_class: type) -> type:
    """``connection_class`` whose responses are ``HeadAwareResponse`` (one subclass per class, made once)."""
    if getattr(connection_class, "response_class", None) is HeadAwareResponse:
        return connection_class
    made = _HEAD_AWARE.get(connection_class)
    if made is None:
        made = _HEAD_AWARE.setdefault(connection_class, type(
            connection_class.__name__, (connection_class,), {"response_class": HeadAwareResponse}))
    return made


class DfnsAdapter(HTTPAdapter):
    """``HTTPAdapter`` that picks a request's connection pool once per origin and settings.

    ``HTTPAdapter.send`` chooses the pool (proxy selection, pool key, TLS
    context: several URL parses) and the request line's URL on every request
    (a tenth of the client's Python calls per request), although both depend only
    on the origin, ``verify``, ``cert`` and the proxies. The pool is reused
    until the adapter is closed (a client talks to one origin, far below the
    ten pools urllib3 keeps per manager); the request line takes the
    fast path requests itself takes when no proxy is set. ``connect_retries``
    is ``--dfns-retry-transport``. Its pools make connections whose responses
    notice a head cut short (``HeadAwareResponse``).
    """

    def __init__(self, connect_retries: int = 0) -> None:
        super().__init__(max_retries=connect_retry(connect_retries) if connect_retries > 0 else 0)
        self.connect_retries = connect_retries
        self._pools: dict[tuple[Any, ...], Any] = {}

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: dict[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        parts = urlsplit(request.url)
        key = (parts.scheme.lower(), parts.netloc.lower(), verify, cert, tuple(sorted((proxies or {}).items())))
        pool = self._pools.get(key)
        if pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
            pool.ConnectionCls = head_aware(pool.ConnectionCls)
            if len(self._pools) >= DEFAULT_POOLSIZE:  # never more than the pool manager keeps
                self._pools.clear()
            self._pools[key] = pool
        return pool

    def request_url(self, request: requests.PreparedRequest, proxies: dict[str, str] | None) -> str:
        if not proxies:  # what HTTPAdapter.request_url returns when select_proxy finds no proxy
            return request.path_url
        return super().request_url(request, proxies)

    def drop_idle(self) -> None:
        """Close every idle connection of the pools, so that the next request opens a new one.

        After a connection was reset or closed before any answer, its idle
        siblings were most likely closed by the same load balancer: the one
        retry goes out on a new connection, not on another stale one. A
        connection on its way with another request is not touched.
        """
        for pool in list(self._pools.values()):
            idle = getattr(pool, "pool", None)
            if idle is None:
                continue
            for _ in range(idle.qsize()):
                try:
                    connection = idle.get(block=False)
                except queue.Empty:
                    break
                if connection is not None:
                    connection.close()  # reconnects when next taken: a new TCP connection
                idle.put(connection, block=False)

    def close(self) -> None:
        self._pools.clear()
        super().close()


def mount_adapter(session: requests.Session, base_url: str, retries: int = 0) -> None:
    """Send requests of ``session`` to ``base_url`` through a ``DfnsAdapter`` retrying failed connections ``retries`` times."""
    prefix = base_url.rstrip("/") + "/"
    current = session.adapters.get(prefix)
    if isinstance(current, DfnsAdapter) and current.connect_retries == retries:
        return
    session.mount(prefix, DfnsAdapter(retries))
