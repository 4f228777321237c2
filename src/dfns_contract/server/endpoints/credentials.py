"""Credential Management (api-docs/authentication/credential-management): a user's own credentials.

The regular flow: Create Credential Challenge (``POST /auth/credentials/init``,
the kind to add), then Create Credential (``POST /auth/credentials``, signed
with a user action: the new key attests over the challenge). The reference
server takes the kinds it can verify: ``Key``, and ``RecoveryKey``, the
recovery credential User Recovery asks for (its private key stays the user's,
encrypted; ``encryptedPrivateKey`` is kept as given and shown at recovery).
Listing, activating and deactivating work on the caller's own credentials;
deactivating the last Key leaves the user without a credential usable for the
application (User Login's documented 401).

The page documents no Credential Management errors: an unknown credential is
the server's own 404, a challenge that is not the caller's, unexpired and
unused, the common 401.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..credentials import check_attestation, new_challenge, not_authorized
from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..tokens import InvalidToken, TokenKind
from ..validation import Field
from ..world import KEY, RECOVERY_KEY, Credential
from .registration import PUB_KEY_CRED_PARAMS

KINDS = (KEY, RECOVERY_KEY)


def init_credential(call: Call) -> dict[str, Any]:
    state, user = call.state, call.user
    app = call.app_for(user.org_id)
    challenge = new_challenge()
    identifier = state.tokens.issue(TokenKind.CREDENTIAL_CHALLENGE, user.principal_id, state.settings.challenge_ttl,
                                    challenge=challenge, credentialKind=call.body["kind"])
    return {
        "kind": call.body["kind"],
        "challengeIdentifier": identifier,
        "challenge": challenge,
        "rp": {"id": app.rp_id, "name": app.name},
        "user": {"id": user.principal_id, "name": user.username, "displayName": user.username},
        "pubKeyCredParam": PUB_KEY_CRED_PARAMS,
        "attestation": "direct",
        "excludeCredentials": [{"type": "public-key", "id": c.cred_id} for c in user.credentials if c.is_active],
        "authenticatorSelection": {"residentKey": "required", "requireResidentKey": True,
                                   "userVerification": "required"},
    }


def create_credential(call: Call) -> dict[str, Any]:
    """Add the attested credential, once per challenge (claimed after the attestation verified)."""
    state, user, body = call.state, call.user, call.body
    try:
        claims = state.tokens.read(body["challengeIdentifier"], TokenKind.CREDENTIAL_CHALLENGE)
    except InvalidToken:
        raise not_authorized() from None
    if claims["sub"] != user.principal_id:
        raise not_authorized()
    if claims.get("credentialKind") != body["credentialKind"]:
        raise bad_request("credentialKind must be the kind the challenge was created for")
    info = body["credentialInfo"]
    if state.world.cred_id_taken(info["credId"]):
        raise bad_request("credentialInfo.credId is already registered")
    app = call.app_for(user.org_id)
    key = check_attestation(info, str(claims.get("challenge", "")), app.origin, state.settings.max_json_depth)
    if not state.challenges.claim(claims["jti"], datetime.fromtimestamp(claims["exp"], UTC)):
        raise not_authorized()
    credential = state.world.add_credential(
        user, info["credId"], key.pem, key.public_key, kind=body["credentialKind"],
        encrypted_private_key=body.get("encryptedPrivateKey", ""), name=body["credentialName"],
        date_created=call.now,
    )
    return credential.to_listing(app)


def list_credentials(call: Call) -> dict[str, Any]:
    app = call.app_for(call.user.org_id)
    return {"items": [c.to_listing(app) for c in call.user.credentials]}


def activate_credential(call: Call) -> dict[str, Any]:
    _own_credential(call).is_active = True
    return {"message": "success"}


def deactivate_credential(call: Call) -> dict[str, Any]:
    _own_credential(call).is_active = False
    return {"message": "success"}


def _own_credential(call: Call) -> Credential:
    uuid = call.body["credentialUuid"]
    credential = next((c for c in call.user.credentials if c.uuid == uuid), None)
    if credential is None:
        raise ApiError(ErrorId.CREDENTIAL_NOT_FOUND)
    return credential


_UUID = (Field("credentialUuid"),)

ENDPOINTS = (
    # "The permissions apply to the application only": no principal operation, as for user action signing.
    Endpoint("POST", "/auth/credentials/init", init_credential, fields=(Field("kind", choices=KINDS),)),
    Endpoint(
        "POST",
        "/auth/credentials",
        create_credential,
        user_action=True,
        fields=(
            Field("challengeIdentifier"),
            Field("credentialName"),
            Field("credentialKind", choices=KINDS),
            Field("credentialInfo", dict),
            Field("credentialInfo.credId"),
            Field("credentialInfo.clientData"),
            Field("credentialInfo.attestationData"),
            Field("encryptedPrivateKey", required=False),
        ),
    ),
    Endpoint("GET", "/auth/credentials", list_credentials),
    Endpoint("PUT", "/auth/credentials/activate", activate_credential, operation="Auth:Creds:Update",
             user_action=True, fields=_UUID),
    Endpoint("PUT", "/auth/credentials/deactivate", deactivate_credential, operation="Auth:Creds:Update",
             user_action=True, fields=_UUID),
)
