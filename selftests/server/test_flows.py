"""The reference server's success paths: every endpoint, every key kind, the profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dfns_contract.wire import keys
from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.server.world import Permission, new_cred_id

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
APP_KEYS = {
    "appId",
    "kind",
    "orgId",
    "expectedRpId",
    "expectedOrigin",
    "name",
    "isActive",
    "permissionAssignments",
    "accessTokens",
}
USER_KEYS = {
    "username",
    "userId",
    "kind",
    "credentialUuid",
    "orgId",
    "permissions",
    "scopes",
    "isActive",
    "isServiceAccount",
    "isRegistered",
    "permissionAssignments",
}


def test_profile_has_exactly_the_schema_keys_and_validates(profile):
    schema = json.loads((SCHEMAS / "profile.json").read_text())
    Draft202012Validator(schema).validate(profile)
    assert set(profile) == set(schema["properties"]) - {"$comment", "bootstrap"}  # bootstrap: dfns-contract's record
    assert profile["appId"].startswith("ap-") and profile["orgId"].startswith("or-")
    assert profile["limitedPrincipalId"].startswith("us-")


def test_list_and_get_apps(admin, profile):
    listed = admin.request("GET", "/auth/apps")
    assert listed.status == 200
    ids = {app["appId"] for app in listed.json["items"]}
    assert {profile["appId"], profile["otherAppId"]} <= ids
    got = admin.request("GET", "/auth/apps/" + profile["appId"])
    assert got.status == 200
    assert set(got.json) == APP_KEYS
    assert got.json["expectedOrigin"] == profile["appOrigin"] and got.json["isActive"] is True


def test_limited_principal_may_read(limited, profile):
    assert limited.request("GET", "/auth/apps").status == 200
    assert limited.request("GET", "/auth/users/" + profile["limitedPrincipalId"]).status == 200


def test_create_update_archive_app(admin):
    created = admin.request(
        "POST",
        "/auth/apps",
        {
            "name": "Created",
            "relyingPartyId": "example.co",
            "origin": "https://example.co",
            "kind": "ClientSideApplication",
        },
        sign=True,
    )
    assert created.status == 200, created.text
    app = created.json
    assert set(app) == APP_KEYS and app["expectedRpId"] == "example.co" and app["isActive"]
    path = "/auth/apps/" + app["appId"]
    updated = admin.request("PUT", path, {"name": "Renamed", "externalId": "ext-1"}, sign=True)
    assert updated.status == 200 and updated.json["name"] == "Renamed"
    assert updated.json["externalId"] == "ext-1"
    archived = admin.request("DELETE", path, sign=True)
    assert archived.status == 200 and archived.json["isActive"] is False
    assert admin.request("GET", path).status == 404


def test_deactivate_and_activate_other_app(admin, profile):
    path = "/auth/apps/%s/" % profile["otherAppId"]
    off = admin.request("PUT", path + "deactivate", sign=True)
    assert off.status == 200 and off.json["isActive"] is False
    # A deactivated application cannot be used to call the API.
    assert (
        admin.with_identity(admin.auth_token, app_id=profile["otherAppId"])
        .request("GET", "/auth/apps")
        .status
        == 401
    )
    on = admin.request("PUT", path + "activate", sign=True)
    assert on.status == 200 and on.json["isActive"] is True


def test_create_user_mailbox_and_get_user(admin, server):
    created = admin.request(
        "POST", "/auth/users", {"email": "new@example.co", "kind": "CustomerEmployee"}, sign=True
    )
    assert created.status == 200, created.text
    user = created.json
    assert set(user) == USER_KEYS
    assert user["isRegistered"] is False and user["permissionAssignments"] == []
    mail = admin.session.get(server.url + "/sandbox/mailbox/new@example.co")
    assert mail.status_code == 200 and set(mail.json()) == {"registrationCode", "expiresAt"}
    got = admin.request("GET", "/auth/users/" + user["userId"])
    assert got.status == 200 and got.json["username"] == "new@example.co"


def test_mailbox_of_unknown_user_is_404_in_the_envelope(server, admin):
    missing = admin.session.get(server.url + "/sandbox/mailbox/nobody@example.co")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}


@pytest.mark.parametrize("kind", list(keys.KeyKind))
def test_register_login_sign_and_mutate_with_each_key_kind(
    kind, admin, server, profile, make_client
):
    username = "%s@example.co" % kind.value.lower()
    created = admin.request(
        "POST", "/auth/users", {"email": username, "kind": "CustomerEmployee"}, sign=True
    )
    assert created.status == 200, created.text
    code = admin.session.get(server.url + "/sandbox/mailbox/" + username).json()["registrationCode"]
    key = keys.generate_key(kind)
    cred_id = new_cred_id()
    registered = make_client().register(
        username, code, profile["orgId"], keys.private_pem(key), cred_id
    )
    assert registered["credential"]["credentialKind"] == "Key"
    assert (
        registered["user"]["username"] == username
        and registered["user"]["orgId"] == profile["orgId"]
    )
    user = server.state.world.find_principal(registered["user"]["id"])
    assert user is not None and user.is_registered
    signer = KeySigner(cred_id, keys.private_pem(key))
    token = make_client(signer=signer).login(username, profile["orgId"])
    # "The user is created without any permissions": grant one so the mutation is allowed.
    user.permission = Permission("pm-test", "Updater", frozenset({"Auth:Apps:Update"}))
    me = make_client(token, signer)
    renamed = me.request(
        "PUT", "/auth/apps/" + profile["otherAppId"], {"name": "Other App"}, sign=True
    )
    assert renamed.status == 200, renamed.text


def test_registration_response_shapes(anonymous, server, profile):
    init = anonymous.request(
        "POST",
        "/auth/registration/init",
        {
            "username": profile["pendingUsername"],
            "registrationCode": profile["pendingRegistrationCode"],
            "orgId": profile["orgId"],
        },
        auth=False,
    )
    assert init.status == 200
    assert set(init.json) >= {
        "rp",
        "user",
        "temporaryAuthenticationToken",
        "supportedCredentialKinds",
        "challenge",
        "pubKeyCredParam",
        "attestation",
        "excludeCredentials",
        "authenticatorSelection",
    }
    login = anonymous.request(
        "POST",
        "/auth/login/init",
        {"username": profile["registeredUsername"], "orgId": profile["orgId"]},
    )
    assert login.status == 200
    assert login.json["allowCredentials"]["key"] == [
        {"type": "public-key", "id": profile["credId"]}
    ]
    assert login.json["allowCredentials"]["passwordProtectedKey"] == []


def _sign_raw(client: DfnsClient, client_data: dict) -> dict:
    raw = json.dumps(client_data, separators=(",", ":")).encode()
    assert client.signer is not None
    return {
        "kind": "Key",
        "credentialAssertion": {
            "credId": client.signer.cred_id,
            "clientData": b64url_encode(raw),
            "signature": b64url_encode(client.signer.sign(raw)),
        },
    }


def _action_init(client: DfnsClient, path: str) -> dict:
    init = client.request(
        "POST",
        "/auth/action/init",
        {"userActionPayload": "{}", "userActionHttpMethod": "PUT", "userActionHttpPath": path},
    )
    assert init.status == 200
    return init.json


def test_client_data_without_origin_is_accepted_like_the_typescript_keysigner(admin, profile):
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    challenge = _action_init(admin, path)
    done = admin.request(
        "POST",
        "/auth/action",
        {
            "challengeIdentifier": challenge["challengeIdentifier"],
            "firstFactor": _sign_raw(
                admin, {"type": "key.get", "challenge": challenge["challenge"]}
            ),
        },
    )
    assert done.status == 200
    used = admin.request("PUT", path, {}, headers={"X-DFNS-USERACTION": done.json["userAction"]})
    assert used.status == 200


def test_client_data_with_a_wrong_origin_is_refused(admin, profile):
    challenge = _action_init(admin, "/auth/apps/%s/activate" % profile["otherAppId"])
    done = admin.request(
        "POST",
        "/auth/action",
        {
            "challengeIdentifier": challenge["challengeIdentifier"],
            "firstFactor": _sign_raw(
                admin,
                {
                    "type": "key.get",
                    "challenge": challenge["challenge"],
                    "origin": "https://evil.example",
                    "crossOrigin": False,
                },
            ),
        },
    )
    assert (done.status, done.json) == (401, {"error": {"message": "Not Authorized."}})


def test_service_account_token_and_user_actions(admin, profile, make_client):
    key = keys.generate_key(keys.KeyKind.ED25519)
    created = admin.request(
        "POST",
        "/auth/service-accounts",
        {"name": "robot", "publicKey": keys.public_pem(key), "daysValid": 30},
        sign=True,
    )
    assert created.status == 200, created.text
    body = created.json
    assert body["userInfo"]["isServiceAccount"] is True
    token = body["accessTokens"][0]["accessToken"]
    robot = make_client(token, KeySigner(body["accessTokens"][0]["credId"], keys.private_pem(key)))
    assert robot.request("GET", "/auth/apps").status == 200
    # It got the caller's permissions, and signs its own user actions.
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    assert robot.request("PUT", path, sign=True).status == 200


def test_service_account_is_named_as_such_in_403(admin, server, profile, make_client):
    key = keys.generate_key(keys.KeyKind.P256)
    reader = server.state.world.principals[profile["limitedPrincipalId"]].permission
    created = admin.request(
        "POST",
        "/auth/service-accounts",
        {
            "name": "reader-robot",
            "publicKey": keys.public_pem(key),
            "permissionId": reader.permission_id,
        },
        sign=True,
    )
    assert created.status == 200, created.text
    account = created.json["accessTokens"][0]
    robot = make_client(account["accessToken"], KeySigner(account["credId"], keys.private_pem(key)))
    denied = robot.request("PUT", "/auth/apps/%s/deactivate" % profile["otherAppId"], sign=True)
    assert denied.status == 403
    assert denied.json["error"]["message"] == (
        "ServiceAccount %s is not authorized to perform operation (Auth:Apps:Update)"
        % account["linkedUserId"]
    )
