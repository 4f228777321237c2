"""Helpers more than one endpoint module needs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..credentials import not_authorized
from ..errors import bad_request
from ..pipeline import Call, forbidden
from ..world import Permission


def permission_for(call: Call, permission_id: str | None) -> Permission | None:
    """The named permission, or by default the caller's own.

    The docs say so for applications and service accounts.
    """
    if permission_id is None:
        return call.user.permission
    permission = call.state.world.permissions.get(permission_id)
    if permission is None:
        raise bad_request("permissionId does not name a permission of the org")
    return permission


def claim_once(call: Call, claims: dict[str, Any]) -> None:
    """Spend a challenge or a temporary token (its ``jti``), or answer 401 ``Not Authorized.``.

    The check and the record are one call with no ``await`` around it, made
    after the proof is verified and before the state changes: of concurrent
    uses exactly one passes, and a failed attempt does not spend the value.
    """
    if not call.state.challenges.claim(claims["jti"], datetime.fromtimestamp(claims["exp"], UTC)):
        raise not_authorized()


def require_operation(call: Call, operation: str) -> None:
    """403 unless the caller holds ``operation``: the permissions a request's body or target decide
    (``Auth:Types:EndUser`` when the user is an end user), which no route declares."""
    if "forbidden-off" in call.state.faults or operation in call.user.operations:
        return
    raise forbidden(call.user, operation)
