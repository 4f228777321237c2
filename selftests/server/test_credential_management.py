"""Credential Management on the reference server: the recovery credentials User Recovery asks for,
and what deactivating a user's credentials leaves (User Login's no-credential error)."""

from __future__ import annotations

from dfns_contract.client import DfnsClient, Exchange, KeySigner
from dfns_contract.server.runner import start_server
from dfns_contract.wire import keys
from dfns_contract.wire.encoding import b64url_encode

from selftests.server.conftest import Principals
from selftests.server.flows import (
    EXTENDED,
    NO_CREDENTIAL,
    action_init,
    answer,
    login_init,
    mailed_code,
)


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
