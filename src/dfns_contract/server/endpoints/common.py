"""Helpers more than one endpoint module needs."""

from __future__ import annotations

from ..errors import bad_request
from ..pipeline import Call
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
