"""Every documented error of the reference server, exact status and message, with its control.

Each case also sends the same request without the defect and expects success,
so a check that rejects everything cannot pass.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from dfns_contract.wire import keys
from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.wire.nonce import iso_now, make_nonce
from dfns_contract.server.tokens import ISSUER, TokenKind
from dfns_contract.server.world import new_cred_id

from selftests.helpers.server_checks import (
    APP_NOT_FOUND,
    CODE_EXPIRED,
    NONCE_INVALID,
    NONCE_REUSED,
    NOT_AUTHORIZED,
    SELF_STATE,
    UA_INVALID,
    UA_REUSED,
    USER_EXISTS,
    expect,
)


def b64json(value) -> str:
    return b64url_encode(json.dumps(value).encode())


# -- X-DFNS-NONCE ---------------------------------------------------------------


def test_missing_nonce(admin):
    expect(admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": None}), NONCE_INVALID)
    assert admin.request("GET", "/auth/apps").status == 200


def _ago(**delta) -> str:
    return iso_now(datetime.now(UTC) - timedelta(**delta))


@pytest.mark.parametrize(
    "nonce",
    [
        pytest.param("", id="empty"),
        pytest.param("not base64url!", id="alphabet"),
        pytest.param(b64url_encode(b"not json"), id="not-json"),
        pytest.param(b64json([1, 2]), id="array"),
        pytest.param(b64json({"uuid": "a" * 12, "date": _ago()}), id="short-uuid"),
        pytest.param(b64json({"uuid": str(uuid.uuid4())}), id="no-date"),
        pytest.param(b64json({"uuid": str(uuid.uuid4()), "date": "yesterday"}), id="bad-date"),
        pytest.param(b64json({"date": _ago()}), id="no-uuid"),
        pytest.param(make_nonce(date=_ago(minutes=6)), id="stale"),
        pytest.param(make_nonce(date=_ago(minutes=-24 * 60)), id="future"),
        pytest.param(make_nonce() + "\u00e9", id="odd-byte"),
        pytest.param(make_nonce() + "\u00a0", id="trailing-nbsp"),
    ],
)
def test_invalid_nonce(admin, nonce):
    expect(admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}), NONCE_INVALID)


@pytest.mark.parametrize(
    "nonce",
    [
        pytest.param(lambda: make_nonce(uuid="a" * 13), id="13-char-uuid"),
        pytest.param(lambda: make_nonce(date=_ago(minutes=4)), id="4-minutes-old"),
        pytest.param(lambda: make_nonce(date=_ago(seconds=-30)), id="30-seconds-ahead"),
        pytest.param(lambda: _padded_nonce(), id="padded"),
    ],
)
def test_valid_nonce_variants(admin, nonce):
    assert admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce()}).status == 200


def _padded_nonce() -> str:
    """A nonce whose base64url needs padding, sent with it (the server accepts either form)."""
    for length in range(36, 40):
        text = make_nonce(uuid=uuid.uuid4().hex.ljust(length, "0"))
        if len(text) % 4:
            return text + "=" * (-len(text) % 4)
    raise AssertionError("unreachable: four consecutive lengths cover every remainder")


def test_reused_nonce(admin):
    nonce = make_nonce()
    assert admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}).status == 200
    expect(admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}), NONCE_REUSED)


def test_replay_key_is_the_uuid(admin):
    same = str(uuid.uuid4())
    assert (
        admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": make_nonce(uuid=same)}).status
        == 200
    )
    expect(
        admin.request(
            "GET",
            "/auth/apps",
            headers={"X-DFNS-NONCE": make_nonce(uuid=same, date=_ago(seconds=1))},
        ),
        NONCE_REUSED,
    )


def test_a_nonce_is_spent_even_by_a_request_rejected_later(admin):
    nonce = make_nonce()
    expect(
        admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce, "X-DFNS-APPID": None}),
        NOT_AUTHORIZED,
    )
    expect(admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}), NONCE_REUSED)


# -- X-DFNS-APPID ---------------------------------------------------------------


@pytest.mark.parametrize("app_id", [None, "", "ap-00000-00000-0000000000000000"])
def test_missing_or_unknown_app(admin, app_id):
    expect(admin.request("GET", "/auth/apps", headers={"X-DFNS-APPID": app_id}), NOT_AUTHORIZED)


def test_the_nonce_is_checked_before_the_app(admin):
    expect(
        admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": None, "X-DFNS-APPID": None}),
        NONCE_INVALID,
    )


# -- Authorization ---------------------------------------------------------------


def _claims(server, **changes):
    claims = {
        "iss": ISSUER,
        "kind": "auth",
        "sub": server.state.seeded.admin.principal_id,
        "jti": uuid.uuid4().hex,
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
    }
    claims.update(changes)
    return claims


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="no-token"),
        pytest.param("Basic YWRtaW46YWRtaW4=", id="basic"),
        pytest.param("Bearer not.a.jwt", id="garbage"),
    ],
)
def test_unauthenticated(admin, authorization):
    expect(
        admin.request("GET", "/auth/apps", headers={"Authorization": authorization}), NOT_AUTHORIZED
    )


def test_lower_case_bearer_scheme_is_accepted(admin):
    assert (
        admin.request(
            "GET", "/auth/apps", headers={"Authorization": "bearer " + admin.auth_token}
        ).status
        == 200
    )


def test_forged_tokens(admin, server):
    rsa = keys.generate_key(keys.KeyKind.RSA)
    for token in (
        jwt.encode(_claims(server), None, algorithm="none"),
        jwt.encode(_claims(server), b"another-secret-another-secret-32", algorithm="HS256"),
        jwt.encode(_claims(server), keys.private_pem(rsa), algorithm="RS256"),
    ):
        expect(
            admin.request("GET", "/auth/apps", headers={"Authorization": "Bearer " + token}),
            NOT_AUTHORIZED,
        )


def test_token_of_another_kind(admin, server, profile):
    tokens = server.state.tokens
    admin_id = server.state.seeded.admin.principal_id
    for kind in (TokenKind.REGISTRATION, TokenKind.USER_ACTION, TokenKind.LOGIN_CHALLENGE):
        token = tokens.issue(kind, admin_id, timedelta(minutes=5))
        expect(admin.with_identity(token).request("GET", "/auth/apps"), NOT_AUTHORIZED)
    assert (
        admin.with_identity(tokens.issue(TokenKind.AUTH, admin_id, timedelta(minutes=5)))
        .request("GET", "/auth/apps")
        .status
        == 200
    )


def test_deactivated_principal(limited, server, profile):
    principal = server.state.world.principals[profile["limitedPrincipalId"]]
    principal.is_active = False
    try:
        expect(limited.request("GET", "/auth/apps"), NOT_AUTHORIZED)
    finally:
        principal.is_active = True
    assert limited.request("GET", "/auth/apps").status == 200


# -- 403 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body, operation",
    [
        ("PUT", "/auth/apps/{other}/deactivate", {}, "Auth:Apps:Update"),
        ("PUT", "/auth/apps/{other}", {"name": "x"}, "Auth:Apps:Update"),
        ("DELETE", "/auth/apps/{other}", {}, "Auth:Apps:Update"),
        (
            "POST",
            "/auth/apps",
            {"name": "n", "relyingPartyId": "r", "origin": "o", "kind": "ClientSideApplication"},
            "Auth:Apps:Create",
        ),
        (
            "POST",
            "/auth/users",
            {"email": "e@example.co", "kind": "CustomerEmployee"},
            "Auth:Users:Create",
        ),
        ("POST", "/auth/service-accounts", {"name": "n", "publicKey": "p"}, "Auth:Apps:Create"),
    ],
)
def test_forbidden(limited, profile, method, path, body, operation):
    path = path.format(other=profile["otherAppId"])
    message = "CustomerEmployee %s is not authorized to perform operation (%s)" % (
        profile["limitedPrincipalId"],
        operation,
    )
    expect(limited.request(method, path, body, sign=True), (403, message))


def test_forbidden_comes_before_the_user_action_check(limited, admin, profile):
    path = "/auth/apps/%s/deactivate" % profile["otherAppId"]
    assert limited.request("PUT", path).status == 403
    assert "not authorized to perform" in limited.request("PUT", path).json["error"]["message"]
    assert admin.request("PUT", path, sign=True).status == 200
    assert (
        admin.request("PUT", "/auth/apps/%s/activate" % profile["otherAppId"], sign=True).status
        == 200
    )


def test_action_signing_needs_no_principal_operation(limited, profile):
    path = "/auth/apps/%s" % profile["otherAppId"]
    assert limited.user_action("PUT", path, "{}")


# -- X-DFNS-USERACTION -----------------------------------------------------------


def test_missing_or_garbage_user_action(admin, profile):
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    expect(admin.request("PUT", path), UA_INVALID)
    expect(admin.request("PUT", path, headers={"X-DFNS-USERACTION": "garbage"}), UA_INVALID)
    assert admin.request("PUT", path, sign=True).status == 200


def test_user_action_bound_to_method_path_and_payload(admin, profile):
    other = "/auth/apps/%s" % profile["otherAppId"]
    token = admin.user_action("PUT", other, '{"name": "Other App"}')
    for method, path, body in (
        ("PUT", other + "/activate", {"name": "Other App"}),  # path
        ("DELETE", other, {"name": "Other App"}),  # method
        ("PUT", other, {"name": "Another name"}),  # payload
        ("PUT", other, {}),  # payload
    ):
        expect(admin.request(method, path, body, headers={"X-DFNS-USERACTION": token}), UA_INVALID)
    # Not consumed by the refusals; the same JSON value written differently is the same payload.
    assert (
        admin.request(
            "PUT", other, {"name": "Other App"}, headers={"X-DFNS-USERACTION": token}
        ).status
        == 200
    )


def test_user_action_of_another_principal(admin, limited, profile):
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    token = limited.user_action("PUT", path, "{}")
    expect(admin.request("PUT", path, headers={"X-DFNS-USERACTION": token}), UA_INVALID)


def test_empty_body_equals_empty_payload(admin, profile):
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    headers = admin.headers()
    headers["X-DFNS-USERACTION"] = admin.user_action("PUT", path, "")
    assert admin.send("PUT", path, headers, None).status == 200


def test_reused_user_action(admin, profile):
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    token = admin.user_action("PUT", path, "{}")
    assert admin.request("PUT", path, headers={"X-DFNS-USERACTION": token}).status == 200
    expect(admin.request("PUT", path, headers={"X-DFNS-USERACTION": token}), UA_REUSED)


def test_bad_assertion_on_action(admin, limited, profile):
    init = admin.request(
        "POST",
        "/auth/action/init",
        {"userActionPayload": "{}", "userActionHttpMethod": "PUT", "userActionHttpPath": "/x"},
    ).json
    raw = json.dumps({"type": "key.get", "challenge": init["challenge"]}).encode()
    for cred_id, signer in (
        (admin.signer.cred_id, limited.signer),
        (limited.signer.cred_id, limited.signer),
    ):
        assertion = {
            "kind": "Key",
            "credentialAssertion": {
                "credId": cred_id,
                "clientData": b64url_encode(raw),
                "signature": b64url_encode(signer.sign(raw)),
            },
        }
        expect(
            admin.request(
                "POST",
                "/auth/action",
                {"challengeIdentifier": init["challengeIdentifier"], "firstFactor": assertion},
            ),
            NOT_AUTHORIZED,
        )


# -- Application management -------------------------------------------------------


@pytest.mark.parametrize(
    "method, suffix", [("PUT", "/activate"), ("PUT", "/deactivate"), ("DELETE", "")]
)
def test_application_cannot_modify_its_own_state(admin, profile, method, suffix):
    expect(
        admin.request(method, "/auth/apps/%s%s" % (profile["appId"], suffix), sign=True), SELF_STATE
    )
    assert (
        admin.request("PUT", "/auth/apps/%s/activate" % profile["otherAppId"], sign=True).status
        == 200
    )


def test_application_may_update_its_own_name(admin, profile):
    assert (
        admin.request(
            "PUT", "/auth/apps/" + profile["appId"], {"name": "Reference App"}, sign=True
        ).status
        == 200
    )


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("GET", ""),
        ("PUT", "/activate"),
        ("PUT", "/deactivate"),
        ("DELETE", ""),
        ("PUT", ""),
    ],
)
def test_unknown_application(admin, method, suffix):
    path = "/auth/apps/ap-00000-00000-0000000000000000" + suffix
    expect(admin.request(method, path, sign=method != "GET"), APP_NOT_FOUND)


# -- Registration ------------------------------------------------------------------


def _invite(admin, server, email: str) -> str:
    assert (
        admin.request(
            "POST", "/auth/users", {"email": email, "kind": "CustomerEmployee"}, sign=True
        ).status
        == 200
    )
    return admin.session.get(server.url + "/sandbox/mailbox/" + email).json()["registrationCode"]


def _init(anonymous, username, code, org_id):
    return anonymous.request(
        "POST",
        "/auth/registration/init",
        {"username": username, "registrationCode": code, "orgId": org_id},
    )


def test_user_already_exists_comes_first(anonymous, profile):
    expect(
        _init(anonymous, profile["registeredUsername"], "0000-0000-0000-0000", profile["orgId"]),
        USER_EXISTS,
    )


def test_unknown_user_org_or_wrong_code(anonymous, profile):
    org, pending, code = (
        profile["orgId"],
        profile["pendingUsername"],
        profile["pendingRegistrationCode"],
    )
    expect(_init(anonymous, pending, "0000-0000-0000-0000", org), NOT_AUTHORIZED)
    expect(_init(anonymous, "nobody@example.co", code, org), NOT_AUTHORIZED)
    expect(_init(anonymous, pending, code, "or-00000-00000-0000000000000000"), NOT_AUTHORIZED)
    assert _init(anonymous, pending, code, org).status == 200


def test_expired_registration_code(anonymous, profile):
    org = profile["orgId"]
    expect(
        _init(anonymous, profile["expiredUsername"], profile["expiredRegistrationCode"], org),
        CODE_EXPIRED,
    )
    # A wrong code never learns whether it would have been expired.
    expect(_init(anonymous, profile["expiredUsername"], "0000-0000-0000-0000", org), NOT_AUTHORIZED)


def test_temporary_token_is_single_use_and_attestation_is_checked(
    admin, anonymous, server, profile
):
    code = _invite(admin, server, "once@example.co")
    init = _init(anonymous, "once@example.co", code, profile["orgId"]).json
    temporary = anonymous.with_identity(init["temporaryAuthenticationToken"])
    key, other = keys.generate_key(keys.KeyKind.P256), keys.generate_key(keys.KeyKind.P256)

    def credential(client_data: dict, signer=key, attestation: str | None = None) -> dict:
        raw = json.dumps(client_data).encode()
        return {
            "firstFactorCredential": {
                "credentialKind": "Key",
                "credentialInfo": {
                    "credId": new_cred_id(),
                    "clientData": b64url_encode(raw),
                    "attestationData": attestation or keys.attestation_data(signer, raw),
                },
            }
        }

    good = {
        "type": "key.create",
        "challenge": init["challenge"],
        "origin": profile["appOrigin"],
        "crossOrigin": False,
    }
    expect(
        temporary.request("POST", "/auth/registration", credential({**good, "challenge": "other"})),
        NOT_AUTHORIZED,
    )
    expect(
        temporary.request("POST", "/auth/registration", credential({**good, "type": "key.get"})),
        NOT_AUTHORIZED,
    )
    # A well-formed attestation signed by another key than the one it presents.
    raw = json.dumps(good).encode()
    forged = b64json(
        {
            "publicKey": keys.public_pem(key),
            "signature": keys.sign(
                other, keys.credential_fingerprint(raw, keys.public_pem(key))
            ).hex(),
        }
    )
    expect(
        temporary.request("POST", "/auth/registration", credential(good, attestation=forged)),
        NOT_AUTHORIZED,
    )
    bad = temporary.request("POST", "/auth/registration", credential(good, attestation="!!"))
    assert bad.status == 400 and "attestationData" in bad.json["error"]["message"]
    assert temporary.request("POST", "/auth/registration", credential(good)).status == 200
    expect(temporary.request("POST", "/auth/registration", credential(good)), NOT_AUTHORIZED)
    expect(_init(anonymous, "once@example.co", code, profile["orgId"]), USER_EXISTS)


def test_registration_token_is_refused_elsewhere_and_auth_token_at_registration(
    admin, anonymous, server, profile
):
    code = _invite(admin, server, "elsewhere@example.co")
    temporary = _init(anonymous, "elsewhere@example.co", code, profile["orgId"]).json[
        "temporaryAuthenticationToken"
    ]
    expect(anonymous.with_identity(temporary).request("GET", "/auth/apps"), NOT_AUTHORIZED)
    expect(
        admin.request("POST", "/auth/registration", {"firstFactorCredential": {}}), NOT_AUTHORIZED
    )


# -- Login -----------------------------------------------------------------------


def test_login_failures(admin, anonymous, profile):
    org = profile["orgId"]
    expect(
        anonymous.request(
            "POST", "/auth/login/init", {"username": "nobody@example.co", "orgId": org}
        ),
        NOT_AUTHORIZED,
    )
    expect(
        anonymous.request(
            "POST", "/auth/login/init", {"username": profile["pendingUsername"], "orgId": org}
        ),
        NOT_AUTHORIZED,
    )
    init = anonymous.request(
        "POST", "/auth/login/init", {"username": profile["registeredUsername"], "orgId": org}
    )
    raw = json.dumps({"type": "key.get", "challenge": init.json["challenge"]}).encode()
    assertion = {
        "kind": "Key",
        "credentialAssertion": {
            "credId": profile["credId"],
            "clientData": b64url_encode(raw),
            "signature": b64url_encode(b"\x30\x00"),
        },
    }
    body = {"challengeIdentifier": init.json["challengeIdentifier"], "firstFactor": assertion}
    expect(anonymous.request("POST", "/auth/login", body), NOT_AUTHORIZED)
    assertion["credentialAssertion"]["signature"] = b64url_encode(admin.signer.sign(raw))
    assert anonymous.request("POST", "/auth/login", body).status == 200
    expect(
        anonymous.request("POST", "/auth/login", body), NOT_AUTHORIZED
    )  # challenge is single use


# -- Bodies, routes, 500 -------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"relyingPartyId": "r", "origin": "o", "kind": "ClientSideApplication"}, "name"),
        (
            {"name": 5, "relyingPartyId": "r", "origin": "o", "kind": "ClientSideApplication"},
            "name",
        ),
        (
            {"name": "n", "relyingPartyId": "r", "origin": "o", "kind": "ServerSideApplication"},
            "kind",
        ),
    ],
)
def test_invalid_body_names_the_field(admin, body, field):
    answer = admin.request("POST", "/auth/apps", body, sign=True)
    assert answer.status == 400 and set(answer.json) == {"error"}
    assert field in answer.json["error"]["message"]


def test_body_is_checked_before_the_user_action(admin):
    headers = admin.headers()
    headers["Content-Type"] = "application/json"
    for raw in (b"{not json", b"[]"):
        answer = admin.send("POST", "/auth/apps", headers | {"X-DFNS-NONCE": make_nonce()}, raw)
        assert answer.status == 400 and "JSON" in answer.json["error"]["message"]


def test_nested_field_is_named(admin):
    answer = admin.request(
        "POST", "/auth/action", {"challengeIdentifier": "x", "firstFactor": {"kind": "Key"}}
    )
    assert answer.status == 400
    assert "firstFactor.credentialAssertion" in answer.json["error"]["message"]


def test_unknown_route_and_wrong_method_use_the_envelope(admin):
    missing = admin.request("GET", "/auth/nothing-here")
    assert missing.status == 404 and set(missing.json) == {"error"}
    assert missing.content_type == "application/json"
    wrong = admin.request("PATCH", "/auth/apps")
    assert wrong.status == 405 and set(wrong.json) == {"error"}
    assert wrong.response.headers["Allow"] == "GET, HEAD, POST"


def test_unexpected_exception_is_the_documented_500_and_is_logged(
    admin, server, caplog, monkeypatch
):
    def explode(org_id):
        raise RuntimeError("boom in apps_of")

    monkeypatch.setattr(server.state.world, "apps_of", explode)
    with caplog.at_level(logging.ERROR, logger="dfns_contract.server"):
        answer = admin.request("GET", "/auth/apps")
    expect(answer, (500, "Internal Server Error"))
    assert "boom" not in answer.text
    assert any("boom in apps_of" in (r.exc_text or "") or r.exc_info for r in caplog.records)
