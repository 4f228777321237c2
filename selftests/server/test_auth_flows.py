"""The flows the extended edit of the errors page documents errors for, on the reference server.

Success paths first (delegated login and registration, login with a one-time
code, activating and deactivating users, the whole recovery), then each
error the extended edit documents, as that edit's server answers it, and the
same request on a server of the first edit (the common 401) and of 2025-02-07.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from dfns_contract.client import DfnsClient, Exchange, KeySigner
from dfns_contract.contract.auth_recipes import assertion
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.wire import keys
from dfns_contract.wire.encoding import b64url_encode

from selftests.helpers.server_checks import RACERS, race
from selftests.server.conftest import Principals

EXTENDED, FIRST, LATEST = "2024-08-19-extended", "2024-08-19", "2025-02-07"
DEACTIVATED = (400, "User account has been deactivated.")
UNKNOWN = (401, "User not found")
NO_CREDENTIAL = (401, "User does not have a credential that can be used for the application.")
INVALID_CODE = (403, "Invalid code")
CHALLENGE_INVALID = (400, "Challenge token is not valid.")
NOT_RECOVERY = (401, "Credential cannot be used as a recovery factor.")
NOT_AUTHORIZED = (401, "Not Authorized.")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, RunningServer]]:
    started = {version: start_server(contract=version) for version in (EXTENDED, FIRST, LATEST)}
    try:
        yield started
    finally:
        for running in started.values():
            running.request_stop()
        for running in started.values():
            running.wait_stopped()


@pytest.fixture
def server(servers) -> RunningServer:
    return servers[EXTENDED]


def answer(exchange: Exchange) -> tuple[int, str]:
    return exchange.status, exchange.json["error"]["message"]


def service_account(server: RunningServer) -> DfnsClient:
    p = server.profile
    return Principals.client(server, p["serviceAccountAuthToken"],
                             KeySigner(p["serviceAccountCredId"], p["serviceAccountPrivateKey"]))


def delegated_login(server: RunningServer, username: str) -> Exchange:
    return service_account(server).request("POST", "/auth/login/delegated", {"username": username}, sign=True)


def login_init(server: RunningServer, username: str, **extra: str) -> Exchange:
    body = {"username": username, "orgId": server.profile["orgId"], **extra}
    return Principals.client(server).request("POST", "/auth/login/init", body, auth=False)


def as_user(server: RunningServer, username: str) -> DfnsClient:
    got = delegated_login(server, username)
    assert got.status == 200, got.text
    return Principals.client(server, got.json["token"])


def action_init(client: DfnsClient) -> Exchange:
    body = {"userActionPayload": "{}", "userActionHttpMethod": "GET", "userActionHttpPath": "/auth/apps"}
    return client.request("POST", "/auth/action/init", body)


def mailed_code(server: RunningServer, username: str, kind: str) -> str:
    got = Principals.client(server).session.get("%s/sandbox/mailbox/%s/%s-code" % (server.url, username, kind))
    assert got.status_code == 200, got.text
    return got.json()["code"]


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


# -- the documented errors, per version ---------------------------------------------


def _requests(server: RunningServer) -> dict[str, tuple[Exchange, Exchange]]:
    """Per new entry: (its fault request's answer, its control's answer)."""
    p = server.profile
    admin = Principals.admin(server)
    registered = p["registeredUsername"]

    def recovery(credential_id: str) -> Exchange:
        return Principals.client(server).request("POST", "/auth/recover/user/init", {
            "username": p["recoveryUsername"], "verificationCode": p["recoveryVerificationCode"],
            "orgId": p["orgId"], "credentialId": credential_id}, auth=False)

    init = action_init(admin)
    return {
        "delegated-deactivated": (delegated_login(server, p["deactivatedUsername"]), delegated_login(server, registered)),
        "delegated-unknown": (delegated_login(server, "nobody@example.invalid"), delegated_login(server, registered)),
        "login-deactivated": (login_init(server, p["deactivatedUsername"]), login_init(server, registered)),
        "login-unknown": (login_init(server, "nobody@example.invalid"), login_init(server, registered)),
        "login-no-credential": (login_init(server, p["credentiallessUsername"]), login_init(server, registered)),
        "login-invalid-code": (login_init(server, registered, loginCode="AAAA-BBBB-CCCC-DDDD"),
                               login_init(server, registered)),
        "action-unknown": (action_init(Principals.client(server, p["archivedUserAuthToken"])), action_init(admin)),
        "action-no-credential": (action_init(as_user(server, p["credentiallessUsername"])),
                                 action_init(as_user(server, registered))),
        "action-challenge": (admin.request("POST", "/auth/action", {
            "challengeIdentifier": "not-a-challenge", "firstFactor": {"kind": "Key", "credentialAssertion": {
                "credId": p["credId"], "clientData": "e30", "signature": "AA"}}}), init),
        "recovery": (recovery(p["recoveryUserCredId"]), recovery(p["recoveryCredId"])),
    }


EXPECTED = {
    "delegated-deactivated": DEACTIVATED,
    "delegated-unknown": UNKNOWN,
    "login-deactivated": DEACTIVATED,
    "login-unknown": UNKNOWN,
    "login-no-credential": NO_CREDENTIAL,
    "login-invalid-code": INVALID_CODE,
    "action-unknown": UNKNOWN,
    "action-no-credential": NO_CREDENTIAL,
    "action-challenge": CHALLENGE_INVALID,
    "recovery": NOT_RECOVERY,
}


@pytest.fixture(scope="module")
def answers(servers) -> dict[str, dict[str, tuple[Exchange, Exchange]]]:
    return {version: _requests(running) for version, running in servers.items()}


@pytest.mark.parametrize("request_name", list(EXPECTED))
def test_the_extended_server_answers_as_its_page_documents(answers, request_name):
    fault, control = answers[EXTENDED][request_name]
    assert control.status == 200, control.text
    assert answer(fault) == EXPECTED[request_name]
    assert fault.json == {"error": {"message": EXPECTED[request_name][1]}}


@pytest.mark.parametrize("request_name", list(EXPECTED))
def test_a_first_edit_server_answers_the_common_401_instead(answers, request_name):
    """The first page did not document these errors: the same request, the one 401 it documented."""
    fault, control = answers[FIRST][request_name]
    assert control.status == 200, control.text
    assert answer(fault) == NOT_AUTHORIZED


@pytest.mark.parametrize("request_name", list(EXPECTED))
def test_a_2025_server_answers_the_flows_as_the_extended_edit(answers, request_name):
    fault, control = answers[LATEST][request_name]
    assert control.status == 200, control.text
    assert answer(fault) == EXPECTED[request_name]


def test_only_the_401_message_differs_in_2025(servers):
    for version, message in ((FIRST, "Not Authorized."), (EXTENDED, "Not Authorized."),
                             (LATEST, "user token is missing or invalid")):
        got = Principals.client(servers[version]).request("GET", "/auth/apps")
        assert answer(got) == (401, message), version


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


# -- credential management ---------------------------------------------------------------


def _new_credential(client: DfnsClient, kind: str, cred_id: str) -> tuple[Exchange, keys.PrivateKey]:
    init = client.request("POST", "/auth/credentials/init", {"kind": kind})
    assert init.status == 200, init.text
    key = keys.generate_key(keys.KeyKind.P256)
    client_data = ('{"type":"key.create","challenge":"%s"}' % init.json["challenge"]).encode()
    body = {
        "challengeIdentifier": init.json["challengeIdentifier"],
        "credentialName": "made by a selftest",
        "credentialKind": kind,
        "credentialInfo": {"credId": cred_id, "clientData": b64url_encode(client_data),
                           "attestationData": keys.attestation_data(key, client_data)},
        "encryptedPrivateKey": "sealed",
    }
    return client.request("POST", "/auth/credentials", body, sign=True), key


def test_a_recovery_credential_made_by_the_user_opens_a_recovery():
    with start_server(contract=EXTENDED) as fresh:
        p = fresh.profile
        admin = Principals.admin(fresh)  # a user with a token and a Key: makes its own recovery credential
        made, _ = _new_credential(admin, "RecoveryKey", "admin-recovery-cred")
        assert made.status == 200, made.text
        assert made.json["kind"] == "RecoveryKey" and made.json["isActive"] is True
        listed = admin.request("GET", "/auth/credentials").json["items"]
        assert [c["kind"] for c in listed] == ["Key", "RecoveryKey"]
        assert [c["id"] for c in login_init(fresh, p["registeredUsername"]).json["allowCredentials"]["key"]] == [
            p["credId"]]  # a recovery credential is no login factor
        sent = Principals.client(fresh).request("PUT", "/auth/recover/user/code",
                                                {"username": p["registeredUsername"], "orgId": p["orgId"]}, auth=False)
        assert sent.status == 200
        code = mailed_code(fresh, p["registeredUsername"], "recovery")
        init = Principals.client(fresh).request("POST", "/auth/recover/user/init", {
            "username": p["registeredUsername"], "verificationCode": code, "orgId": p["orgId"],
            "credentialId": "admin-recovery-cred"}, auth=False)
        assert init.status == 200, init.text
        assert init.json["allowedRecoveryCredentials"] == [
            {"id": "admin-recovery-cred", "encryptedRecoveryKey": "sealed"}]


def test_deactivating_the_last_key_leaves_no_credential_for_the_app():
    with start_server(contract=EXTENDED) as fresh:
        p = fresh.profile
        admin = Principals.admin(fresh)  # the admin manages its own credentials
        made, key = _new_credential(admin, "Key", "second-admin-key")
        assert made.status == 200, made.text
        first_uuid = next(c["credentialUuid"] for c in admin.request("GET", "/auth/credentials").json["items"]
                          if c["credentialId"] == p["credId"])
        second = Principals.client(fresh, p["authToken"], KeySigner("second-admin-key", keys.private_pem(key)))
        off = second.request("PUT", "/auth/credentials/deactivate", {"credentialUuid": first_uuid}, sign=True)
        assert off.status == 200, off.text
        assert [c["id"] for c in login_init(fresh, p["registeredUsername"]).json["allowCredentials"]["key"]] == [
            "second-admin-key"]
        unknown = second.request("PUT", "/auth/credentials/activate", {"credentialUuid": "cr-nope"}, sign=True)
        assert unknown.status == 404 and set(unknown.json) == {"error"}
        last = second.request("PUT", "/auth/credentials/deactivate", {"credentialUuid": made.json["credentialUuid"]},
                              sign=True)
        assert last.status == 200, last.text
        assert answer(login_init(fresh, p["registeredUsername"])) == NO_CREDENTIAL
        assert answer(action_init(second)) == NO_CREDENTIAL  # nor can it sign a user action any more
