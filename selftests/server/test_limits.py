"""The server's limits: each refuses one over it, in the envelope, and accepts the limit itself.

Sizes are checked at the defaults (the numbers docs/reference-server.md documents) on the
module's server; timeouts and the connection limit on servers of their own
with small values, so that a test waits a fraction of a second, never a
default's ten. No test sleeps: each waits for what it expects with a deadline.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from dfns_contract.server.clock import ManualClock
from dfns_contract.server.connections import answer_slots
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.settings import Settings
from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.wire.nonce import make_nonce

from .raw_http import Closed, RawResponse, Reader, connect, exchange, head, request

DEFAULTS = Settings()
DEADLINE = 10.0
#: Another client on this machine: Linux routes all of 127.0.0.0/8 to the loopback interface.
OTHER_CLIENT = "127.0.0.2"


def api_headers(profile: dict, **extra: str) -> dict[str, str]:
    return {
        "X-DFNS-NONCE": make_nonce(),
        "X-DFNS-APPID": profile["appId"],
        "Authorization": "Bearer " + profile["authToken"],
        **extra,
    }


def login_init(profile: dict) -> bytes:
    """A body Login init answers 200 to (the seeded admin)."""
    return json.dumps({"username": profile["registeredUsername"], "orgId": profile["orgId"]}).encode()


def refused(answer: RawResponse, status: int, message: str) -> None:
    assert (answer.status, answer.message) == (status, message), (answer.status, answer.body)
    assert answer.is_envelope()


def wait_until(condition, what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "not within %.0f s: %s" % (deadline, what)
        time.sleep(0.01)  # a poll interval, not a wait for the outcome


# -- header section -----------------------------------------------------------------------


def with_header_section_of(size: int, profile: dict) -> bytes:
    """A valid ``GET /auth/apps`` whose request line and header fields are exactly ``size`` bytes."""
    headers = api_headers(profile, **{"X-Filler": ""})
    short = len(head("GET", "/auth/apps", headers))
    headers["X-Filler"] = "f" * (size - short)
    data = head("GET", "/auth/apps", headers)
    assert len(data) == size
    return data


def test_a_header_section_of_the_limit_is_served_one_more_byte_is_431(server, profile):
    limit = DEFAULTS.max_header_bytes
    assert exchange(server.url, with_header_section_of(limit, profile)).status == 200
    answer = exchange(server.url, with_header_section_of(limit + 1, profile))
    refused(answer, 431, "request headers are larger than %d bytes" % limit)
    assert answer.headers["connection"] == "close"


def test_a_header_section_still_arriving_past_the_limit_is_431(server, profile):
    data = with_header_section_of(DEFAULTS.max_header_bytes, profile)
    with connect(server.url) as sock:  # the limit itself, in two writes: served
        sock.sendall(data[:1000])
        sock.sendall(data[1000:])
        assert Reader(sock).response().status == 200
    with connect(server.url) as sock:  # one byte more with no end in sight: refused at once
        sock.sendall(data[:-4] + b"f" * 5)
        refused(Reader(sock).response(), 431, "request headers are larger than %d bytes" % DEFAULTS.max_header_bytes)
        assert Reader(sock).closed()


# -- body ---------------------------------------------------------------------------------


def body_of(size: int, profile: dict) -> bytes:
    """Login init's body, padded with JSON whitespace to exactly ``size`` bytes."""
    body = login_init(profile)
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_a_body_of_the_limit_is_served_one_more_byte_is_413_before_it_is_sent(server, profile):
    limit = DEFAULTS.max_body_bytes
    ok = exchange(server.url, request("POST", "/auth/login/init", api_headers(profile), body_of(limit, profile)))
    assert ok.status == 200
    with connect(server.url) as sock:
        # Only the headers: the refusal comes from Content-Length, before a byte of the body.
        sock.sendall(head("POST", "/auth/login/init", api_headers(profile), body_of(limit + 1, profile)))
        answer = Reader(sock).response()
    refused(answer, 413, "request body is larger than %d bytes" % limit)
    assert answer.headers["connection"] == "close"


@pytest.fixture(scope="module")
def small() -> Iterator[RunningServer]:
    """A server with small limits: timeouts of half a second, bodies of 2 KiB, JSON 8 deep."""
    settings = Settings(
        max_body_bytes=2048, max_json_depth=8, header_timeout=0.5, body_timeout=0.5,
        keep_alive_timeout=0.5,
    )
    with start_server(settings=settings) as running:
        yield running


def chunked(body: bytes, pieces: int = 4) -> bytes:
    size = -(-len(body) // pieces)
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def test_a_chunked_body_is_counted_as_it_arrives(small):
    profile = small.profile
    headers = api_headers(profile, **{"Transfer-Encoding": "chunked"})
    ok = exchange(small.url, head("POST", "/auth/login/init", headers) + chunked(body_of(2048, profile)))
    assert ok.status == 200
    headers["X-DFNS-NONCE"] = make_nonce()
    answer = exchange(small.url, head("POST", "/auth/login/init", headers) + chunked(body_of(2049, profile)))
    refused(answer, 413, "request body is larger than 2048 bytes")
    assert answer.headers["connection"] == "close"


def test_json_nested_to_the_limit_is_read_one_deeper_is_400(small, server):
    def send(target: RunningServer, depth: int) -> RawResponse:
        arrays = depth - 1  # the body object is depth 1, its "extra" array depth 2
        profile = target.profile
        body = login_init(profile)[:-1] + b', "extra": ' + b"[" * arrays + b"]" * arrays + b"}"
        return exchange(target.url, request("POST", "/auth/login/init", api_headers(profile), body))

    assert send(small, 8).status == 200
    refused(send(small, 9), 400, "request body is nested more than 8 deep")
    assert send(server, DEFAULTS.max_json_depth).status == 200
    refused(send(server, DEFAULTS.max_json_depth + 1), 400, "request body is nested more than 64 deep")
    # Deeper than Python's parser can go: still a 400, not a RecursionError.
    refused(send(server, 5000), 400, "request body is nested too deeply")


# -- nonce fields -------------------------------------------------------------------------


@pytest.mark.parametrize("extra, status", [(0, 200), (1, 400)], ids=["the-limit", "one-over"])
def test_nonce_length(server, profile, extra, status):
    limit = DEFAULTS.nonce_max_length
    # 768 bytes of JSON are exactly 1,024 base64url characters; one more byte of JSON makes 1,026.
    assert limit % 4 == 0
    fields = {"uuid": "u" * 36, "date": json.loads(_decoded(make_nonce()))["date"]}
    overhead = len(json.dumps({**fields, "pad": ""}, separators=(",", ":")))
    fields["pad"] = "p" * (limit * 3 // 4 - overhead + extra)
    nonce = b64url_encode(json.dumps(fields, separators=(",", ":")).encode())
    assert len(nonce) == limit + 2 * extra
    answer = exchange(server.url, request("GET", "/auth/apps", api_headers(profile, **{"X-DFNS-NONCE": nonce})))
    assert answer.status == status
    if status == 400:
        refused(answer, 400, "request nonce is missing or invalid")


def _decoded(nonce: str) -> bytes:
    return base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))


@pytest.mark.parametrize("extra, status", [(0, 200), (1, 400)], ids=["the-limit", "one-over"])
def test_nonce_uuid_length(server, profile, extra, status):
    nonce = make_nonce(uuid="u" * (DEFAULTS.nonce_uuid_max_length + extra))
    answer = exchange(server.url, request("GET", "/auth/apps", api_headers(profile, **{"X-DFNS-NONCE": nonce})))
    assert answer.status == status
    if status == 400:
        refused(answer, 400, "request nonce is missing or invalid")


# -- time ---------------------------------------------------------------------------------


def test_headers_not_complete_in_time_are_408_and_closed(small):
    with connect(small.url) as sock:
        sock.sendall(b"GET /auth/apps HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        reader = Reader(sock)
        refused(reader.response(), 408, "the request did not arrive in time")
        assert reader.closed()


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(small):
    with connect(small.url) as sock:
        reader = Reader(sock)
        assert reader.closed() and reader.buffer == b""


def test_requests_sent_in_time_are_served_on_one_connection(small):
    profile = small.profile
    with connect(small.url) as sock:
        reader = Reader(sock)
        for _ in range(3):
            sock.sendall(request("GET", "/auth/apps", api_headers(profile)))
            assert reader.response().status == 200


def test_pipelined_requests_and_a_body_after_an_early_answer_keep_the_connection(small):
    profile = small.profile
    with connect(small.url) as sock:
        reader = Reader(sock)
        sock.sendall(request("GET", "/auth/apps", api_headers(profile))
                     + request("GET", "/auth/apps", api_headers(profile)))
        assert [reader.response().status, reader.response().status] == [200, 200]
        # Refused on its nonce before its body is read; the body then arrives, and is dropped.
        body = login_init(profile)
        sock.sendall(head("POST", "/auth/login/init", api_headers(profile, **{"X-DFNS-NONCE": ""}), body))
        refused(reader.response(), 400, "request nonce is missing or invalid")
        sock.sendall(body)
        sock.sendall(request("GET", "/auth/apps", api_headers(profile)))
        assert reader.response().status == 200


def test_a_body_not_complete_in_time_is_408_and_closed(small):
    profile = small.profile
    body = login_init(profile)
    with connect(small.url) as sock:
        sock.sendall(head("POST", "/auth/login/init", api_headers(profile), body) + body[:5])
        reader = Reader(sock)
        answer = reader.response()
        refused(answer, 408, "the request did not arrive in time")
        assert answer.headers["connection"] == "close" and reader.closed()
    with connect(small.url) as sock:  # the control: the rest of the body in time
        sock.sendall(head("POST", "/auth/login/init", api_headers(profile), body) + body[:5])
        sock.sendall(body[5:])
        assert Reader(sock).response().status == 200


# -- connections per client ----------------------------------------------------------------


def other_client_available() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind((OTHER_CLIENT, 0))
    except OSError:
        return False
    return True


def until_the_server_ends(sock: socket.socket) -> bytes:
    """Bytes up to the server's end of the connection; a reset fails the test (``Reader``
    would take it for an end)."""
    data = b""
    deadline = time.monotonic() + DEADLINE
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            pytest.fail("the connection was reset after %d bytes: %r" % (len(data), data[:200]))
        if not chunk:
            return data
        data += chunk


def only_answer(data: bytes) -> RawResponse:
    """The one response ``data`` holds, checked to be all of it."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(data)
        ours.shutdown(socket.SHUT_WR)
        reader = Reader(theirs)
        answer = reader.response()
        assert reader.buffer == b""
        return answer


def over_the_limit(answer: RawResponse, limit: int, contract: str) -> None:
    """The documented answer over the connection limit: 429, Retry-After, the version's body."""
    message = "too many open connections from this client (max_connections_per_client is %d)" % limit
    refused(answer, 429, message)
    assert answer.headers["retry-after"] == "1" and answer.headers["connection"] == "close"
    inner = answer.json["error"]
    if contract == "2026":
        assert set(inner) == {"id", "status", "message", "details"} and inner["status"] == 429
    else:
        assert set(inner) == {"message"}


@pytest.mark.parametrize("contract", ["2024-08-19", "2026"])
def test_a_client_over_its_connection_limit_is_answered_429_never_reset(caplog, contract):
    if not other_client_available():
        pytest.skip("this system does not route %s to loopback" % OTHER_CLIENT)
    limit = 4
    with start_server(settings=Settings(max_connections_per_client=limit), contract=contract) as limited:
        profile = limited.profile
        with caplog.at_level(logging.WARNING, logger="dfns_contract.server"):
            held = [connect(limited.url) for _ in range(limit)]
            try:
                for sock in held:  # the limit itself: every one served
                    sock.sendall(request("GET", "/auth/apps", api_headers(profile)))
                    assert Reader(sock).response().status == 200
                for _ in range(2):  # one over: answered, then closed by the server, not reset
                    with connect(limited.url) as extra:
                        extra.sendall(request("GET", "/auth/apps", api_headers(profile)))
                        over_the_limit(only_answer(until_the_server_ends(extra)), limit, contract)
                with connect(limited.url) as extra:  # a body after the answer: read, dropped, no reset
                    body = login_init(profile)
                    extra.sendall(head("POST", "/auth/login/init", api_headers(profile), body))
                    reader = Reader(extra)
                    over_the_limit(reader.response(), limit, contract)
                    extra.sendall(body)
                    extra.shutdown(socket.SHUT_WR)
                    assert until_the_server_ends(extra) == b""
                other = exchange(limited.url, request("GET", "/auth/apps", api_headers(profile)),
                                 source=OTHER_CLIENT)
                assert other.status == 200
            finally:
                held.pop().close()
            # One connection fewer: the client is served again.
            def served() -> bool:
                return exchange(limited.url, request("GET", "/auth/apps", api_headers(profile))).status == 200

            wait_until(served, "a connection freed is usable again")
            for sock in held:
                sock.close()
        warnings = [r for r in caplog.records if "max_connections_per_client" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].exc_info is None


def test_past_the_answer_slots_a_connection_is_closed_as_it_opens():
    """Each answer holds a descriptor until the head comes: past the limit and its answer slots,
    a connection is closed at once, so a slowloris cannot take the file limit."""
    limit = 2
    most = limit + answer_slots(limit)
    with start_server(settings=Settings(max_connections_per_client=limit)) as limited:
        held = [connect(limited.url) for _ in range(most)]  # the limit and the ones awaiting a 429
        try:
            wait_until(lambda: _open(limited) == most, "the server counts them")
            with connect(limited.url) as extra:
                extra.sendall(request("GET", "/auth/apps", {}))
                with pytest.raises(Closed):
                    Reader(extra).response()
        finally:
            for sock in held:
                sock.close()


def _open(running: RunningServer) -> int:
    """The server's own count of connections open from 127.0.0.1."""
    return running.client_connections.open.get("127.0.0.1", 0)


#: The most connections one ``pytest -n 2`` suite had open at once against a standalone dfns-mock
#: (``ClientConnections.peak``; 26 under 2024-08-19, 10 under 2026): see settings.py.
SUITE_N2_CONNECTIONS = 26


def test_four_suites_with_n2_fit_the_default_connection_limit():
    """Four suites with ``-n 2`` sharing one server from one address: all their connections at once,
    each kept alive and sent a request, are served (none is answered 429)."""
    wanted = 4 * SUITE_N2_CONNECTIONS
    assert wanted < DEFAULTS.max_connections_per_client
    with start_server() as shared:
        profile = shared.profile
        held = [connect(shared.url) for _ in range(wanted)]
        try:
            for sock in held:
                sock.sendall(request("GET", "/auth/apps", api_headers(profile)))
            statuses = [Reader(sock).response().status for sock in held]
            assert shared.client_connections.peak["127.0.0.1"] == wanted  # all open at once
        finally:
            for sock in held:
                sock.close()
    assert statuses == [200] * wanted


# -- logs ---------------------------------------------------------------------------------


def test_a_client_leaving_mid_body_is_one_line_without_a_traceback(small, caplog):
    profile = small.profile
    with caplog.at_level(logging.INFO, logger="dfns_contract.server"):
        with connect(small.url) as sock:
            body = login_init(profile)
            headers = api_headers(profile, Expect="100-continue")
            sock.sendall(head("POST", "/auth/login/init", headers, body))
            assert Reader(sock).response().status == 100  # the server now reads the body
            sock.sendall(body[:5])  # and the client leaves halfway
        wait_until(lambda: any("left before" in r.getMessage() for r in caplog.records),
                   "the server noticed the client left")
    lines = [r for r in caplog.records if r.name.startswith("dfns_contract.server")]
    assert [r for r in lines if "left before" in r.getMessage()][0].levelno == logging.INFO
    assert not any(r.exc_info or r.exc_text for r in lines)


def test_the_access_log_is_one_line_per_request_without_secrets(caplog):
    with start_server(settings=Settings(access_log=True)) as logged:
        profile = logged.profile
        headers = api_headers(profile)
        with caplog.at_level(logging.INFO, logger="dfns_contract.server.access"):
            exchange(logged.url, request("GET", "/auth/apps?code=s3cr3t-query", headers))
            exchange(logged.url, request("GET", "/auth/apps", {}))
            wait_until(lambda: len(_access(caplog)) >= 2, "two access lines")
    first, second = _access(caplog)
    assert first.startswith("127.0.0.1:") and first.endswith("ms")
    assert '"GET /auth/apps" 200 ' in first and '"GET /auth/apps" 400 ' in second
    for secret in ("s3cr3t-query", profile["authToken"], headers["X-DFNS-NONCE"], profile["appId"]):
        assert secret not in first + second


def test_the_access_log_is_off_by_default(server, profile, caplog):
    with caplog.at_level(logging.INFO, logger="dfns_contract.server.access"):
        assert exchange(server.url, request("GET", "/auth/apps", api_headers(profile))).status == 200
    assert _access(caplog) == []


def _access(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "dfns_contract.server.access"]


def test_what_cannot_be_parsed_is_400_in_the_envelope(server):
    for data in (b"GET /auth/\xe9 HTTP/1.1\r\nHost: x\r\n\r\n", b"NOT HTTP AT ALL\r\n\r\n",
                 b"GET /auth/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"):
        refused(exchange(server.url, data), 400, "malformed HTTP request")


def test_an_upgrade_request_is_plain_http(server, profile, caplog):
    headers = api_headers(profile, Upgrade="websocket", Connection="Upgrade",
                          **{"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    with caplog.at_level(logging.WARNING):
        assert exchange(server.url, request("GET", "/auth/apps", headers)).status == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# -- state that expires -------------------------------------------------------------------


def test_expired_one_time_values_are_pruned_on_time_without_requests(principals):
    clock = ManualClock()
    with start_server(clock=clock, settings=Settings(prune_interval=0.02)) as pruned:
        admin, state = principals.admin(pruned), pruned.state
        path = "/auth/apps/%s" % pruned.profile["otherAppId"]
        assert admin.request("PUT", path, {"externalId": "pruned"}, sign=True).status == 200
        stores = {"nonces": state.nonces, "user actions": state.user_actions,
                  "challenges": state.challenges}
        assert all(len(store) for store in stores.values())
        sweeps = state.sweeper.sweeps  # the control: sweeps keep what has not expired
        wait_until(lambda: state.sweeper.sweeps >= sweeps + 3, "three sweeps")
        assert all(len(store) for store in stores.values())
        clock.advance(timedelta(minutes=6))  # past every nonce, challenge and user action
        wait_until(lambda: not any(len(store) for store in stores.values()),
                   "every store empty, with no request to trigger it")
