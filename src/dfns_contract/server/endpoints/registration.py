"""User Registration (api-docs/authentication/registration).

Init checks in this order: a user who already registered is told so first
(401 ``User already exists.``, errors.md), then an unknown user, org or a
wrong code is a plain 401, and only a right code can be "expired" (400), so
the expiry answer never confirms a guessed code.
"""

from __future__ import annotations

from typing import Any

from ..credentials import check_attestation, new_challenge, not_authorized, same_secret
from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Access, Call, Endpoint
from ..tokens import TokenKind
from ..validation import Field
from ..world import Principal
from .common import claim_once

PUB_KEY_CRED_PARAMS = [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}]


def init_registration(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    org_id = body["orgId"]
    user = state.world.find_user(org_id, body["username"]) if call.serves_org(org_id) else None
    if user is not None and user.is_registered and "user-exists-off" not in state.faults:
        raise ApiError(ErrorId.USER_EXISTS)
    code = user.registration if user is not None else None
    if code is None or not same_secret(body["registrationCode"], code.code):
        raise ApiError(ErrorId.NOT_AUTHORIZED)
    if code.expires_at <= call.now and "regcode-expiry-off" not in state.faults:
        raise ApiError(ErrorId.REGISTRATION_CODE_EXPIRED)
    return registration_challenge(call, user)


def registration_challenge(call: Call, user: Principal) -> dict[str, Any]:
    """A registration session for ``user``: its challenge and the temporary token that names it
    (also what Delegated Registration answers, delegated.py)."""
    state, app = call.state, call.app_for(user.org_id)
    challenge = new_challenge()
    token = state.tokens.issue(
        TokenKind.REGISTRATION, user.principal_id, state.settings.challenge_ttl, challenge=challenge
    )
    return {
        "rp": {"id": app.rp_id, "name": app.name},
        "user": {"id": user.principal_id, "name": user.username, "displayName": user.username},
        "temporaryAuthenticationToken": token,
        "supportedCredentialKinds": {"firstFactor": ["Key"], "secondFactor": []},
        "challenge": challenge,
        "pubKeyCredParam": PUB_KEY_CRED_PARAMS,
        "attestation": "direct",
        "excludeCredentials": [],
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": True,
            "userVerification": "required",
        },
    }


def complete_registration(call: Call) -> dict[str, Any]:
    """Register the user's first credential, once per temporary token and once per user.

    The pipeline refused a spent token and a registered user before reading
    the body (step 3), so a sequential reuse gets 401 ahead of any body
    error; but a concurrent use passed that step too while its body was on
    its way. What decides is here, after the attestation is verified and in
    the same synchronous step as the registration itself: the user still
    unregistered, the token claimed (``claim_once``). A failed attempt spends
    nothing, so the user may correct it and try again with the same token.
    """
    state, user = call.state, call.user
    info = call.body["firstFactorCredential"]["credentialInfo"]
    if state.world.cred_id_taken(info["credId"]):
        raise bad_request("firstFactorCredential.credentialInfo.credId is already registered")
    key = check_attestation(
        info, str(call.claims.get("challenge", "")), call.app_for(user.org_id).origin,
        state.settings.max_json_depth,
    )
    if user.is_registered:
        raise not_authorized()
    claim_once(call, call.claims)
    credential = state.world.add_credential(user, info["credId"], key.pem, key.public_key)
    user.is_registered = True
    return {
        "credential": credential.to_json(),
        "user": {"id": user.principal_id, "username": user.username, "orgId": user.org_id},
    }


_CREDENTIAL = "firstFactorCredential"

ENDPOINTS = (
    Endpoint(
        "POST",
        "/auth/registration/init",
        init_registration,
        access=Access.PUBLIC,
        fields=(
            Field("username"),
            Field("registrationCode"),
            Field("orgId"),
        ),
    ),
    Endpoint(
        "POST",
        "/auth/registration",
        complete_registration,
        access=Access.REGISTRATION,
        fields=(
            Field(_CREDENTIAL, dict),
            Field(_CREDENTIAL + ".credentialKind", choices=("Key",)),
            Field(_CREDENTIAL + ".credentialInfo", dict),
            Field(_CREDENTIAL + ".credentialInfo.credId"),
            Field(_CREDENTIAL + ".credentialInfo.clientData"),
            Field(_CREDENTIAL + ".credentialInfo.attestationData"),
        ),
    ),
)
