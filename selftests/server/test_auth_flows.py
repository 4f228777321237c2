"""The flows the extended edit of the errors page documents errors for, on the reference server.

Success paths (delegated login and registration, login with a one-time code,
activating and deactivating users, the whole recovery), one-time values spent
once under a race, and the sandbox's codes. The errors themselves, per
version: test_flow_errors.py; credential management: test_credential_management.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from dfns_contract.contract.auth_recipes import assertion
from dfns_contract.client import KeySigner
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.wire import keys
from dfns_contract.wire.encoding import b64url_encode

from selftests.helpers.server_checks import RACERS, race
from selftests.server.conftest import Principals
from selftests.server.flows import (
    DEACTIVATED,
    EXTENDED,
    INVALID_CODE,
    NOT_AUTHORIZED,
    action_init,
    answer,
    as_user,
    delegated_login,
    login_init,
    mailed_code,
    service_account,
)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """A server of the extended edit, shared by the tests that spend nothing another one needs."""
    with start_server(contract=EXTENDED) as running:
        yield running


# -- success paths ---------------------------------------------------------------


def test_delegated_login_gives_a_token_that_reads(server):
    user = as_user(server, server.profile["registeredUsername"])
    assert user.request("GET", "/auth/apps").status == 200


def test_delegated_registration_then_registration_completes_and_the_user_logs_in(server):
    account = service_account(server)
    username = "delegated-new@example.co"
    created = account.request("POST", "/auth/registration/delegated", {"email": username, "kind": "EndUser"}, sign=True)
    assert created.status == 200, created.text
    assert created.json["user"]["name"] == username and created.json["temporaryAuthenticationToken"]
    restarted = account.request("POST", "/auth/registration/delegated/restart",
                                {"email": username, "kind": "EndUser"}, sign=True)
    assert restarted.status == 200, restarted.text
    key = keys.generate_key(keys.KeyKind.P256)
    client = Principals.client(server)
    challenge = restarted.json
    client_data = ('{"type":"key.create","challenge":"%s"}' % challenge["challenge"]).encode()
    credential = {
        "credentialKind": "Key",
        "credentialInfo": {
            "credId": "delegated-new-cred",
            "clientData": b64url_encode(client_data),
            "attestationData": keys.attestation_data(key, client_data),
        },
    }
    done = client.with_identity(challenge["temporaryAuthenticationToken"]).request(
        "POST", "/auth/registration", {"firstFactorCredential": credential})
    assert done.status == 200, done.text
    signer = Principals.client(server, signer=KeySigner("delegated-new-cred", keys.private_pem(key)))
    assert signer.login(username, server.profile["orgId"])


def test_delegated_endpoints_need_a_service_account(server, principals):
    admin = principals.admin(server)
    refused = admin.request("POST", "/auth/login/delegated", {"username": server.profile["registeredUsername"]},
                            sign=True)
    assert refused.status == 403 and "Auth:Users:Delegate" in refused.json["error"]["message"]
    assert delegated_login(server, server.profile["registeredUsername"]).status == 200  # the control


def test_a_login_code_opens_one_login_session(server):
    p = server.profile
    username = server.state.seeded.limited.username  # the admin's code is the profile's loginCode: untouched
    sent = Principals.client(server).request("POST", "/auth/login/code", {"username": username, "orgId": p["orgId"]},
                                             auth=False)
    assert sent.status == 200 and sent.json == {"message": "success"}
    code = mailed_code(server, username, "login")
    assert login_init(server, username, loginCode=code).status == 200
    assert answer(login_init(server, username, loginCode=code)) == INVALID_CODE
    assert login_init(server, username).status == 200  # without a code: the code is optional


def test_deactivate_and_activate_a_user(server, principals):
    admin, user_id = principals.admin(server), server.profile["endUserId"]
    end_user = as_user(server, server.profile["endUserUsername"])
    off = admin.request("PUT", "/auth/users/%s/deactivate" % user_id, sign=True)
    assert off.status == 200 and off.json["isActive"] is False and off.json["kind"] == "EndUser"
    assert answer(action_init(end_user)) == DEACTIVATED
    assert answer(end_user.request("GET", "/auth/apps")) == NOT_AUTHORIZED  # elsewhere: the common 401
    on = admin.request("PUT", "/auth/users/%s/activate" % user_id, sign=True)
    assert on.status == 200 and on.json["isActive"] is True
    assert action_init(end_user).status == 200


def test_a_user_cannot_deactivate_themselves(server, principals):
    admin = principals.admin(server)
    me = admin.request("PUT", "/auth/users/%s/deactivate" % server.state.seeded.admin.principal_id, sign=True)
    assert me.status == 400


def test_recovery_replaces_every_credential():
    server = start_server(contract=EXTENDED)
    try:
        p = server.profile
        client = Principals.client(server)
        username = p["recoveryUsername"]
        sent = client.request("PUT", "/auth/recover/user/code", {"username": username, "orgId": p["orgId"]}, auth=False)
        assert sent.status == 200
        code = mailed_code(server, username, "recovery")
        init = client.request("POST", "/auth/recover/user/init", {
            "username": username, "verificationCode": code, "orgId": p["orgId"], "credentialId": p["recoveryCredId"],
        }, auth=False)
        assert init.status == 200, init.text
        assert [c["id"] for c in init.json["allowedRecoveryCredentials"]] == [p["recoveryCredId"]]
        challenge = init.json["challenge"]
        recovery_key = keys.load_private_key(server.state.seeded.flows.recovery_private_key)
        assertion_data = ('{"type":"key.get","challenge":"%s"}' % challenge).encode()
        new_key = keys.generate_key(keys.KeyKind.ED25519)
        create_data = ('{"type":"key.create","challenge":"%s"}' % challenge).encode()
        body = {
            "recovery": {"kind": "RecoveryKey", "credentialAssertion": {
                "credId": p["recoveryCredId"],
                "clientData": b64url_encode(assertion_data),
                "signature": b64url_encode(keys.sign(recovery_key, assertion_data)),
            }},
            "newCredentials": {"firstFactorCredential": {"credentialKind": "Key", "credentialInfo": {
                "credId": "recovered-cred",
                "clientData": b64url_encode(create_data),
                "attestationData": keys.attestation_data(new_key, create_data),
            }}},
        }
        temporary = client.with_identity(init.json["temporaryAuthenticationToken"])
        done = temporary.request("POST", "/auth/recover/user", body)
        assert done.status == 200, done.text
        assert temporary.request("POST", "/auth/recover/user", body).status == 401  # the session is spent
        assert Principals.client(server, signer=KeySigner("recovered-cred", keys.private_pem(new_key))).login(
            username, p["orgId"])
        old_login = login_init(server, username)
        assert [c["id"] for c in old_login.json["allowCredentials"]["key"]] == ["recovered-cred"]
    finally:
        server.stop()


# -- single use under a race ---------------------------------------------------------


def _login_code_race(principals, faults: list[str]) -> Counter[int]:
    with start_server(contract=EXTENDED, faults=faults) as fresh:
        p = fresh.profile
        body = {"username": p["registeredUsername"], "orgId": p["orgId"], "loginCode": p["loginCode"]}
        clients = [principals.admin(fresh) for _ in range(RACERS)]
        return race(clients, lambda c: c.request("POST", "/auth/login/init", body, auth=False).status)


def _action_challenge_race(principals, faults: list[str]) -> Counter[int]:
    with start_server(contract=EXTENDED, faults=faults) as fresh:
        admin = principals.admin(fresh)
        init = action_init(admin)
        body = {"challengeIdentifier": init.json["challengeIdentifier"],
                "firstFactor": assertion(admin, init.json["challenge"])}
        clients = [principals.admin(fresh) for _ in range(RACERS)]
        return race(clients, lambda c: c.request("POST", "/auth/action", body).status)


@pytest.mark.parametrize("run, refused", [(_login_code_race, 403), (_action_challenge_race, 400)],
                         ids=["login-code", "action-challenge"])
def test_a_one_time_value_passes_once_under_a_race(principals, run, refused):
    assert run(principals, []) == Counter({200: 1, refused: RACERS - 1})


@pytest.mark.parametrize("run, fault", [(_login_code_race, "login-code-reusable"),
                                        (_action_challenge_race, "action-challenge-reusable")],
                         ids=["login-code", "action-challenge"])
def test_the_race_can_fail(principals, run, fault):
    """The control of the race: a server that does not spend the value lets every racer through."""
    assert run(principals, [fault]) == Counter({200: RACERS})


def test_the_sandbox_shows_only_login_and_recovery_codes(server):
    client = Principals.client(server)
    username = server.profile["registeredUsername"]
    assert client.session.get("%s/sandbox/mailbox/%s/login-code" % (server.url, username)).status_code == 200
    other = client.session.get("%s/sandbox/mailbox/%s/password" % (server.url, username))
    assert other.status_code == 404 and set(other.json()) == {"error"}
