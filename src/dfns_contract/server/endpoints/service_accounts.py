"""Service Account Management (api-docs/authentication/service-account-management).

A service account is a principal of kind ``ServiceAccount`` with one Key
credential (the public key it was created with) and a long-lived token. Its
credential id is returned as ``accessTokens[0].credId`` (the docs' example
shows an empty string), since that is the id it signs user actions with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ...wire import keys
from ...wire.nonce import iso_now
from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..validation import Field
from ..world import PrincipalKind, new_cred_id, new_id
from .common import permission_for


def create_service_account(call: Call) -> dict[str, Any]:
    state, body = call.state, call.body
    name, pem = body["name"], body["publicKey"]
    max_days = state.settings.service_account_max_days
    days = body.get("daysValid", max_days)
    if not 1 <= days <= max_days:
        raise bad_request("daysValid must be between 1 and %d" % max_days)
    try:
        public_key = keys.load_public_key(pem)
    except keys.UnsupportedKey as exc:
        raise bad_request("publicKey: %s" % exc) from None
    if state.world.find_user(call.user.org_id, name) is not None:
        raise bad_request("a service account or user named %r already exists in the org" % name)
    permission = permission_for(call, body.get("permissionId"))
    account = state.world.create_principal(
        PrincipalKind.SERVICE_ACCOUNT,
        name,
        call.user.org_id,
        call.now,
        permission,
        body.get("externalId"),
    )
    account.is_registered = True
    credential = state.world.add_credential(account, new_cred_id(), pem, public_key)
    token = state.tokens.issue_auth(account.principal_id, account.org_id, timedelta(days=days))
    user_info = account.to_json()
    return {
        "userInfo": user_info,
        "accessTokens": [
            {
                "accessToken": token,
                "dateCreated": iso_now(call.now),
                "credId": credential.cred_id,
                "isActive": True,
                "kind": PrincipalKind.USER.value,
                "linkedUserId": account.principal_id,
                "linkedAppId": "",
                "name": name,
                "orgId": account.org_id,
                "permissionAssignments": user_info["permissionAssignments"],
                "publicKey": "",
                "tokenId": new_id("to"),
            }
        ],
    }


def archive_service_account(call: Call) -> dict[str, Any]:
    """Archive Service Account: final, like archiving a user; its token stops working with it."""
    account = call.state.world.find_principal(call.param("serviceAccountId"))
    if (account is None or account.org_id != call.user.org_id or account.is_archived
            or account.kind is not PrincipalKind.SERVICE_ACCOUNT):
        raise ApiError(ErrorId.USER_NOT_FOUND, details={"serviceAccountId": call.param("serviceAccountId"),
                                                        "orgId": call.user.org_id})
    account.is_active, account.is_archived = False, True
    return {"userInfo": account.to_json(), "accessTokens": []}


ENDPOINTS = (
    # The docs require Auth:Apps:Create here (sic), not a service-account operation.
    Endpoint(
        "POST",
        "/auth/service-accounts",
        create_service_account,
        operation="Auth:Apps:Create",
        user_action=True,
        fields=(
            Field("name"),
            Field("publicKey"),
            Field("daysValid", int, required=False),
            Field("permissionId", required=False),
            Field("externalId", required=False, allow_empty=True),
        ),
    ),
    # Archive Service Account: Auth:Apps:Update and Auth:Types:ServiceAccount, "Always Required".
    Endpoint("DELETE", "/auth/service-accounts/{serviceAccountId}", archive_service_account,
             operation="Auth:Apps:Update", more_operations=("Auth:Types:ServiceAccount",), user_action=True),
)
