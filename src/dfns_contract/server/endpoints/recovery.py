"""User Recovery (api-docs/authentication/user-recovery): a recovery credential replaces the others.

Three steps, all without a token: Send Recovery Code Email (``PUT
/auth/recover/user/code``: a verification code, here in the sandbox mailbox),
Create Recovery Challenge (``POST /auth/recover/user/init``: the code and the
id of the user's recovery credential open a session, answered with a
temporary token and a challenge), and Recover User (``POST /auth/recover/user``
with that token: the recovery credential signs the challenge, the new
credentials attest over it; the user's previous credentials are all
deactivated, the new ones added).

The section's one documented error (errors-page-versions/2024-08-19-extended.md,
"User Recovery Errors"): a credential that is not a recovery credential (a
Key the user logs in with) is 401 ``Credential cannot be used as a recovery
factor.``, at both steps that name one. Anything else that proves nothing (an
unknown user, a wrong or expired code, an unknown credential, a signature that
does not verify) is the common 401 ``Not Authorized.``; sending a code answers
success whoever the username names, so it tells no one which users exist.

The verification code is checked at init and spent by the recovery it
completes, with the temporary token: both claimed once, atomically, after the
proofs verified.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..credentials import check_assertion_by, check_attestation, new_challenge, not_authorized, same_secret
from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Access, Call, Endpoint
from ..tokens import TokenKind
from ..validation import Field, validate
from ..world import KEY, RECOVERY_KEY, Credential, Principal
from .registration import PUB_KEY_CRED_PARAMS


def send_recovery_code(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    user = state.world.find_live_user(body["orgId"], body["username"]) if call.serves_org(body["orgId"]) else None
    if user is not None and user.is_active:
        state.world.send_recovery_code(user, call.now + state.settings.recovery_code_ttl)
    return {"message": "success"}


def init_recovery(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    user = _user_with_code(call)
    credential = _recovery_factor(call, user, body["credentialId"])
    app = call.app_for(user.org_id)
    challenge = new_challenge()
    token = state.tokens.issue(
        TokenKind.RECOVERY, user.principal_id, state.settings.challenge_ttl,
        challenge=challenge, credId=credential.cred_id,
    )
    return {
        "rp": {"id": app.rp_id, "name": app.name},
        "user": {"id": user.principal_id, "name": user.username, "displayName": user.username},
        "temporaryAuthenticationToken": token,
        "supportedCredentialKinds": {"firstFactor": [KEY], "secondFactor": []},
        "challenge": challenge,
        "pubKeyCredParam": PUB_KEY_CRED_PARAMS,
        "attestation": "direct",
        "excludeCredentials": [],
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": True,
            "userVerification": "required",
        },
        "allowedRecoveryCredentials": [
            {"id": c.cred_id, "encryptedRecoveryKey": c.encrypted_private_key}
            for c in user.credentials
            if c.is_active and c.kind == RECOVERY_KEY
        ],
    }


def recover_user(call: Call) -> dict[str, Any]:
    """Replace every credential of the user with the new ones, once per session and per code."""
    state, user, body = call.state, call.user, call.body
    challenge = str(call.claims.get("challenge", ""))
    assertion = body["recovery"]["credentialAssertion"]
    factor = _recovery_factor(call, user, assertion["credId"])
    origin = call.app_for(user.org_id).origin
    check_assertion_by(factor, assertion, challenge, origin, state.settings.max_json_depth)
    new = body["newCredentials"]
    first = new["firstFactorCredential"]
    recovery = new.get("recoveryCredential")
    if recovery is not None:
        validate(body, _new_credential_fields(_NEW + ".recoveryCredential", RECOVERY_KEY))
    ids = [first["credentialInfo"]["credId"]] + ([recovery["credentialInfo"]["credId"]] if recovery else [])
    if len(set(ids)) != len(ids) or any(state.world.cred_id_taken(cred_id) for cred_id in ids):
        raise bad_request("newCredentials: a credId is already registered")
    first_key = check_attestation(first["credentialInfo"], challenge, origin, state.settings.max_json_depth)
    recovery_key = (check_attestation(recovery["credentialInfo"], challenge, origin,
                                      state.settings.max_json_depth) if recovery else None)
    code = user.recovery_code
    if code is None or not state.challenges.claim("recovery-code:" + code.key, code.expires_at):
        raise not_authorized()
    if not state.challenges.claim(call.claims["jti"], datetime.fromtimestamp(call.claims["exp"], UTC)):
        raise not_authorized()
    for old in user.credentials:
        old.is_active = False
    credential = state.world.add_credential(user, ids[0], first_key.pem, first_key.public_key)
    if recovery is not None and recovery_key is not None:
        state.world.add_credential(user, ids[1], recovery_key.pem, recovery_key.public_key, kind=RECOVERY_KEY,
                                   encrypted_private_key=str(recovery.get("encryptedPrivateKey", "")))
    user.is_registered = True
    return {
        "credential": credential.to_json(),
        "user": {"id": user.principal_id, "username": user.username, "orgId": user.org_id},
    }


def _user_with_code(call: Call) -> Principal:
    """The body's user, if the verification code is their last one and unexpired (401 otherwise)."""
    body = call.body
    world = call.state.world
    user = world.find_live_user(body["orgId"], body["username"]) if call.serves_org(body["orgId"]) else None
    code = user.recovery_code if user is not None and user.is_active else None
    if user is None or code is None or code.expires_at <= call.now:
        raise not_authorized()
    if not same_secret(body["verificationCode"], code.code):
        raise not_authorized()
    return user


def _recovery_factor(call: Call, user: Principal, cred_id: str) -> Credential:
    """The user's active credential of this id, which must be a recovery credential (documented 401)."""
    credential = user.any_credential(cred_id)
    if credential is None:
        raise not_authorized()
    if credential.kind != RECOVERY_KEY and "recovery-any-credential" not in call.state.faults:
        raise ApiError(ErrorId.NOT_RECOVERY_FACTOR)
    return credential


def _new_credential_fields(prefix: str, kind: str) -> tuple[Field, ...]:
    """A new credential of Recover User (the optional recovery credential is checked when present)."""
    return (
        Field(prefix, dict),
        Field(prefix + ".credentialKind", choices=(kind,)),
        Field(prefix + ".credentialInfo", dict),
        Field(prefix + ".credentialInfo.credId"),
        Field(prefix + ".credentialInfo.clientData"),
        Field(prefix + ".credentialInfo.attestationData"),
    )


_ASSERTION, _NEW = "recovery.credentialAssertion", "newCredentials"

ENDPOINTS = (
    Endpoint(
        "PUT",
        "/auth/recover/user/code",
        send_recovery_code,
        access=Access.PUBLIC,
        fields=(Field("username"), Field("orgId")),
    ),
    Endpoint(
        "POST",
        "/auth/recover/user/init",
        init_recovery,
        access=Access.PUBLIC,
        fields=(Field("username"), Field("verificationCode"), Field("orgId"), Field("credentialId")),
    ),
    Endpoint(
        "POST",
        "/auth/recover/user",
        recover_user,
        access=Access.RECOVERY,
        fields=(
            Field("recovery", dict),
            Field("recovery.kind", choices=(RECOVERY_KEY,)),
            Field(_ASSERTION, dict),
            Field(_ASSERTION + ".credId"),
            Field(_ASSERTION + ".clientData"),
            Field(_ASSERTION + ".signature"),
            Field(_NEW, dict),
            *_new_credential_fields(_NEW + ".firstFactorCredential", KEY),
            Field(_NEW + ".recoveryCredential", dict, required=False),
        ),
    ),
)
