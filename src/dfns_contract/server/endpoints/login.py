"""User Login (api-docs/authentication/login): a Key credential signs a challenge for a token.

The docs give no login errors; an unknown, unregistered or inactive user and
any assertion that does not verify get the common 401 ``Not Authorized.``.
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
from ..pipeline import Access, Call, Endpoint
from ..tokens import InvalidToken, TokenKind
from ..validation import Field
from ..world import PrincipalKind
from .common import claim_once


def init_login(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    user = (
        state.world.find_user(body["orgId"], body["username"])
        if body["orgId"] == call.app.org_id
        else None
    )
    if (
        user is None
        or user.kind is not PrincipalKind.USER
        or not user.is_registered
        or not user.is_active
    ):
        raise not_authorized()
    challenge = new_challenge()
    identifier = state.tokens.issue(
        TokenKind.LOGIN_CHALLENGE,
        user.principal_id,
        state.settings.challenge_ttl,
        challenge=challenge,
    )
    return {
        "supportedCredentialKinds": SUPPORTED_KINDS,
        "challenge": challenge,
        "challengeIdentifier": identifier,
        "allowCredentials": allow_credentials(user),
    }


def complete_login(call: Call) -> dict[str, Any]:
    state = call.state
    try:
        claims = state.tokens.read(call.body["challengeIdentifier"], TokenKind.LOGIN_CHALLENGE)
    except InvalidToken:
        raise not_authorized() from None
    user = state.world.find_principal(claims["sub"])
    if user is None or not user.is_active or user.org_id != call.app.org_id:
        raise not_authorized()
    check_assertion(
        user,
        call.body["firstFactor"]["credentialAssertion"],
        claims.get("challenge", ""),
        call.app.origin,
        state.settings.max_json_depth,
    )
    claim_once(call, claims)
    return {
        "token": state.tokens.issue(
            TokenKind.AUTH, user.principal_id, state.settings.login_token_ttl
        )
    }


def assertion_fields(prefix: str = "firstFactor") -> tuple[Field, ...]:
    """The Key ``firstFactor`` of Complete Login and Create User Action Signature."""
    return (
        Field(prefix, dict),
        Field(prefix + ".kind", choices=("Key",)),
        Field(prefix + ".credentialAssertion", dict),
        Field(prefix + ".credentialAssertion.credId"),
        Field(prefix + ".credentialAssertion.clientData"),
        Field(prefix + ".credentialAssertion.signature"),
    )


ENDPOINTS = (
    Endpoint(
        "POST",
        "/auth/login/init",
        init_login,
        access=Access.PUBLIC,
        fields=(
            Field("username"),
            Field("orgId"),
            Field("loginCode", required=False),
        ),
    ),
    Endpoint(
        "POST",
        "/auth/login",
        complete_login,
        access=Access.PUBLIC,
        fields=(
            Field("challengeIdentifier"),
            *assertion_fields(),
        ),
    ),
)
