"""User Management (api-docs/authentication/user-management).

Creating a user "sends" its registration code: the real API emails it, the
reference server puts it in the sandbox mailbox (sandbox.py).
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..validation import Field
from ..world import PrincipalKind


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
    user = call.state.world.find_principal(call.param("userId"))
    if user is None or user.org_id != call.user.org_id:
        raise ApiError(ErrorId.USER_NOT_FOUND)
    return user.to_json()


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
    Endpoint("GET", "/auth/users/{userId}", get_user, operation="Auth:Users:Read"),
)
