"""User Action Signing (api-docs/authentication/user-action-signing).

The challenge identifier and the user action signature are tokens that carry
the principal, method, path and payload they were issued for; the pipeline
compares them with the request that presents the signature. The payload is
kept as the SHA-256 of its canonical JSON (``pipeline.payload_digest``): the
signed text and the sent body need only be the same JSON value, not the same
bytes, and the signature stays a few hundred bytes whatever the body's size,
well inside the header limit (Settings.max_header_bytes).

The section's errors (errors-page-versions/2024-08-19-extended.md, "User
Action Signing Errors") are about the caller and the challenge: the caller's
token still verifies but its user was archived (401 ``User not found``) or
deactivated (400 ``User account has been deactivated.``), both judged by the
pipeline for these endpoints (``Endpoint.caller_errors``); the caller has no
credential the application accepts (401 ``User does not have a credential
that can be used for the application.``), at init, where the credentials to
sign with are listed; a challenge identifier that is not one this server
issued to this caller, unexpired and not yet completed (400 ``Challenge token
is not valid.``). A server of the first edit answers these with the common
401 (contracts.py).
"""

from __future__ import annotations

from typing import Any

from datetime import UTC, datetime

from ..credentials import (
    KEY_SIGNER_ORIGIN,
    SUPPORTED_KINDS,
    allow_credentials,
    check_assertion,
    new_challenge,
)
from ..errors import ApiError, ErrorId, bad_request
from ..json_input import InvalidJson, load_json
from ..pipeline import Call, Endpoint, payload_digest
from ..tokens import InvalidToken, TokenKind, Verification
from ..validation import Field
from .login import assertion_fields

METHODS = ("POST", "PUT", "DELETE", "GET")
#: What today's challenge adds (required in CreateUserActionChallengeResponse, @dfns/sdk 0.8.21, and on the
#: Create User Action Challenge page): the values of that page's example; the 2024 page has neither field.
TODAY_CHALLENGE_OPTIONS = {"userVerification": "required", "attestation": "direct"}


def init_action(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    if not call.user.has_login_factor() and "useraction-no-credential-allowed" not in state.faults:
        raise ApiError(ErrorId.NO_CREDENTIAL_FOR_APP)
    challenge = new_challenge()
    identifier = state.tokens.issue(
        TokenKind.ACTION_CHALLENGE,
        call.user.principal_id,
        state.settings.challenge_ttl,
        challenge=challenge,
        method=body["userActionHttpMethod"],
        path=body["userActionHttpPath"],
        payload=_payload_digest(call, body["userActionPayload"]),
    )
    answer = {
        "supportedCredentialKinds": SUPPORTED_KINDS,
        "challenge": challenge,
        "challengeIdentifier": identifier,
        "allowCredentials": allow_credentials(call.user),
        # Both pages list it (2024: "optional url ..."); empty as in today's example: no cross-device signing here.
        "externalAuthenticationUrl": "",
    }
    if state.contract.sdk_shapes:
        answer.update(TODAY_CHALLENGE_OPTIONS)
    return answer


def complete_action(call: Call) -> dict[str, Any]:
    """Create User Action Signature: the challenge, signed by one of the caller's Key credentials.

    Both official key signers' defaults pass: the TS ``AsymmetricKeySigner`` signs client data
    without an origin, the docs' Python ``KeySigner`` signs ``https://app.dfns.io``; an origin, when
    present, must be the org's app origin or that one, so a signature made for another site still fails.
    """
    state, principal = call.state, call.user
    faults = state.faults
    verification = (Verification.UNCHECKED if "action-challenge-unverified" in faults
                    else Verification.STRICT)
    try:
        claims = state.tokens.read(call.body["challengeIdentifier"], TokenKind.ACTION_CHALLENGE,
                                   verification)
    except InvalidToken:
        raise ApiError(ErrorId.CHALLENGE_INVALID) from None
    if claims["sub"] != principal.principal_id:
        raise ApiError(ErrorId.CHALLENGE_INVALID)
    check_assertion(
        principal,
        call.body["firstFactor"]["credentialAssertion"],
        claims.get("challenge", ""),
        call.app_for(principal.org_id).origin,
        state.settings.max_json_depth,
        other_origins=(KEY_SIGNER_ORIGIN,),
    )
    # Spent once, atomically, after the proof verified (see common.claim_once).
    if "action-challenge-reusable" not in faults and not state.challenges.claim(
        claims["jti"], datetime.fromtimestamp(claims["exp"], UTC)
    ):
        raise ApiError(ErrorId.CHALLENGE_INVALID)
    token = state.tokens.issue(
        TokenKind.USER_ACTION,
        principal.principal_id,
        state.settings.user_action_ttl,
        method=claims.get("method"),
        path=claims.get("path"),
        payload=claims.get("payload"),
    )
    return {"userAction": token}


def _payload_digest(call: Call, text: str) -> str:
    """The digest of the signed payload's canonical JSON; an empty payload is ``{}``, like an empty body."""
    if not text.strip():
        return payload_digest({})
    try:
        return payload_digest(load_json(text, call.state.settings.max_json_depth))
    except InvalidJson:
        raise bad_request("userActionPayload must be the JSON text of the request body") from None


ENDPOINTS = (
    # "The permissions apply to the application only": no principal operation.
    Endpoint(
        "POST",
        "/auth/action/init",
        init_action,
        caller_errors=True,
        fields=(
            Field("userActionPayload", allow_empty=True),
            Field("userActionHttpMethod", choices=METHODS),
            Field("userActionHttpPath"),
            Field("userActionServerKind", required=False, choices=("Api",)),
        ),
    ),
    Endpoint(
        "POST",
        "/auth/action",
        complete_action,
        caller_errors=True,
        fields=(
            Field("challengeIdentifier"),
            *assertion_fields(),
        ),
    ),
)
