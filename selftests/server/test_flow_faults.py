"""Every fault switch of the flows the extended edit documents errors for changes what it names.

As test_faults.py does for the first edit's switches: each switch names the
probe that shows it; the probe on a ``2024-08-19-extended`` server with the
switch on must answer otherwise than on the faithful one, which answers as
the page documents (the control of each probe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.contract.auth_recipes import assertion, tampered
from dfns_contract.server.contracts import judged_by
from dfns_contract.server.faults import EXTENDED_CONTRACT, FAULTS
from dfns_contract.server.runner import RunningServer, start_server

from selftests.server.conftest import Principals

Observation = tuple[int, str]
Probe = Callable[[RunningServer], Observation]
FLOW_FAULTS = sorted(name for name in FAULTS if judged_by(name)[:1] == (EXTENDED_CONTRACT,))


def seen(exchange) -> Observation:
    return exchange.status, exchange.text if exchange.status >= 400 else ""


def _service_account(server: RunningServer) -> DfnsClient:
    p = server.profile
    return Principals.client(server, p["serviceAccountAuthToken"],
                             KeySigner(p["serviceAccountCredId"], p["serviceAccountPrivateKey"]))


def _token_of(server: RunningServer, username: str) -> DfnsClient:
    got = _service_account(server).request("POST", "/auth/login/delegated", {"username": username}, sign=True)
    assert got.status == 200, got.text
    return Principals.client(server, got.json["token"])


def _login_init(server: RunningServer, username: str, **extra: str) -> Observation:
    body = {"username": username, "orgId": server.profile["orgId"], **extra}
    return seen(Principals.client(server).request("POST", "/auth/login/init", body, auth=False))


def _action_init(client: DfnsClient) -> Observation:
    body = {"userActionPayload": "{}", "userActionHttpMethod": "GET", "userActionHttpPath": "/auth/apps"}
    return seen(client.request("POST", "/auth/action/init", body))


def _completions(server: RunningServer, identifier_of: Callable[[str], str], twice: bool = False) -> Observation:
    """Complete a user action, rightly signed, with the identifier ``identifier_of`` makes of the real one."""
    admin = Principals.admin(server)
    init = admin.request("POST", "/auth/action/init", {
        "userActionPayload": "{}", "userActionHttpMethod": "GET", "userActionHttpPath": "/auth/apps"})
    signed = assertion(admin, init.json["challenge"])
    body = {"challengeIdentifier": identifier_of(init.json["challengeIdentifier"]), "firstFactor": signed}
    first = admin.request("POST", "/auth/action", body)
    return seen(admin.request("POST", "/auth/action", body)) if twice else seen(first)


def _deactivated_caller(server: RunningServer) -> Observation:
    p = server.profile
    end_user = _token_of(server, p["endUserUsername"])
    off = Principals.admin(server).request("PUT", "/auth/users/%s/deactivate" % p["endUserId"], sign=True)
    assert off.status == 200, off.text
    return _action_init(end_user)


def _recovery_with_a_key(server: RunningServer) -> Observation:
    p = server.profile
    return seen(Principals.client(server).request("POST", "/auth/recover/user/init", {
        "username": p["recoveryUsername"], "verificationCode": p["recoveryVerificationCode"],
        "orgId": p["orgId"], "credentialId": p["recoveryUserCredId"]}, auth=False))


def _code_twice(server: RunningServer) -> Observation:
    p = server.profile
    _login_init(server, p["registeredUsername"], loginCode=p["loginCode"])
    return _login_init(server, p["registeredUsername"], loginCode=p["loginCode"])


PROBES: dict[str, Probe] = {
    "delegated-deactivated": lambda s: seen(_service_account(s).request(
        "POST", "/auth/login/delegated", {"username": s.profile["deactivatedUsername"]}, sign=True)),
    "login-deactivated": lambda s: _login_init(s, s.profile["deactivatedUsername"]),
    "login-unknown": lambda s: _login_init(s, "nobody@example.invalid"),
    "login-no-credential": lambda s: _login_init(s, s.profile["credentiallessUsername"]),
    "login-code-never-sent": lambda s: _login_init(s, s.profile["registeredUsername"], loginCode="AAAA-BBBB-CCCC-DDDD"),
    "login-code-twice": _code_twice,
    "deactivated-caller": _deactivated_caller,
    "archived-caller": lambda s: _action_init(Principals.client(s, s.profile["archivedUserAuthToken"])),
    "credentialless-caller": lambda s: _action_init(_token_of(s, s.profile["credentiallessUsername"])),
    "challenge-garbage": lambda s: _completions(s, lambda identifier: "not-a-challenge"),
    "challenge-tampered": lambda s: _completions(s, tampered),
    "challenge-twice": lambda s: _completions(s, lambda identifier: identifier, twice=True),
    "recovery-with-a-key": _recovery_with_a_key,
}

#: What a faithful extended server answers each probe (status, message).
DOCUMENTED = {
    "delegated-deactivated": (400, "User account has been deactivated."),
    "login-deactivated": (400, "User account has been deactivated."),
    "login-unknown": (401, "User not found"),
    "login-no-credential": (401, "User does not have a credential that can be used for the application."),
    "login-code-never-sent": (403, "Invalid code"),
    "login-code-twice": (403, "Invalid code"),
    "deactivated-caller": (400, "User account has been deactivated."),
    "archived-caller": (401, "User not found"),
    "credentialless-caller": (401, "User does not have a credential that can be used for the application."),
    "challenge-garbage": (400, "Challenge token is not valid."),
    "challenge-tampered": (400, "Challenge token is not valid."),
    "challenge-twice": (400, "Challenge token is not valid."),
    "recovery-with-a-key": (401, "Credential cannot be used as a recovery factor."),
}

SHOWN_BY = {
    "delegated-login-deactivated-allowed": "delegated-deactivated",
    "login-deactivated-allowed": "login-deactivated",
    "useraction-deactivated-allowed": "deactivated-caller",
    "user-deactivated-status": "login-deactivated",
    "user-deactivated-message": "login-deactivated",
    "user-not-found-generic": "login-unknown",
    "user-not-found-status": "login-unknown",
    "useraction-archived-user-allowed": "archived-caller",
    "login-no-credential-allowed": "login-no-credential",
    "useraction-no-credential-allowed": "credentialless-caller",
    "no-credential-message": "login-no-credential",
    "login-code-unchecked": "login-code-never-sent",
    "login-code-reusable": "login-code-twice",
    "invalid-code-status": "login-code-never-sent",
    "action-challenge-unverified": "challenge-tampered",
    "action-challenge-reusable": "challenge-twice",
    "challenge-invalid-status": "challenge-garbage",
    "recovery-any-credential": "recovery-with-a-key",
    "recovery-factor-message": "recovery-with-a-key",
}


def _observe(faults: list[str], probes: list[str]) -> dict[str, Observation]:
    """Each probe on a fresh extended server (a probe may spend or change what another needs)."""
    results = {}
    for name in probes:
        with start_server(faults=faults, contract=EXTENDED_CONTRACT) as server:
            results[name] = PROBES[name](server)
    return results


@pytest.fixture(scope="module")
def observations() -> Iterator[dict[str, dict[str, Observation]]]:
    jobs = {"": ([], list(PROBES)), **{name: ([name], [SHOWN_BY[name]]) for name in FLOW_FAULTS}}
    with ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(_observe, *job) for name, job in jobs.items()}
        yield {name: future.result() for name, future in futures.items()}


def test_every_flow_switch_has_a_probe():
    assert set(SHOWN_BY) == set(FLOW_FAULTS) and len(FLOW_FAULTS) >= 11
    assert set(SHOWN_BY.values()) == set(PROBES) == set(DOCUMENTED)


@pytest.mark.parametrize("probe", list(PROBES))
def test_the_faithful_extended_server_answers_each_probe_as_documented(observations, probe):
    status, body = observations[""][probe]
    assert (status, json.loads(body) if body else None) == (
        DOCUMENTED[probe][0], {"error": {"message": DOCUMENTED[probe][1]}})


@pytest.mark.parametrize("name", FLOW_FAULTS)
def test_flow_switch_changes_its_probe(observations, name):
    probe = SHOWN_BY[name]
    assert observations[name][probe] != observations[""][probe]


def test_a_suite_judges_the_faults_of_its_version_and_the_earlier_ones():
    from dfns_contract.server.contracts import UnknownContract, faults_judged_by

    first, extended, latest = (set(faults_judged_by(v)) for v in ("2024-08-19", "2024-08-19-extended", "2025-02-07"))
    assert not first & set(FLOW_FAULTS) and "nonce-check-off" in first and "gzip" in first
    assert extended == first | set(FLOW_FAULTS) == latest
    today = set(faults_judged_by("2026"))
    assert not today & set(FLOW_FAULTS) and "nonce-check-off" not in today and "gzip" in today
    with pytest.raises(UnknownContract):
        faults_judged_by("2023-01-01")
