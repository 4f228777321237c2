"""The client's transport: requests' own preparation, cached; connect retries only; timeouts.

Everything runs on 127.0.0.1 with tiny socket servers written here, so each
test knows exactly how many connections and requests reached the server.
Nothing sleeps: threads wait on events or sockets, each with a deadline.
"""

from __future__ import annotations

import re

import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import requests
import urllib3.util.connection

from dfns_contract.client import transport
from dfns_contract.client import DfnsClient, TransportError
from dfns_contract.client.exchange import describe_transport_failure

from selftests.helpers.proxy import HANG, RESET, Cut, FaultProxy
from selftests.helpers.suite_runner import run_suite

DEADLINE = 10.0
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def read_request(conn: socket.socket) -> bytes:
    """Read one request's head (our GETs have no body); b"" if the peer closed first."""
    conn.settimeout(DEADLINE)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


class LoopbackServer:
    """Accepts connections on 127.0.0.1 and hands each to ``handle``; counts what arrived."""

    def __init__(self, handle: Callable[[socket.socket, "LoopbackServer"], None], listen: bool = True) -> None:
        self.handle = handle
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.accepted = 0
        self.requests = 0
        self.listening = threading.Event()
        self.stopping = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        if listen:
            self.listen()

    def listen(self) -> None:
        self.sock.listen(16)
        self.listening.set()

    def _serve(self) -> None:
        if not self.listening.wait(DEADLINE):
            return
        self.sock.settimeout(0.05)  # to notice ``stopping``; accept returns at once when a client comes
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self.handle(conn, self)

    def stop(self) -> None:
        self.stopping.set()
        self.listening.set()
        self.thread.join(DEADLINE)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def loopback() -> Iterator[Callable[..., LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(handle: Callable[[socket.socket, LoopbackServer], None], listen: bool = True) -> LoopbackServer:
        servers.append(LoopbackServer(handle, listen))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def answer(conn: socket.socket, server: LoopbackServer) -> None:
    if read_request(conn):
        server.requests += 1
        conn.sendall(RESPONSE)
    conn.close()


def close_after_reading(conn: socket.socket, server: LoopbackServer) -> None:
    if read_request(conn):
        server.requests += 1
    conn.close()


def half_answer_then_close(conn: socket.socket, server: LoopbackServer) -> None:
    if read_request(conn):
        server.requests += 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
    conn.close()


def never_answer(conn: socket.socket, server: LoopbackServer) -> None:
    if read_request(conn):
        server.requests += 1
    server.held.append(conn)  # open and silent until the test ends


def answer_first_then_go_silent(conn: socket.socket, server: LoopbackServer) -> None:
    """Up for the start-up check, then a target that stops answering mid-run."""
    if server.requests == 0:
        answer(conn, server)
    else:
        never_answer(conn, server)


def raises_transport(cause: type[Exception], match: str | None = None) -> pytest.RaisesExc:
    """The client's one exception for 'no answer', keeping what requests raised underneath."""
    return pytest.raises(TransportError, check=lambda exc: isinstance(exc.cause, cause), match=match)


def client(url: str, retries: int = 0, timeout: float = DEADLINE) -> DfnsClient:
    return DfnsClient(url, "ap-selftest", auth_token="selftest-token-0123456789", timeout=timeout, retry_transport=retries)


# -- requests' preparation, cached ------------------------------------------------------


def _shape(prepared: requests.PreparedRequest) -> tuple:
    return (prepared.method, prepared.url, list(prepared.headers.items()), prepared.body, prepared.hooks)


@pytest.mark.parametrize(
    "method, body",
    [("GET", None), ("PUT", None), ("POST", b'{"a":1}'), ("GET", b"{}"), ("POST", b""), ("DELETE", b"[]")],
)
def test_prepared_request_is_what_requests_prepares(method, body):
    session = requests.Session()
    url = "http://127.0.0.1:9/auth/apps/ap-1 x?y=%7E"
    expected = session.prepare_request(requests.Request(method, url, data=body))
    for _ in range(2):  # the template, then a copy of it
        assert _shape(transport.prepare(session, method, url, body)) == _shape(expected)


def test_changed_session_settings_and_cookies_are_honoured():
    session = requests.Session()
    url = "http://127.0.0.1:9/auth/apps"
    transport.prepare(session, "GET", url, None)
    session.headers["X-Gateway"] = "staging"
    session.auth = ("user", "password-0123456789")
    session.cookies.set("route", "b", domain="127.0.0.1", path="/")
    expected = session.prepare_request(requests.Request("GET", url))
    got = transport.prepare(session, "GET", url, None)
    assert _shape(got) == _shape(expected)
    assert got.headers["X-Gateway"] == "staging" and got.headers["Cookie"] == "route=b"
    session.cookies.clear()
    assert "Cookie" not in transport.prepare(session, "GET", url, None).headers


def test_environment_settings_are_requests_own(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "internal.invalid")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    for base in ("https://api.example.invalid", "https://internal.invalid"):
        session = requests.Session()
        expected = session.merge_environment_settings(base + "/auth/apps", {}, None, None, None)
        assert transport.send_settings(session, base) == expected
        assert transport.send_settings(session, base) == expected  # from the cache
    session.verify = "/elsewhere.pem"
    session.proxies = {"https": "http://other.invalid:3128"}
    expected = session.merge_environment_settings(base + "/auth/apps", {}, None, None, None)
    assert transport.send_settings(session, base) == expected  # the session changed: computed again
    assert expected["proxies"] == {"https": "http://other.invalid:3128"}


def plain_choice(adapter: transport.DfnsAdapter, prepared: requests.PreparedRequest):
    return requests.adapters.HTTPAdapter.get_connection_with_tls_context(adapter, prepared, True, {})


def _pool_shape(pool) -> tuple:
    return (type(pool), pool.scheme, pool.host, pool.port, str(getattr(pool, "proxy", None)))


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/auth/apps?x=%7E", "https://api.example.invalid/auth/apps"])
def test_the_adapter_chooses_what_requests_chooses_and_keeps_the_pool_until_closed(url):
    adapter, plain = transport.DfnsAdapter(), requests.adapters.HTTPAdapter()
    prepared = transport.prepare(requests.Session(), "GET", url, None)
    proxied = {"http": "http://proxy.invalid:3128", "https": "http://proxy.invalid:3128"}
    for proxies in ({}, proxied, {"ftp": "http://proxy.invalid:3128"}):
        assert adapter.request_url(prepared, proxies) == plain.request_url(prepared, proxies)
        pool = adapter.get_connection_with_tls_context(prepared, True, proxies)
        assert _pool_shape(pool) == _pool_shape(plain.get_connection_with_tls_context(prepared, True, proxies))
        assert adapter.get_connection_with_tls_context(prepared, True, dict(proxies)) is pool
    direct = adapter.get_connection_with_tls_context(prepared, True, {})
    assert adapter.get_connection_with_tls_context(prepared, False, {}) is not direct  # verify is part of the choice
    adapter.close()  # its pool manager drops its pools
    again = adapter.get_connection_with_tls_context(prepared, True, {})
    assert again is not direct and again is plain_choice(adapter, prepared)


def test_headers_with_surrounding_whitespace_are_sent(loopback):
    seen = []

    def record(conn, server):
        seen.append(read_request(conn))
        conn.sendall(RESPONSE)
        conn.close()

    server = loopback(record)
    exchange = client(server.url).request("GET", "/auth/apps", headers={"X-DFNS-NONCE": "  padded\t"})
    assert exchange.status == 200
    assert b"X-DFNS-NONCE:   padded\t\r\n" in seen[0]


# -- connect retries -------------------------------------------------------------------


class ConnectAttempts(list):
    """Every connection urllib3 tried to open: ``connected`` or the error's name."""

    def __init__(self) -> None:
        super().__init__()
        self.on_refused: list[Callable[[int], None]] = []

    def outcomes(self) -> list[str]:
        return [outcome for _, outcome in self]


@pytest.fixture
def connect_attempts(monkeypatch) -> ConnectAttempts:
    attempts = ConnectAttempts()
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        try:
            sock = real(address, *args, **kwargs)
        except OSError as exc:
            attempts.append((address, type(exc).__name__))
            for hook in attempts.on_refused:
                hook(len(attempts))
            raise
        attempts.append((address, "connected"))
        return sock

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return attempts


def test_refused_connection_is_retried_until_the_server_listens(loopback, connect_attempts):
    server = loopback(answer, listen=False)  # bound, not listening: the kernel refuses connections

    def listen_after_second_refusal(count: int) -> None:
        if count == 2:
            server.listen()

    connect_attempts.on_refused.append(listen_after_second_refusal)
    exchange = client(server.url, retries=3).request("GET", "/auth/apps")
    assert exchange.status == 200
    assert connect_attempts.outcomes() == ["ConnectionRefusedError"] * 2 + ["connected"]
    assert server.requests == 1


def test_without_retries_a_refused_connection_fails_at_once(loopback, connect_attempts):
    server = loopback(answer, listen=False)
    with raises_transport(requests.ConnectionError):
        client(server.url).request("GET", "/auth/apps")
    assert connect_attempts.outcomes() == ["ConnectionRefusedError"]


def test_retries_are_bounded(loopback, connect_attempts):
    server = loopback(answer, listen=False)
    with raises_transport(requests.ConnectionError, match="refused"):
        client(server.url, retries=2).request("GET", "/auth/apps")
    assert connect_attempts.outcomes() == ["ConnectionRefusedError"] * 3


@pytest.mark.parametrize("headers", [{"X-DFNS-NONCE": "chosen-by-the-case"}, {"X-DFNS-USERACTION": "ua-chosen"}],
                         ids=["nonce", "user-action"])
@pytest.mark.parametrize("handle", [close_after_reading, half_answer_then_close], ids=["no-answer", "partial-answer"])
def test_a_request_whose_one_time_value_the_case_chose_is_never_sent_again(loopback, connect_attempts, handle,
                                                                            headers):
    """Sent again, a request that left would deliver the case's nonce (or user action) twice: a reuse the case
    did not mean. The transport's connect retries (``--dfns-retry-transport``) never resend it either."""
    server = loopback(handle)
    with raises_transport(requests.RequestException) as raised:
        client(server.url, retries=3).request("GET", "/auth/apps", headers=headers)
    assert server.requests == 1
    assert server.accepted == 1
    assert connect_attempts.outcomes() == ["connected"]
    if handle is close_after_reading:
        assert "not sent again: the case chose its one-time value (%s)" % next(iter(headers)) in str(raised.value)


def test_an_answer_cut_short_is_never_sent_again(loopback, connect_attempts):
    """Part of an answer came: the target is there but broken, which one more sending would not change."""
    server = loopback(half_answer_then_close)
    with raises_transport(requests.RequestException):
        client(server.url, retries=3).request("GET", "/auth/apps")
    assert server.requests == 1 and connect_attempts.outcomes() == ["connected"]


def test_a_request_without_answer_times_out_once(loopback, connect_attempts):
    server = loopback(never_answer)
    with raises_transport(requests.Timeout, match=r"timed out after 0\.\d s without an answer \(--dfns-timeout\)"):
        client(server.url, retries=3, timeout=0.5).request("GET", "/auth/apps")
    assert server.requests == 1
    assert connect_attempts.outcomes() == ["connected"]


def test_new_connections_of_a_client_keep_its_retries(loopback):
    server = loopback(answer)
    clone = client(server.url, retries=2).on_new_connection()
    adapter = clone.session.get_adapter(server.url + "/auth/apps")
    assert adapter.max_retries.connect == 2 and adapter.max_retries.read is False


# -- the options, end to end -------------------------------------------------------------


def test_timeout_against_a_silent_target_is_one_clear_error(loopback):
    server = loopback(never_answer)
    run = run_suite("--base-url", server.url, "--dfns-timeout", "0.5", "--dfns-retry-transport", "2", timeout=120)
    assert run.returncode == 4, run.output
    assert "cannot reach %s: no answer within 0.5 s (--dfns-timeout)" % server.url in run.output
    assert "Traceback" not in run.output
    assert server.requests == 1  # the start-up check was sent once, not retried


def test_a_target_that_goes_silent_mid_run_is_a_clear_failure(loopback, tmp_path):
    server = loopback(answer_first_then_go_silent)
    profile = tmp_path / "profile.json"
    profile.write_text('{"appId": "ap-selftest", "authToken": "selftest-token-0123456789"}')
    run = run_suite("tests/test_documented_errors.py", "-k", "nonce-reused-immediately", "--base-url", server.url,
                    "--dfns-profile", str(profile), "--dfns-timeout", "0.5", "-p", "no:randomly",
                    "--dfns-skip-preflight", timeout=120)
    assert run.returncode == 1, run.output
    assert "environment error, the contract was not checked: GET %s/" % server.url in run.output, run.output
    assert re.search(r"ERROR +400 +nonce-reused ", run.output) and "dfns verdict: INCOMPLETE" in run.output
    assert re.search(r"timed out after 0\.\d s without an answer \(--dfns-timeout\)", run.output), run.output
    assert "curl -sS -i -X GET" in run.output
    assert "Traceback" not in run.output and "urllib3" not in run.output, run.output
    assert "selftest-token-0123456789" not in run.output


def test_retry_option_refuses_a_negative_count():
    run = run_suite("--dfns-retry-transport", "-1", "--collect-only", timeout=120)
    assert run.returncode == 4, run.output
    assert "--dfns-retry-transport: must be 0 or more" in run.output


# -- what happened, in one line: refused, reset, closed, timed out, cut after N bytes ----------------


@pytest.fixture
def upstream(loopback) -> LoopbackServer:
    """What the fault proxy forwards to: answers every request with RESPONSE (``{}``, Content-Length 2)."""
    return loopback(answer)


FAULTS = {
    "reset": (RESET, "reset", r"the connection was reset by the target \(or something before it\) before an answer came"),
    "closed": (Cut(0), "closed", r"the target closed the connection without answering"),
    "cut-in-status-line": (Cut(10), "truncated",
                           r"the connection was cut after 10 bytes of the answer, inside its status line or headers"),
    "cut-in-headers": (Cut(30), "truncated",
                       r"the connection was cut after 30 bytes of the answer, inside its status line or headers"),
    "cut-in-body": (Cut(1, in_body=True), "truncated",
                    r"HTTP 200 arrived, then the connection was cut after 1 bytes of its body \(Content-Length: 2\)"),
    "hang": (HANG, "timeout", r"timed out after 0\.\d s without an answer \(--dfns-timeout\)"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_each_transport_failure_is_one_line_and_the_request_as_curl(upstream, fault):
    action, kind, what = FAULTS[fault]
    with FaultProxy(upstream.url, lambda request: action) as proxy:
        with pytest.raises(TransportError) as raised:
            client(proxy.url, timeout=0.5).request("GET", "/auth/apps")
    error = raised.value
    assert error.kind == kind and re.fullmatch(what, error.what), error.what
    first, label, curl, *notes = str(error).splitlines()
    assert first == "GET %s/auth/apps: %s" % (proxy.url, error.what)
    assert label == "  request:" and curl.startswith("    curl -sS -i -X GET ")
    assert error.__suppress_context__ and error.__cause__ is None  # no traceback through urllib3 behind it
    no_answer = kind in ("reset", "closed")  # sent again once, and failed again
    assert proxy.requests == (2 if no_answer else 1)
    assert notes == (["  sent again once, on a new connection with fresh one-time values: it failed too, so the "
                      "target is taken as unreachable"] if no_answer else [])


def test_the_same_request_through_the_proxy_is_answered(upstream):
    """The control: forwarded as it came, the answer is an exchange."""
    with FaultProxy(upstream.url) as proxy:
        exchange = client(proxy.url).request("GET", "/auth/apps")
    assert exchange.status == 200 and exchange.json == {} and proxy.forwarded == 1


def test_a_refused_connection_says_so(loopback):
    server = loopback(answer, listen=False)
    with pytest.raises(TransportError) as raised:
        client(server.url).request("GET", "/auth/apps")
    assert raised.value.kind == "refused" and raised.value.what.startswith("connection refused")


def test_a_connect_timeout_is_told_from_a_refused_connection():
    """urllib3's NewConnectionError is a ConnectTimeoutError too: a refusal must not read as a timeout."""
    pool = urllib3.HTTPConnectionPool("127.0.0.1", 9)
    timed_out = requests.ConnectTimeout(urllib3.exceptions.MaxRetryError(
        pool, "/", urllib3.exceptions.ConnectTimeoutError(pool, "timed out")))
    kind, what = describe_transport_failure(timed_out, waited=1.0)
    assert kind == "timeout" and what == "could not connect within 1.0 s (timed out; --dfns-timeout)"
    refusal = urllib3.exceptions.NewConnectionError(pool, "Failed to establish a new connection")
    refusal.__cause__ = ConnectionRefusedError(111, "Connection refused")
    kind, _ = describe_transport_failure(requests.ConnectionError(urllib3.exceptions.MaxRetryError(pool, "/", refusal)))
    assert kind == "refused"


def test_a_head_cut_short_is_never_a_response(upstream):
    """http.client takes the end of the stream for the end of the headers: the answer would be an empty 200."""
    with FaultProxy(upstream.url, lambda request: Cut(len(b"HTTP/1.1 200 OK\r\n"))) as proxy:
        with pytest.raises(TransportError, match="inside its status line or headers"):
            requests_session_get(proxy.url + "/auth/apps")


def requests_session_get(url: str) -> requests.Response:
    session = requests.Session()
    transport.mount_adapter(session, url.rsplit("/auth", 1)[0])
    try:
        return DfnsClient(url.rsplit("/auth", 1)[0], None, session=session).request("GET", "/auth/apps")
    finally:
        session.close()
