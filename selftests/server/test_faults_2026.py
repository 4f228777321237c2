"""Every switch a 2026 suite judges changes what a 2026 server answers; benign ones keep it valid.

As test_faults.py does for the first edit: each switch names the probe that
shows it, and the probe's observation on a ``2026`` server with the switch on
must differ from the clean server's. The probes are the cases a 2026 suite
can have (today's clients: no nonce, no app id): the 401s, the 403s, a 400,
the 404s, idempotency and the envelope. Random ids are masked, so that two
servers' answers compare.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import pytest

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.server.contracts import faults_judged_by
from dfns_contract.wire.headers import LOWER_CASE
from dfns_contract.server.faults import FAULTS, FaultKind
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.server_checks import RACERS, probe_switches
from selftests.server.forgery import forged_token, signed_by_embedded_key
from selftests.server.today import (
    TODAY,
    UNKNOWN_APP,
    UNKNOWN_USER,
    UNKNOWN_WALLET,
    admin,
    checked_error,
    client,
    error_of,
    limited,
    transfer,
    transfer_body,
)

JUDGED = faults_judged_by(TODAY)
FAULTS_2026 = [name for name in JUDGED if FAULTS[name].kind is FaultKind.FAULT]
BENIGN = [name for name in JUDGED if FAULTS[name].kind is FaultKind.BENIGN]

#: The ids a server makes at random (errors, transfers, wallets, users, orgs, apps, requests, permissions,
#: assignments).
_RANDOM_ID = re.compile(r"\b(er|xfr|wa|us|or|ap|rq|pm|as)-[0-9a-z]+(-[0-9a-z]+)*")


class Observation(NamedTuple):
    status: int
    content_type: str
    #: The body of an error, random ids masked; "" for a success.
    error_body: str


def observe(exchange: Exchange) -> Observation:
    body = _RANDOM_ID.sub("…", exchange.text) if exchange.status >= 400 else ""
    return Observation(exchange.status, exchange.response.headers.get("content-type", ""), body)


class Clients(NamedTuple):
    server: RunningServer
    admin: DfnsClient
    limited: DfnsClient


def _forged(c: Clients, algorithm: str) -> str:
    return forged_token(c.server.state.seeded.admin.principal_id, algorithm)


def _with_token(c: Clients, token: str) -> Exchange:
    return client(c.server, token).request("GET", "/auth/apps")


def _user_action_for(c: Clients, signer: DfnsClient, signed: str, sent: str) -> Exchange:
    """``signer`` signs a PUT of the other app's ``signed`` action; the admin sends its ``sent`` one with it."""
    app = "/auth/apps/%s" % c.server.profile["otherAppId"]
    token = signer.user_action("PUT", app + signed, "{}")
    return c.admin.request("PUT", app + sent, headers={"X-DFNS-USERACTION": token})


def _replayed_transfer(c: Clients) -> str:
    """The same transfer request twice: does the second answer the first transfer?"""
    body = transfer_body(c.server, externalId="again")
    first, second = (transfer(c.admin, c.server.profile["walletId"], body) for _ in range(2))
    return "first" if second.status == 200 and second.json["id"] == first.json["id"] else "new"


def _conflicting_transfer(c: Clients) -> Exchange:
    wallet = c.server.profile["walletId"]
    transfer(c.admin, wallet, transfer_body(c.server, externalId="conflict"))
    return transfer(c.admin, wallet, transfer_body(c.server, externalId="conflict", amount="2"))


def _new_permission(c: Clients, name: str, sign: bool = True) -> Exchange:
    return c.admin.request("POST", "/permissions", {"name": name, "operations": ["Wallets:Read"]}, sign=sign)


def _assign(c: Clients, permission_id: str) -> Exchange:
    body = {"identityId": c.server.profile["limitedPrincipalId"]}
    return c.admin.request("POST", "/permissions/%s/assignments" % permission_id, body, sign=True)


def _assigned_twice(c: Clients) -> Exchange:
    """A new permission assigned to the limited principal, then assigned to it again."""
    permission_id = _new_permission(c, "twice").json["id"]
    _assign(c, permission_id)
    return _assign(c, permission_id)


def _revoked_without_user_action(c: Clients) -> Exchange:
    permission_id = _new_permission(c, "revoked").json["id"]
    assignment_id = _assign(c, permission_id).json["id"]
    return c.admin.request("DELETE", "/permissions/%s/assignments/%s" % (permission_id, assignment_id))


def _reused_external_id(c: Clients, name: str, wallet_key: str, **change: str) -> Exchange:
    """A transfer with an externalId, then a second with it from ``wallet_key``'s wallet, ``change`` made."""
    p = c.server.profile
    transfer(c.admin, p["walletId"], transfer_body(c.server, externalId=name))
    return transfer(c.admin, p[wallet_key], transfer_body(c.server, externalId=name, **change))


def _racing_transfers(c: Clients) -> int:
    """Identical transfer requests sent at once: how many transfers they made (at most 2)."""
    wallet, body = c.server.profile["walletId"], transfer_body(c.server, externalId="race")
    path = "/wallets/%s/transfers" % wallet
    senders = [admin(c.server) for _ in range(RACERS)]
    actions = [s.user_action("POST", path, json.dumps(body, separators=(",", ":"))) for s in senders]
    barrier = threading.Barrier(RACERS)

    def send(i: int) -> str:
        senders[i].request("GET", "/auth/apps")  # open the connection before the start line
        barrier.wait(timeout=10)
        return senders[i].request("POST", path, body, headers={"X-DFNS-USERACTION": actions[i]}).json["id"]

    with ThreadPoolExecutor(RACERS) as pool:
        return min(len(set(pool.map(send, range(RACERS)))), 2)


def _other_orgs(c: Clients, path: str) -> Exchange:
    """This org's admin reads a resource of the other organisation (its path names profile keys)."""
    return c.admin.request("GET", path.format(**c.server.profile))


Probe = Callable[[Clients], Any]

PROBES: dict[str, Probe] = {
    "ok": lambda c: observe(c.admin.request("GET", "/auth/apps")),
    "no-token": lambda c: observe(c.admin.request("GET", "/auth/apps", auth=False)),
    "alg-none": lambda c: observe(_with_token(c, _forged(c, "none"))),
    "foreign-signature": lambda c: observe(_with_token(c, _forged(c, "HS256"))),
    "expired-token": lambda c: observe(_with_token(c, c.server.profile["expiredAuthToken"])),
    "embedded-jwk": lambda c: observe(_with_token(c, signed_by_embedded_key(c.server.profile["authToken"]))),
    "forbidden": lambda c: observe(
        c.limited.request("PUT", "/auth/apps/%s/deactivate" % c.server.profile["otherAppId"], sign=True)),
    "no-user-action": lambda c: observe(
        c.admin.request("PUT", "/auth/apps/%s/activate" % c.server.profile["otherAppId"])),
    "malformed-json": lambda c: observe(c.admin.send(
        "POST", "/auth/action/init", {"Authorization": "Bearer " + c.server.profile["authToken"]}, b"{")),
    "invalid-value": lambda c: observe(c.admin.request("POST", "/auth/action/init", {
        "userActionPayload": "{}", "userActionHttpMethod": "PATCH", "userActionHttpPath": "/wallets"})),
    "wrong-type": lambda c: observe(c.admin.request("POST", "/auth/action/init", {
        "userActionPayload": {}, "userActionHttpMethod": "GET", "userActionHttpPath": "/wallets"})),
    "unknown-app": lambda c: observe(c.admin.request("GET", "/auth/apps/" + UNKNOWN_APP)),
    "unknown-wallet": lambda c: observe(c.admin.request("GET", "/wallets/" + UNKNOWN_WALLET)),
    "unknown-policy": lambda c: observe(c.admin.request("GET", "/v2/policies/plc-00000-00000-0000000000000000")),
    "unknown-user": lambda c: observe(c.admin.request("GET", "/auth/users/" + UNKNOWN_USER)),
    "unbound-user-action": lambda c: observe(_user_action_for(c, c.admin, "/deactivate", "/activate")),
    "user-action-of-another-principal": lambda c: observe(_user_action_for(c, c.limited, "/activate", "/activate")),
    "lower-case-names": lambda c: observe(c.admin.spelled(LOWER_CASE).request("GET", "/auth/apps")),
    "odd-bytes": lambda c: observe(c.admin.request("GET", "/auth/apps", headers={"X-Odd": "caf\u00e9"})),
    "replayed-transfer": _replayed_transfer,
    "conflicting-transfer": lambda c: observe(_conflicting_transfer(c)),
    "permission-assigned-twice": lambda c: observe(_assigned_twice(c)),
    "post-without-user-action": lambda c: observe(_new_permission(c, "unsigned", sign=False)),
    "delete-without-user-action": lambda c: observe(_revoked_without_user_action(c)),
    "conflicting-to": lambda c: observe(
        _reused_external_id(c, "other-to", "walletId", to=c.server.profile["otherTransferTo"])),
    "conflicting-wallet": lambda c: observe(_reused_external_id(c, "other-wallet", "otherWalletId")),
    "racing-transfers": _racing_transfers,
    "other-org-wallet": lambda c: observe(_other_orgs(c, "/wallets/{otherOrgWalletId}")),
    "other-org-transfer": lambda c: observe(
        _other_orgs(c, "/wallets/{otherOrgWalletId}/transfers/{otherOrgTransferId}")),
    "other-org-user": lambda c: observe(_other_orgs(c, "/auth/users/{otherOrgUserId}")),
    "other-org-app": lambda c: observe(_other_orgs(c, "/auth/apps/{otherOrgAppId}")),
}

#: Another org's resource answers as an unknown id of its kind.
OTHER_ORG_MESSAGES = {"other-org-wallet": "wallet not found", "other-org-transfer": "transfer not found",
                      "other-org-user": "user not found", "other-org-app": "application not found"}

#: The probe that shows each switch a 2026 suite judges.
SHOWN_BY = {
    "auth-off": "no-token",
    "auth-status": "no-token",
    "auth-alg-none": "alg-none",
    "auth-signature-unchecked": "foreign-signature",
    "token-expiry-unchecked": "expired-token",
    "token-trusts-embedded-jwk": "embedded-jwk",
    "forbidden-off": "forbidden",
    "forbidden-status": "forbidden",
    "useraction-check-off": "no-user-action",
    "useraction-status": "no-user-action",
    "unknown-app-status": "unknown-app",
    "envelope-flat": "no-token",
    "envelope-list": "no-token",
    "envelope-non-string": "no-token",
    "envelope-non-json": "no-token",
    "envelope-content-type": "no-token",
    "reject-all": "ok",
    "one-error": "ok",
    "echo-secrets": "no-token",
    "nonce-required-2026": "ok",
    "error-status-disagrees": "no-token",
    "envelope-missing-id": "no-token",
    "envelope-2024": "no-token",
    "details-not-object": "unknown-wallet",
    "wallet-404-as-403": "unknown-wallet",
    "useraction-unbound": "unbound-user-action",
    "useraction-any-principal": "user-action-of-another-principal",
    "header-names-case-sensitive": "lower-case-names",
    "html-500-on-odd-bytes": "odd-bytes",
    "internal-error-shape": "odd-bytes",
    "odd-bytes-500": "odd-bytes",
    "unknown-user-status": "unknown-user",
    "unknown-policy-status": "unknown-policy",
    "malformed-json-500": "malformed-json",
    "field-choices-unchecked": "invalid-value",
    "field-types-unchecked": "wrong-type",
    "duplicate-transfer-created-twice": "replayed-transfer",
    "conflict-without-duplicate": "conflicting-transfer",
    "conflict-accepted": "conflicting-transfer",
    "conflict-message": "conflicting-transfer",
    "permission-reassign-allowed": "permission-assigned-twice",
    "permission-conflict-status": "permission-assigned-twice",
    "useraction-optional-post": "post-without-user-action",
    "useraction-optional-put": "no-user-action",
    "useraction-optional-delete": "delete-without-user-action",
    "conflict-compares-amount-only": "conflicting-to",
    "external-id-per-wallet": "conflicting-wallet",
    "duplicate-transfer-racy": "racing-transfers",
    "wallet-404-without-details": "unknown-wallet",
    "other-org-wallet-readable": "other-org-wallet",
    "other-org-transfer-readable": "other-org-transfer",
    "other-org-user-readable": "other-org-user",
    "other-org-app-readable": "other-org-app",
    **{name: "unknown-wallet" for name in BENIGN},
}


def _probe(faults: list[str], probes: list[str]) -> tuple[RunningServer, dict[str, Any]]:
    server = start_server(faults=faults, contract=TODAY)
    clients = Clients(server, admin(server), limited(server))
    try:
        return server, {name: PROBES[name](clients) for name in probes}
    finally:
        server.request_stop()


@pytest.fixture(scope="module")
def observations() -> Iterator[dict[str, dict[str, Any]]]:
    """Probe results per switch, and under "" for the clean server (every probe)."""
    yield probe_switches(_probe, PROBES, SHOWN_BY, JUDGED)


def test_every_switch_a_2026_suite_judges_has_a_probe():
    assert set(SHOWN_BY) == set(JUDGED)
    assert set(SHOWN_BY.values()) == set(PROBES)


def test_clean_server_answers_the_probes_as_today_documents(observations):
    clean = observations[""]
    assert clean["ok"].status == clean["lower-case-names"].status == clean["odd-bytes"].status == 200
    assert clean["replayed-transfer"] == "first" and clean["racing-transfers"] == 1
    expected = {"no-token": 401, "alg-none": 401, "foreign-signature": 401, "expired-token": 401,
                "embedded-jwk": 401, "forbidden": 403, "no-user-action": 403, "malformed-json": 400,
                "invalid-value": 400, "wrong-type": 400,
                "unknown-app": 404, "unknown-wallet": 404, "unknown-user": 404, "unknown-policy": 404, "conflicting-transfer": 409,
                "unbound-user-action": 403, "user-action-of-another-principal": 403,
                "permission-assigned-twice": 409, "post-without-user-action": 403,
                "delete-without-user-action": 403, "conflicting-to": 409, "conflicting-wallet": 409,
                "other-org-wallet": 404, "other-org-transfer": 404, "other-org-user": 404, "other-org-app": 404}
    for probe, status in expected.items():
        seen = clean[probe]
        assert seen.status == status and seen.content_type == "application/json", probe
        checked_error(json.loads(seen.error_body)["error"], status)
    twice = json.loads(clean["permission-assigned-twice"].error_body)["error"]
    assert twice["message"] == "permission already assigned to this identity"
    assert twice["details"] == {"assignmentId": "…", "permissionId": "…", "identityId": "…"}
    for probe, message in OTHER_ORG_MESSAGES.items():
        assert json.loads(clean[probe].error_body)["error"]["message"] == message, probe
    for probe, external_id in (("conflicting-transfer", "conflict"), ("conflicting-to", "other-to"),
                               ("conflicting-wallet", "other-wallet")):
        conflict = json.loads(clean[probe].error_body)["error"]
        assert conflict["message"] == "Conflicting transfer with same externalId"
        assert conflict["details"] == {"duplicate": {"id": "…", "externalId": external_id}}


@pytest.mark.parametrize("name", FAULTS_2026)
def test_switch_changes_its_probe(observations, name):
    probe = SHOWN_BY[name]
    assert observations[name][probe] != observations[""][probe]


@pytest.mark.parametrize("name", BENIGN)
def test_benign_variation_keeps_todays_body(observations, name):
    seen, clean = observations[name]["unknown-wallet"], observations[""]["unknown-wallet"]
    assert seen.status == clean.status == 404
    error = json.loads(seen.error_body)["error"]
    extra = {"code"} if name == "extra-fields" else set()
    checked_error({k: v for k, v in error.items() if k not in extra}, 404)
    assert error["message"] == "wallet not found"


@pytest.mark.parametrize("name, probe", [("conflict-compares-amount-only", "conflicting-to"),
                                         ("external-id-per-wallet", "conflicting-wallet")])
def test_a_reused_external_id_is_served_under_its_switch(observations, name, probe):
    """The switch lets the conflicting request through: 200, where the clean server answers 409."""
    assert observations[name][probe].status == 200 and observations[""][probe].status == 409


def test_duplicate_transfer_racy_lets_identical_requests_at_once_make_two(observations):
    assert observations["duplicate-transfer-racy"]["racing-transfers"] == 2
    assert observations[""]["racing-transfers"] == 1


def test_nonce_required_2026_refuses_todays_requests_with_the_2024_400():
    with start_server(contract=TODAY, faults=["nonce-required-2026"]) as broken:
        got = admin(broken).request("GET", "/auth/apps")
        error = checked_error(got.json["error"], 400)
        assert error["message"] == "request nonce is missing or invalid"



@pytest.mark.parametrize("name, method", [("useraction-optional-post", "POST"), ("useraction-optional-put", "PUT"),
                                          ("useraction-optional-delete", "DELETE")])
def test_a_user_action_made_optional_is_still_judged_when_sent(name, method):
    """The switch drops the requirement for its method only: a request that carries a user action that is not
    this request's is still 403, and the other methods still need one."""
    with start_server(contract=TODAY, faults=[name]) as broken:
        sender, app = admin(broken), "/auth/apps/%s" % broken.profile["otherAppId"]
        wrong = sender.user_action("PUT", app + "/deactivate", "{}")
        probes = {
            "POST": lambda ua: sender.request("POST", "/permissions", {"name": "p", "operations": ["Wallets:Read"]},
                                              headers=ua),
            "PUT": lambda ua: sender.request("PUT", app + "/activate", headers=ua),
            "DELETE": lambda ua: sender.request("DELETE", "/permissions/pm-x/assignments/as-x", headers=ua),
        }
        error_of(probes[method]({"X-DFNS-USERACTION": wrong}), 403)
        for other, probe in probes.items():
            if other != method:
                error_of(probe({}), 403)


def test_conflict_compares_amount_only_answers_another_to_with_the_first_transfer():
    with start_server(contract=TODAY, faults=["conflict-compares-amount-only"]) as broken:
        p, sender = broken.profile, admin(broken)
        first = transfer(sender, p["walletId"], transfer_body(broken, externalId="x"))
        second = transfer(sender, p["walletId"], transfer_body(broken, externalId="x", to=p["otherTransferTo"]))
        assert second.status == 200 and second.json == first.json
        error_of(transfer(sender, p["walletId"], transfer_body(broken, externalId="x", amount="2")), 409)


def test_external_id_per_wallet_makes_a_new_transfer_on_another_wallet():
    with start_server(contract=TODAY, faults=["external-id-per-wallet"]) as broken:
        p, sender = broken.profile, admin(broken)
        first = transfer(sender, p["walletId"], transfer_body(broken, externalId="x"))
        second = transfer(sender, p["otherWalletId"], transfer_body(broken, externalId="x"))
        assert second.status == 200 and second.json["id"] != first.json["id"]
        assert second.json["walletId"] == p["otherWalletId"]
        assert transfer(sender, p["otherWalletId"], transfer_body(broken, externalId="x")).json == second.json
