"""User Action Signing (api-docs/authentication/user-action-signing).

The challenge identifier and the user action signature are tokens that carry
the principal, method, path and payload they were issued for; the pipeline
compares them with the request that presents the signature. The payload is
kept as the SHA-256 of its canonical JSON (``pipeline.payload_digest``): the
signed text and the sent body need only be the same JSON value, not the same
bytes, and the signature stays a few hundred bytes whatever the body's size,
well inside the header limit (Settings.max_header_bytes).
"""

from __future__ import annotations

from typing import Any

from ..credentials import (
    SUPPORTED_KINDS,
    allow_credentials,
    check_assertion,
    new_challenge,
    not_authorized,
)
from ..errors import bad_request
from ..json_input import InvalidJson, load_json
from ..pipeline import Call, Endpoint, payload_digest
from ..tokens import InvalidToken, TokenKind
from ..validation import Field
from .common import claim_once
from .login import assertion_fields

METHODS = ("POST", "PUT", "DELETE", "GET")


def init_action(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
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
    return {
        "supportedCredentialKinds": SUPPORTED_KINDS,
        "challenge": challenge,
        "challengeIdentifier": identifier,
        "allowCredentials": allow_credentials(call.user),
    }


def complete_action(call: Call) -> dict[str, Any]:
    state, principal = call.state, call.user
    try:
        claims = state.tokens.read(call.body["challengeIdentifier"], TokenKind.ACTION_CHALLENGE)
    except InvalidToken:
        raise not_authorized() from None
    if claims["sub"] != principal.principal_id:
        raise not_authorized()
    check_assertion(
        principal,
        call.body["firstFactor"]["credentialAssertion"],
        claims.get("challenge", ""),
        call.app.origin,
        state.settings.max_json_depth,
    )
    claim_once(call, claims)
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
        fields=(
            Field("challengeIdentifier"),
            *assertion_fields(),
        ),
    ),
)
