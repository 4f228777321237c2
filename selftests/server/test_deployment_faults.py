"""The faults real deployments have (issue 17), each shown against its control.

Each test runs the same requests twice: against the server with the fault on,
where the fault shows as described in faults.py, and against the faithful
server, where it does not. What they stand for: a header map that cares
about the case of a name, replay stores that forget too soon or that each
replica keeps for itself, a gateway that answers a replayed nonce from its
cache, a token verifier that skips a check, a user action not bound to its
signer.

Time never passes by sleeping: the servers of the "forgets after 1 s" tests
run on a clock that stands still until a test moves it, so "at once" is at
once however loaded the machine is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.server.connections import guarded_protocol
from dfns_contract.server.faults import FaultSet
from dfns_contract.server.rendering import Renderer
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.settings import Settings
from dfns_contract.server.stores import AnswerCache, OneTimeStore, PerConnection
from dfns_contract.server.tokens import TokenKind
from dfns_contract.wire.headers import LOWER_CASE, MIXED_CASE
from dfns_contract.wire.nonce import iso_now, make_nonce

from selftests.helpers.server_checks import (
    NONCE_INVALID,
    NONCE_REUSED,
    NOT_AUTHORIZED,
    UA_INVALID,
    UA_REUSED,
    expect,
)
from selftests.server import raw_http
from selftests.server.conftest import Principals
from selftests.server.forgery import signed_by_embedded_key

APPS = "/auth/apps"


class StoppedClock:
    """Time that moves only when a test moves it."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


Serve = Callable[..., RunningServer]


@pytest.fixture(scope="module")
def serve() -> Iterator[Serve]:
    """``serve(fault=None)``: a server of this module, with that fault on (None: the faithful one).

    Started once per fault and module; all stopped together at the end.
    """
    servers: dict[str | None, RunningServer] = {}

    def get(fault: str | None = None) -> RunningServer:
        if fault not in servers:
            servers[fault] = start_server(faults=[fault] if fault else [])
        return servers[fault]

    yield get
    for running in servers.values():
        running.request_stop()
    for running in servers.values():
        running.wait_stopped()


@pytest.fixture
def serve_stopped() -> Iterator[Callable[[str | None], tuple[RunningServer, StoppedClock]]]:
    """``serve_stopped(fault)``: a server of this test whose clock stands still until moved."""
    started: list[RunningServer] = []

    def get(fault: str | None) -> tuple[RunningServer, StoppedClock]:
        clock = StoppedClock()
        started.append(start_server(faults=[fault] if fault else [], clock=clock))
        return started[-1], clock

    yield get
    for running in started:
        running.request_stop()
    for running in started:
        running.wait_stopped()


def on(server: RunningServer, principal: str = "admin") -> DfnsClient:
    """A client of the admin (or of ``"limited"``) on a connection pool of its own."""
    return getattr(Principals, principal)(server)


def dated(clock: Callable[[], datetime], ago: timedelta = timedelta(0)) -> str:
    """A fresh nonce dated by the server's clock (``ago`` before its now)."""
    return make_nonce(date=iso_now(clock() - ago))


def other_app(server: RunningServer) -> str:
    return "%s/%s/activate" % (APPS, server.profile["otherAppId"])


def ok(exchange: Exchange) -> None:
    assert exchange.status == 200, exchange.describe()


# -- header-names-case-sensitive --------------------------------------------------------


def _one_header_lower_case(client: DfnsClient, server: RunningServer, name: str) -> Exchange:
    """The admin's valid request with one header sent under its lower-case name, the others as documented."""
    values = {
        "X-DFNS-NONCE": lambda: make_nonce(),
        "X-DFNS-APPID": lambda: server.profile["appId"],
        "Authorization": lambda: "Bearer " + server.profile["authToken"],
        "X-DFNS-USERACTION": lambda: client.user_action("PUT", other_app(server), "{}"),
    }
    return client.request("PUT", other_app(server), headers={name.lower(): values[name]()},
                          sign=name != "X-DFNS-USERACTION")


#: Each header under its lower-case name, and what the case-sensitive server answers: it never saw it.
AS_IF_ABSENT = {
    "X-DFNS-NONCE": NONCE_INVALID,
    "X-DFNS-APPID": NOT_AUTHORIZED,
    "Authorization": NOT_AUTHORIZED,
    "X-DFNS-USERACTION": UA_INVALID,
}


@pytest.mark.parametrize("name", list(AS_IF_ABSENT))
def test_a_header_name_in_lower_case_is_read_faithfully(serve, name):
    server = serve()
    ok(_one_header_lower_case(on(server), server, name))


@pytest.mark.parametrize("name", list(AS_IF_ABSENT))
def test_a_case_sensitive_server_reads_a_lower_case_name_as_absent(serve, name):
    server = serve("header-names-case-sensitive")
    expect(_one_header_lower_case(on(server), server, name), AS_IF_ABSENT[name])


@pytest.mark.parametrize("spelling", [LOWER_CASE, MIXED_CASE], ids=["lower", "mixed"])
def test_a_signed_request_is_served_in_any_spelling_and_only_as_documented_under_the_fault(
    serve, spelling
):
    faithful, sensitive = serve(), serve("header-names-case-sensitive")
    ok(on(faithful).spelled(spelling).request("PUT", other_app(faithful), sign=True))
    ok(on(sensitive).request("PUT", other_app(sensitive), sign=True))
    expect(on(sensitive).spelled(spelling).request("GET", APPS), NONCE_INVALID)


def test_the_faithful_connection_layer_does_not_record_header_names():
    """Recording the names as sent costs every header of every request: only the fault pays it."""
    renderer = Renderer(FaultSet())
    faithful = guarded_protocol(Settings(), renderer)
    recording = guarded_protocol(Settings(), renderer, raw_header_names=True)
    assert "on_header" not in vars(faithful) and "on_header" in vars(recording)


# -- nonce-store-forgets-by-date --------------------------------------------------------


def _aged_replay(server: RunningServer) -> tuple[Exchange, Exchange]:
    """A nonce dated half the acceptance window ago (still fresh), used and used again."""
    nonce = dated(server.state.clock, server.state.settings.nonce_max_age / 2)
    admin = on(server)
    return tuple(admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce}) for _ in range(2))


def test_an_aged_nonce_is_remembered_as_long_as_it_is_fresh(serve):
    first, replay = _aged_replay(serve())
    ok(first)
    expect(replay, NONCE_REUSED)


def test_a_store_that_forgets_by_date_lets_an_aged_nonce_through_twice(serve):
    server = serve("nonce-store-forgets-by-date")
    first, replay = _aged_replay(server)
    ok(first)
    ok(replay)
    # It forgets by the date, not at once: a nonce dated now is still refused a second time.
    nonce, admin = dated(server.state.clock), on(server)
    ok(admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce}))
    expect(admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce}), NONCE_REUSED)


# -- nonce-store-forgets-after-1s, useraction-store-forgets-after-1s ----------------------


def _replays_of_a_nonce(server: RunningServer, clock: StoppedClock) -> tuple[Exchange, Exchange]:
    """A nonce replayed at once, then 2 s after its first use (both fresh: the window is 300 s)."""
    nonce, admin = dated(clock), on(server)
    ok(admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce}))
    at_once = admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce})
    clock.advance(timedelta(seconds=2))
    return at_once, admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce})


def _replays_of_a_user_action(
    server: RunningServer, clock: StoppedClock
) -> tuple[Exchange, Exchange]:
    """A user action replayed at once, then 2 s after its first use (it is valid for 5 min)."""
    admin, path = on(server), other_app(server)
    token = admin.user_action("PUT", path, "{}")
    ok(admin.request("PUT", path, headers={"X-DFNS-USERACTION": token}))
    at_once = admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
    clock.advance(timedelta(seconds=2))
    return at_once, admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})


FORGETFUL = {
    "nonce-store-forgets-after-1s": (_replays_of_a_nonce, NONCE_REUSED),
    "useraction-store-forgets-after-1s": (_replays_of_a_user_action, UA_REUSED),
}


@pytest.mark.parametrize("fault", list(FORGETFUL))
def test_a_used_value_is_still_refused_after_a_pause(serve_stopped, fault):
    replays, reused = FORGETFUL[fault]
    at_once, later = replays(*serve_stopped(None))
    expect(at_once, reused)
    expect(later, reused)


@pytest.mark.parametrize("fault", list(FORGETFUL))
def test_a_store_that_forgets_after_1s_refuses_at_once_and_accepts_after_a_pause(
    serve_stopped, fault
):
    replays, reused = FORGETFUL[fault]
    at_once, later = replays(*serve_stopped(fault))
    expect(at_once, reused)
    ok(later)


# -- replay-store-per-replica -----------------------------------------------------------


def _nonce_replays(server: RunningServer) -> tuple[Exchange, Exchange]:
    """A nonce replayed on the connection that used it, and on a new one."""
    nonce, admin = make_nonce(), on(server)
    ok(admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce}))
    same = admin.request("GET", APPS, headers={"X-DFNS-NONCE": nonce})
    return same, admin.on_new_connection().request("GET", APPS, headers={"X-DFNS-NONCE": nonce})


def _user_action_replays(server: RunningServer) -> tuple[Exchange, Exchange]:
    """A user action replayed on the connection that used it, and on a new one."""
    admin, path = on(server), other_app(server)
    token = admin.user_action("PUT", path, "{}")
    ok(admin.request("PUT", path, headers={"X-DFNS-USERACTION": token}))
    same = admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
    other = admin.on_new_connection().request("PUT", path, headers={"X-DFNS-USERACTION": token})
    return same, other


REPLAYS = {"nonce": (_nonce_replays, NONCE_REUSED), "user action": (_user_action_replays, UA_REUSED)}


@pytest.mark.parametrize("what", list(REPLAYS))
def test_a_replay_is_refused_on_any_connection(serve, what):
    replays, reused = REPLAYS[what]
    same, other = replays(serve())
    expect(same, reused)
    expect(other, reused)


@pytest.mark.parametrize("what", list(REPLAYS))
def test_a_store_per_replica_refuses_a_replay_only_on_the_same_connection(serve, what):
    replays, reused = REPLAYS[what]
    same, other = replays(serve("replay-store-per-replica"))
    expect(same, reused)
    ok(other)


# -- replay-answered-from-cache ---------------------------------------------------------


def _raw_request(server: RunningServer, nonce: str, token: str) -> bytes:
    headers = {
        "X-DFNS-NONCE": nonce,
        "X-DFNS-APPID": server.profile["appId"],
        "Authorization": "Bearer " + token,
    }
    return raw_http.request("GET", APPS, headers)


def _answered_twice(server: RunningServer, token: str) -> tuple[raw_http.RawResponse, ...]:
    """One request and its replay (same nonce), each on a connection of its own, as bytes arrive."""
    data = _raw_request(server, make_nonce(), token)
    return tuple(raw_http.exchange(server.url, data) for _ in range(2))


def _without_date(response: raw_http.RawResponse) -> raw_http.RawResponse:
    """The answer as the app gave it: ``date`` is stamped by uvicorn on every answer, replayed or not."""
    headers = {name: value for name, value in response.headers.items() if name != "date"}
    return raw_http.RawResponse(response.status, headers, response.body)


@pytest.mark.parametrize("token", ["authToken", "limitedAuthToken", "not-a-token"])
def test_a_replayed_nonce_is_refused_whatever_the_first_answer_was(serve, token):
    server = serve()
    first, replay = _answered_twice(server, server.profile.get(token, token))
    assert first.status in (200, 401)
    assert (replay.status, replay.message) == NONCE_REUSED


@pytest.mark.parametrize("token", ["authToken", "limitedAuthToken", "not-a-token"])
def test_a_gateway_caching_by_nonce_gives_a_replay_the_first_answer(serve, token):
    """A success (two tokens, two bodies) and an error alike: status, headers and body, byte for byte."""
    server = serve("replay-answered-from-cache")
    first, replay = _answered_twice(server, server.profile.get(token, token))
    assert first.status == (401 if token == "not-a-token" else 200)
    assert _without_date(replay) == _without_date(first)


# -- token-expiry-unchecked, token-trusts-embedded-jwk, token-any-org -------------------


def _expired(server: RunningServer) -> str:
    return server.profile["expiredAuthToken"]


def _other_org(server: RunningServer) -> str:
    return server.profile["otherOrgAuthToken"]


def _embedded_jwk(server: RunningServer) -> str:
    return signed_by_embedded_key(server.profile["authToken"])


#: Tokens the faithful server refuses with 401, each accepted by the fault named.
REFUSED_TOKENS = {
    "token-expiry-unchecked": _expired,
    "token-trusts-embedded-jwk": _embedded_jwk,
    "token-any-org": _other_org,
}


def _apps_with(server: RunningServer, token: str, app_id: str | None = None) -> Exchange:
    client = on(server)
    if app_id is not None:
        client = client.with_identity(token, app_id=app_id)
    return client.request("GET", APPS, headers={"Authorization": "Bearer " + token})


@pytest.mark.parametrize("fault", list(REFUSED_TOKENS))
def test_the_faithful_server_refuses_the_token(serve, fault):
    server = serve()
    expect(_apps_with(server, REFUSED_TOKENS[fault](server)), NOT_AUTHORIZED)


@pytest.mark.parametrize("fault", list(REFUSED_TOKENS))
def test_the_faulty_verifier_accepts_the_token(serve, fault):
    server = serve(fault)
    listed = _apps_with(server, REFUSED_TOKENS[fault](server))
    ok(listed)
    assert listed.json["items"], "the token was served as a principal with apps"


def test_the_expired_token_is_the_admins_and_expired_only(serve):
    """Signed by the server for the admin, expired an hour ago: its ``exp`` is the one thing wrong."""
    server = serve()
    token = _expired(server)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == server.state.seeded.admin.principal_id
    assert claims["exp"] <= (server.state.clock() - timedelta(minutes=59)).timestamp()
    unexpired = server.state.tokens.read(token, TokenKind.AUTH, check_expiry=False)
    assert unexpired["sub"] == claims["sub"]


def test_the_other_org_token_is_valid_for_its_own_org_only(serve):
    server = serve()
    other = server.state.seeded.other_org
    assert other.org_id != server.profile["orgId"]
    mine = _apps_with(server, _other_org(server), app_id=other.app_id)
    ok(mine)
    assert [app["appId"] for app in mine.json["items"]] == [other.app_id]
    expect(_apps_with(server, _other_org(server)), NOT_AUTHORIZED)


def test_an_embedded_jwk_is_trusted_only_for_a_signature_it_verifies(serve):
    server = serve("token-trusts-embedded-jwk")
    forged = signed_by_embedded_key(server.profile["authToken"], embed_another_key=True)
    expect(_apps_with(server, forged), NOT_AUTHORIZED)
    ok(_apps_with(server, server.profile["authToken"]))  # no jwk: the server's own key, as ever


@pytest.mark.parametrize("jwk", [{"kty": "EC"}, {"kty": "nope"}, {"kty": "oct", "k": 5}, []])
def test_an_unusable_embedded_jwk_is_a_401_not_a_crash(serve, jwk):
    server = serve("token-trusts-embedded-jwk")
    claims = jwt.decode(server.profile["authToken"], options={"verify_signature": False})
    token = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"jwk": jwk})
    expect(_apps_with(server, token), NOT_AUTHORIZED)


# -- useraction-any-principal -----------------------------------------------------------


def _signed_by_limited(server: RunningServer, path: str) -> Exchange:
    """The limited principal signs ``path``; the admin sends its own request to the other app."""
    token = on(server, "limited").user_action("PUT", path, "{}")
    return on(server).request("PUT", other_app(server), headers={"X-DFNS-USERACTION": token})


def test_a_user_action_of_another_principal_is_refused(serve):
    server = serve()
    expect(_signed_by_limited(server, other_app(server)), UA_INVALID)


def test_a_user_action_of_any_principal_is_accepted_under_the_fault_if_it_signs_this_request(serve):
    server = serve("useraction-any-principal")
    ok(_signed_by_limited(server, other_app(server)))
    # Still bound to the request: signed for another path, it is refused.
    expect(_signed_by_limited(server, other_app(server).replace("activate", "deactivate")), UA_INVALID)


# -- the stores the faults use -----------------------------------------------------------


def test_a_store_forgets_a_key_once_it_expires_even_before_it_is_pruned():
    clock = StoppedClock()
    store = OneTimeStore(clock)
    assert store.claim("k", clock() + timedelta(seconds=1))
    assert not store.claim("k", clock() + timedelta(seconds=1))
    clock.advance(timedelta(seconds=1))
    assert "k" in store and not store.claim("k", clock() + timedelta(seconds=1)), "at its expiry: kept"
    clock.advance(timedelta(seconds=1, microseconds=1))
    assert "k" not in store and store.claim("k", None)


def test_replicas_and_cached_answers_are_pruned_once_expired():
    clock = StoppedClock()
    replicas, answers = PerConnection(clock), AnswerCache[str](clock)
    soon = clock() + timedelta(seconds=1)
    assert replicas.store(("127.0.0.1", 1)).claim("k", soon)
    assert replicas.store(("127.0.0.1", 2)).claim("k", soon)
    answers.remember("k", "first", soon)
    answers.remember("k", "second", soon)
    assert answers.recall("k") == "first" and len(replicas) == 2
    clock.advance(timedelta(seconds=2))
    replicas.prune()
    answers.prune()
    assert len(replicas) == 0 and not replicas._replicas and answers.recall("k") is None
