"""Every fault switch starts and changes at least one observable response.

Each switch names the probe that shows it; the probe's observation (status,
the headers a client can see, the body of an error) on a server with the
switch on must differ from the clean server's. Benign variations must keep
the documented status and message. The servers run in parallel, since most
of a server's life here is uvicorn's shutdown tick.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

import pytest

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.wire.headers import LOWER_CASE
from dfns_contract.wire.nonce import iso_now, make_nonce, reencode_nonce
from dfns_contract.server.clock import ManualClock
from dfns_contract.server.contracts import judged_by
from dfns_contract.server.faults import FAULTS, FIRST_CONTRACT, FaultKind, describe_faults
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.server_checks import RACERS, nonce_race, probe_switches, user_action_race
from selftests.server.forgery import forged_token, signed_by_embedded_key


#: The switches of the first edit's errors, probed here; those of the flows the extended edit
#: documents errors for are probed against a server of that edit (test_flow_faults.py).
FIRST_FAULTS = {name: fault for name, fault in FAULTS.items() if judged_by(name)[:1] == (FIRST_CONTRACT,)}


class Observation(NamedTuple):
    status: int
    content_type: str
    content_encoding: str
    transfer_encoding: str
    connection: str
    request_id: bool
    #: The body of an error response, random request ids masked; "" for a success.
    error_body: str


def observe(exchange: Exchange) -> Observation:
    headers = exchange.response.headers
    body = re.sub(r"rq-[0-9a-f]+", "rq-…", exchange.text) if exchange.status >= 400 else ""
    return Observation(
        exchange.status,
        headers.get("content-type", ""),
        headers.get("content-encoding", ""),
        headers.get("transfer-encoding", ""),
        headers.get("connection", ""),
        "x-request-id" in headers,
        body,
    )


class Clients(NamedTuple):
    server: RunningServer
    admin: DfnsClient
    limited: DfnsClient


def _forged(clients: Clients, algorithm: str) -> str:
    return forged_token(clients.server.state.seeded.admin.principal_id, algorithm)


def _replayed(
    c: Clients, nonce: str | None = None, on_new_connection: bool = False, pause: float = 0
) -> Exchange:
    """A nonce used, then used again: at once, or on a new connection, or after ``pause`` seconds."""
    nonce = nonce or make_nonce()
    c.admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})
    _pause(c, pause)
    replayer = c.admin.on_new_connection() if on_new_connection else c.admin
    return replayer.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})


def _replayed_reencoded(c: Clients) -> Exchange:
    """A nonce used, then the same nonce (uuid and date) encoded otherwise."""
    nonce = make_nonce()
    c.admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})
    return c.admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": reencode_nonce(nonce)})


def _pause(c: Clients, seconds: float) -> None:
    """Let ``seconds`` pass for the server: its clock moves, no test sleeps."""
    if seconds:
        clock = c.server.state.clock
        assert isinstance(clock, ManualClock)
        clock.advance(timedelta(seconds=seconds))


def _aged_nonce(c: Clients) -> str:
    """A nonce dated half the acceptance window ago: still fresh."""
    age = c.server.state.settings.nonce_max_age / 2
    return make_nonce(date=iso_now(c.server.state.clock() - age))


def _reused_user_action(c: Clients, pause: float = 0) -> Exchange:
    path = "/auth/apps/%s/activate" % c.server.profile["otherAppId"]
    token = c.admin.user_action("PUT", path, "{}")
    c.admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
    _pause(c, pause)
    return c.admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})


def _user_action_of_another_principal(c: Clients) -> Exchange:
    """The limited principal signs exactly the admin's request; the admin sends it."""
    path = "/auth/apps/%s/activate" % c.server.profile["otherAppId"]
    token = c.limited.user_action("PUT", path, "{}")
    return c.admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})


def _with_token(c: Clients, token: str) -> Exchange:
    return c.admin.request("GET", "/auth/apps", headers={"Authorization": "Bearer " + token})


def _unbound_user_action(c: Clients) -> Exchange:
    other = "/auth/apps/%s" % c.server.profile["otherAppId"]
    token = c.admin.user_action("PUT", other + "/deactivate", "{}")
    return c.admin.request("PUT", other + "/activate", headers={"X-DFNS-USERACTION": token})


def _registration_init(c: Clients, user: str, code: str) -> Exchange:
    p = c.server.profile
    return c.admin.request(
        "POST",
        "/auth/registration/init",
        {"username": p[user], "registrationCode": p.get(code, code), "orgId": p["orgId"]},
        auth=False,
    )


def _racers(c: Clients, principals: Any) -> list[DfnsClient]:
    return [principals.admin(c.server) for _ in range(RACERS)]


Probe = Callable[[Clients, Any], Any]

PROBES: dict[str, Probe] = {
    "ok": lambda c, _: observe(c.admin.request("GET", "/auth/apps")),
    "no-nonce": lambda c, _: observe(
        c.admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": None})
    ),
    "replayed-nonce": lambda c, _: observe(_replayed(c)),
    "replayed-aged-nonce": lambda c, _: observe(_replayed(c, _aged_nonce(c))),
    "replayed-reencoded-nonce": lambda c, _: observe(_replayed_reencoded(c)),
    "replayed-nonce-other-connection": lambda c, _: observe(_replayed(c, on_new_connection=True)),
    "replayed-nonce-after-2s": lambda c, _: observe(_replayed(c, pause=2)),
    "lower-case-names": lambda c, _: observe(c.admin.spelled(LOWER_CASE).request("GET", "/auth/apps")),
    "stale-nonce": lambda c, _: observe(
        c.admin.request(
            "GET",
            "/auth/apps",
            headers={"X-DFNS-NONCE": make_nonce(date="2001-01-01T00:00:00.000Z")},
        )
    ),
    "short-uuid": lambda c, _: observe(
        c.admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": make_nonce(uuid="short")})
    ),
    "racy-nonce": lambda c, p: min(nonce_race(_racers(c, p))[200], 2),
    "no-token": lambda c, _: observe(c.admin.request("GET", "/auth/apps", auth=False)),
    "alg-none": lambda c, _: observe(
        c.admin.request(
            "GET", "/auth/apps", headers={"Authorization": "Bearer " + _forged(c, "none")}
        )
    ),
    "foreign-signature": lambda c, _: observe(
        c.admin.request(
            "GET", "/auth/apps", headers={"Authorization": "Bearer " + _forged(c, "HS256")}
        )
    ),
    "expired-token": lambda c, _: observe(_with_token(c, c.server.profile["expiredAuthToken"])),
    "embedded-jwk": lambda c, _: observe(
        _with_token(c, signed_by_embedded_key(c.server.profile["authToken"]))
    ),
    "other-org-token": lambda c, _: observe(_with_token(c, c.server.profile["otherOrgAuthToken"])),
    "forbidden": lambda c, _: observe(
        c.limited.request(
            "PUT", "/auth/apps/%s/deactivate" % c.server.profile["otherAppId"], sign=True
        )
    ),
    "no-user-action": lambda c, _: observe(
        c.admin.request("PUT", "/auth/apps/%s/activate" % c.server.profile["otherAppId"])
    ),
    "unbound-user-action": lambda c, _: observe(_unbound_user_action(c)),
    "reused-user-action": lambda c, _: observe(_reused_user_action(c)),
    "reused-user-action-after-2s": lambda c, _: observe(_reused_user_action(c, pause=2)),
    "user-action-of-another-principal": lambda c, _: observe(_user_action_of_another_principal(c)),
    "racy-user-action": lambda c, p: min(user_action_race(_racers(c, p))[200], 2),
    "self-state": lambda c, _: observe(
        c.admin.request("PUT", "/auth/apps/%s/deactivate" % c.server.profile["appId"], sign=True)
    ),
    "unknown-app": lambda c, _: observe(
        c.admin.request("GET", "/auth/apps/ap-00000-00000-0000000000000000")
    ),
    "expired-code": lambda c, _: observe(
        _registration_init(c, "expiredUsername", "expiredRegistrationCode")
    ),
    "user-exists": lambda c, _: observe(
        _registration_init(c, "registeredUsername", "0000-0000-0000-0000")
    ),
    "odd-bytes": lambda c, _: observe(
        c.admin.request("GET", "/auth/apps", headers={"X-Odd": "caf\u00e9"})
    ),
}

#: The probe that shows each switch.
SHOWN_BY = {
    "nonce-check-off": "no-nonce",
    "nonce-invalid-status": "no-nonce",
    "nonce-invalid-message": "no-nonce",
    "nonce-replay-off": "replayed-nonce",
    "nonce-replay-status": "replayed-nonce",
    "nonce-replay-message": "replayed-nonce",
    "nonce-freshness-off": "stale-nonce",
    "nonce-short-uuid": "short-uuid",
    "nonce-replay-by-encoding": "replayed-reencoded-nonce",
    "nonce-replay-racy": "racy-nonce",
    "nonce-store-forgets-by-date": "replayed-aged-nonce",
    "nonce-store-forgets-after-1s": "replayed-nonce-after-2s",
    "header-names-case-sensitive": "lower-case-names",
    "replay-store-per-replica": "replayed-nonce-other-connection",
    "replay-answered-from-cache": "replayed-nonce",
    "auth-off": "no-token",
    "auth-status": "no-token",
    "auth-message": "no-token",
    "auth-alg-none": "alg-none",
    "auth-signature-unchecked": "foreign-signature",
    "token-expiry-unchecked": "expired-token",
    "token-trusts-embedded-jwk": "embedded-jwk",
    "token-any-org": "other-org-token",
    "forbidden-off": "forbidden",
    "forbidden-wrong-operation": "forbidden",
    "forbidden-wrong-principal": "forbidden",
    "forbidden-status": "forbidden",
    "useraction-check-off": "no-user-action",
    "useraction-status": "no-user-action",
    "useraction-message": "no-user-action",
    "useraction-unbound": "unbound-user-action",
    "useraction-any-principal": "user-action-of-another-principal",
    "useraction-reuse-off": "reused-user-action",
    "useraction-reuse-status": "reused-user-action",
    "useraction-reuse-message": "reused-user-action",
    "useraction-racy": "racy-user-action",
    "useraction-store-forgets-after-1s": "reused-user-action-after-2s",
    "selfstate-off": "self-state",
    "selfstate-status": "self-state",
    "selfstate-message": "self-state",
    "unknown-app-status": "unknown-app",
    "unknown-app-message": "unknown-app",
    "regcode-expiry-off": "expired-code",
    "regcode-status": "expired-code",
    "regcode-message": "expired-code",
    "user-exists-off": "user-exists",
    "user-exists-status": "user-exists",
    "user-exists-message": "user-exists",
    "envelope-flat": "no-nonce",
    "envelope-list": "no-nonce",
    "envelope-non-string": "no-nonce",
    "envelope-non-json": "no-nonce",
    "envelope-content-type": "no-nonce",
    "html-500-on-odd-bytes": "odd-bytes",
    "internal-error-shape": "odd-bytes",
    "odd-bytes-500": "odd-bytes",
    "reject-all": "ok",
    "one-error": "ok",
    "echo-secrets": "no-nonce",
    **{name: "no-nonce" for name, fault in FAULTS.items() if fault.kind is FaultKind.BENIGN},
}


def _probe(
    principals: Any, faults: list[str], probes: list[str]
) -> tuple[RunningServer, dict[str, Any]]:
    # A clock the probes may move forward (it follows real time otherwise).
    server = start_server(faults=faults, clock=ManualClock())
    clients = Clients(server, principals.admin(server), principals.limited(server))
    try:
        return server, {name: PROBES[name](clients, principals) for name in probes}
    finally:
        server.request_stop()


@pytest.fixture(scope="module")
def observations(principals) -> Iterator[dict[str, dict[str, Any]]]:
    """Probe results per fault name, and under "" for the clean server (every probe)."""
    yield probe_switches(functools.partial(_probe, principals), PROBES, SHOWN_BY, FIRST_FAULTS)


def test_every_switch_has_a_probe():
    assert set(SHOWN_BY) == set(FIRST_FAULTS)
    assert set(SHOWN_BY.values()) == set(PROBES)


def test_clean_server_answers_the_probes_as_documented(observations):
    clean = observations[""]
    assert clean["ok"].status == 200 and clean["odd-bytes"].status == 200
    assert (
        clean["no-nonce"].error_body
        == '{"error":{"message":"request nonce is missing or invalid"}}'
    )
    assert clean["racy-nonce"] == clean["racy-user-action"] == 1
    assert clean["replayed-reencoded-nonce"].error_body == clean["replayed-nonce"].error_body == (
        '{"error":{"message":"request nonce has already been used"}}'
    )


@pytest.mark.parametrize("name", list(FIRST_FAULTS))
def test_switch_changes_its_probe(observations, name):
    probe = SHOWN_BY[name]
    assert observations[name][probe] != observations[""][probe]


@pytest.mark.parametrize("name", [n for n, f in FAULTS.items() if f.kind is FaultKind.BENIGN])
def test_benign_variation_keeps_status_and_message(observations, name):
    seen, clean = observations[name]["no-nonce"], observations[""]["no-nonce"]
    assert seen.status == clean.status
    assert (
        json.loads(seen.error_body)["error"]["message"]
        == json.loads(clean.error_body)["error"]["message"]
    )


def test_descriptions_are_one_line():
    for name, kind, description in describe_faults():
        assert kind in ("fault", "benign") and description and "\n" not in description, name
