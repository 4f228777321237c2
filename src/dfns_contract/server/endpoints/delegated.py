"""Delegated Authentication (api-docs/authentication/delegated-auth).

A service account logs its customer's users in, or registers them, without
their credentials and without Dfns emailing them: "Service account required",
with a user action. Delegated login answers the section's two documented
errors (errors-page-versions/2024-08-19-extended.md, "Delegated Authentication
Errors"): a username the org does not have, or an archived user, is 401
``User not found``; a deactivated user is 400 ``User account has been
deactivated.`` (checked after the caller's permissions: an unknown name must
not tell a caller who may not delegate whether a user exists).

Registration returns the registration challenge of Create User Registration
Challenge, completed by Complete User Registration (registration.py).
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..validation import Field
from ..world import Principal, PrincipalKind
from .common import require_operation
from .registration import registration_challenge

#: The kinds a delegated registration may create, and the operation each needs.
KIND_OPERATIONS = {
    PrincipalKind.END_USER.value: "Auth:Types:EndUser",
    PrincipalKind.USER.value: "Auth:Types:Employee",
}


def delegated_login(call: Call) -> dict[str, Any]:
    state = call.state
    _service_account_only(call)
    user = state.world.find_live_user(call.user.org_id, call.body["username"])
    if user is None:
        raise ApiError(ErrorId.USER_UNKNOWN)
    require_operation(call, _type_operation(user))
    if not user.is_active and "delegated-login-deactivated-allowed" not in state.faults:
        raise ApiError(ErrorId.USER_DEACTIVATED)
    return {"token": state.tokens.issue_auth(user.principal_id, user.org_id, state.settings.login_token_ttl)}


def delegated_registration(call: Call) -> dict[str, Any]:
    """Create the user (no email is sent) and open its registration."""
    state, body = call.state, call.body
    _service_account_only(call)
    require_operation(call, KIND_OPERATIONS[body["kind"]])
    existing = state.world.find_user(call.user.org_id, body["email"])
    if existing is not None:
        if existing.is_registered:
            raise ApiError(ErrorId.USER_EXISTS)
        raise bad_request("a user with email %r already exists: restart their registration with "
                          "POST /auth/registration/delegated/restart" % body["email"])
    kind = PrincipalKind.END_USER if body["kind"] == PrincipalKind.END_USER.value else PrincipalKind.USER
    user = state.world.create_principal(kind, body["email"], call.user.org_id, call.now)
    return registration_challenge(call, user)


def restart_delegated_registration(call: Call) -> dict[str, Any]:
    """A new registration challenge for a user who began registering and never finished."""
    state, body = call.state, call.body
    _service_account_only(call)
    require_operation(call, KIND_OPERATIONS[body["kind"]])
    user = state.world.find_live_user(call.user.org_id, body["email"])
    if user is None:
        raise ApiError(ErrorId.USER_UNKNOWN)
    if user.is_registered:
        raise ApiError(ErrorId.USER_EXISTS)
    if not user.is_active:
        raise ApiError(ErrorId.USER_DEACTIVATED)
    return registration_challenge(call, user)


def _service_account_only(call: Call) -> None:
    """"Service account required": a user holding the operations is still refused (403)."""
    if call.user.kind is not PrincipalKind.SERVICE_ACCOUNT and "forbidden-off" not in call.state.faults:
        principal = call.user
        raise ApiError(ErrorId.FORBIDDEN, principal_kind=principal.kind.value,
                       principal_id=principal.principal_id, operation="Auth:Users:Delegate",
                       org_id=principal.org_id)


def _type_operation(user: Principal) -> str:
    return "Auth:Types:EndUser" if user.kind is PrincipalKind.END_USER else "Auth:Types:Employee"


_DELEGATE = "Auth:Users:Delegate"
_REGISTRATION_FIELDS = (Field("email"), Field("kind", choices=tuple(KIND_OPERATIONS)))

ENDPOINTS = (
    Endpoint(
        "POST",
        "/auth/login/delegated",
        delegated_login,
        operation="Auth:Users:Read",
        more_operations=(_DELEGATE,),
        user_action=True,
        flow_step=True,
        fields=(Field("username"),),
    ),
    Endpoint(
        "POST",
        "/auth/registration/delegated",
        delegated_registration,
        operation="Auth:Users:Create",
        more_operations=(_DELEGATE,),
        user_action=True,
        fields=_REGISTRATION_FIELDS,
    ),
    Endpoint(
        "POST",
        "/auth/registration/delegated/restart",
        restart_delegated_registration,
        operation="Auth:Users:Create",
        more_operations=(_DELEGATE,),
        user_action=True,
        fields=_REGISTRATION_FIELDS,
    ),
)
