"""User Management (api-docs/authentication/user-management).

Creating a user "sends" its registration code: the real API emails it, the
reference server puts it in the sandbox mailbox (sandbox.py). Activating and
deactivating a user are idempotent, as for applications; archiving is final.
A deactivated user cannot log in or be logged in, and the tokens it holds
stop working (the user-action-signing section says so in its own words).
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..validation import Field
from ..world import Principal, PrincipalKind
from .common import require_operation


def create_user(call: Call) -> dict[str, Any]:
    state, email = call.state, call.body["email"]
    if state.world.find_user(call.user.org_id, email) is not None:
        raise bad_request("a user with email %r already exists in the org" % email)
    # "The user is created without any permissions."
    user = state.world.create_principal(
        PrincipalKind.USER,
        email,
        call.user.org_id,
        call.now,
        external_id=call.body.get("externalId"),
    )
    state.world.send_registration_code(user, call.now + state.settings.registration_code_ttl)
    return user.to_json()


def get_user(call: Call) -> dict[str, Any]:
    if "other-org-user-readable" in call.state.faults:
        found = call.state.world.find_principal(call.param("userId"))
        if found is not None and not found.is_archived:
            return found.to_json()  # the fault: no tenant check
    return _target(call).to_json()


def activate_user(call: Call) -> dict[str, Any]:
    user = _changeable_target(call)
    user.is_active = True
    return user.to_json()


def deactivate_user(call: Call) -> dict[str, Any]:
    user = _changeable_target(call)
    user.is_active = False
    return user.to_json()


def archive_user(call: Call) -> dict[str, Any]:
    user = _changeable_target(call)
    user.is_active, user.is_archived = False, True
    return user.to_json()


def _target(call: Call) -> Principal:
    user = call.state.world.find_principal(call.param("userId"))
    if user is None or user.org_id != call.user.org_id or user.is_archived:
        raise ApiError(ErrorId.USER_NOT_FOUND, details={"userId": call.param("userId"), "orgId": call.user.org_id})
    return user


def _changeable_target(call: Call) -> Principal:
    """The path's user, whose kind the caller may manage (Auth:Types:EndUser or :Employee)."""
    user = _target(call)
    require_operation(call, "Auth:Types:EndUser" if user.kind is PrincipalKind.END_USER
                      else "Auth:Types:Employee")
    if user.principal_id == call.user.principal_id:
        raise bad_request("a user cannot change their own state")
    return user


_ONE, _UPDATE = "/auth/users/{userId}", "Auth:Users:Update"

ENDPOINTS = (
    Endpoint(
        "POST",
        "/auth/users",
        create_user,
        operation="Auth:Users:Create",
        user_action=True,
        fields=(
            Field("email"),
            Field("kind", choices=(PrincipalKind.USER.value,)),
            Field("externalId", required=False, allow_empty=True),
        ),
    ),
    Endpoint("GET", _ONE, get_user, operation="Auth:Users:Read"),
    Endpoint("PUT", _ONE + "/activate", activate_user, operation=_UPDATE, user_action=True),
    Endpoint("PUT", _ONE + "/deactivate", deactivate_user, operation=_UPDATE, user_action=True),
    Endpoint("DELETE", _ONE, archive_user, operation=_UPDATE, user_action=True),
)
