"""User Login (api-docs/authentication/login): a Key credential signs a challenge for a token.

The section's errors (errors-page-versions/2024-08-19-extended.md, "User Login
Errors"), checked in this order at Create User Login Challenge: a username
the org does not have (or an archived user) is 401 ``User not found``; a
deactivated user 400 ``User account has been deactivated.``; a ``loginCode``
that is not the user's last code from Send Login Code, unexpired and unused,
403 ``Invalid code``; a user with no credential the application accepts (none
registered, all deactivated, only a recovery credential) 401 ``User does not
have a credential that can be used for the application.`` A server of the
first edit answers all four with the common 401 ``Not Authorized.``
(contracts.py), as this one always did. Any assertion that does not verify is
that common 401 too.

A login code is spent by the challenge it opens (claimed once, atomically, in
the challenges store), so a code read off a screen cannot open a second one.
"""

from __future__ import annotations

from typing import Any

from ..credentials import (
    SUPPORTED_KINDS,
    allow_credentials,
    check_assertion,
    new_challenge,
    not_authorized,
    same_secret,
)
from ..errors import ApiError, ErrorId
from ..pipeline import Access, Call, Endpoint
from ..tokens import InvalidToken, TokenKind
from ..validation import Field
from ..world import Principal
from .common import claim_once


def send_login_code(call: Call) -> dict[str, Any]:
    """Email (here: the sandbox mailbox) a new one-time code to the user."""
    state = call.state
    user = _login_user(call)
    state.world.send_login_code(user, call.now + state.settings.login_code_ttl)
    return {"message": "success"}


def init_login(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    faults = state.faults
    user = _login_user(call, deactivated_allowed="login-deactivated-allowed" in faults)
    if "loginCode" in body:
        _spend_login_code(call, user, body["loginCode"])
    if not (user.is_registered and user.has_login_factor()) and "login-no-credential-allowed" not in faults:
        raise ApiError(ErrorId.NO_CREDENTIAL_FOR_APP)
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


def _login_user(call: Call, *, deactivated_allowed: bool = False) -> Principal:
    """The user the body names in the app's org: unknown 401, deactivated 400 (documented)."""
    body = call.body
    world = call.state.world
    user = world.find_live_user(body["orgId"], body["username"]) if call.serves_org(body["orgId"]) else None
    if user is None:
        raise ApiError(ErrorId.USER_UNKNOWN)
    if not user.is_active and not deactivated_allowed:
        raise ApiError(ErrorId.USER_DEACTIVATED)
    return user


def _spend_login_code(call: Call, user: Principal, sent: str) -> None:
    """403 ``Invalid code`` unless ``sent`` is the user's last code, unexpired and never used."""
    faults = call.state.faults
    if "login-code-unchecked" in faults:
        return
    code = user.login_code
    if code is None or not same_secret(sent, code.code) or code.expires_at <= call.now:
        raise ApiError(ErrorId.INVALID_CODE)
    if "login-code-reusable" not in faults and not call.state.challenges.claim(
        "login-code:" + code.key, code.expires_at
    ):
        raise ApiError(ErrorId.INVALID_CODE)


def complete_login(call: Call) -> dict[str, Any]:
    state = call.state
    try:
        claims = state.tokens.read(call.body["challengeIdentifier"], TokenKind.LOGIN_CHALLENGE)
    except InvalidToken:
        raise not_authorized() from None
    user = state.world.find_principal(claims["sub"])
    if user is None or not user.is_active or not call.serves_org(user.org_id):
        raise not_authorized()
    check_assertion(
        user,
        call.body["firstFactor"]["credentialAssertion"],
        claims.get("challenge", ""),
        call.app_for(user.org_id).origin,
        state.settings.max_json_depth,
    )
    claim_once(call, claims)
    return {
        "token": state.tokens.issue_auth(
            user.principal_id, user.org_id, state.settings.login_token_ttl
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
        "/auth/login/code",
        send_login_code,
        access=Access.PUBLIC,
        fields=(Field("username"), Field("orgId")),
    ),
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
