"""Helpers more than one endpoint module needs."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..approvals import Approval
from ..credentials import not_authorized
from ..errors import bad_request
from ..pipeline import Call, forbidden
from ..world import Permission

#: List endpoints: "Maximum number of items to return. Default to 50."
DEFAULT_LIMIT, MAX_LIMIT = 50, 100

Item = TypeVar("Item")


def permission_for(call: Call, permission_id: str | None) -> Permission | None:
    """The named permission of the caller's org, or by default the caller's own.

    The docs say so for applications and service accounts.
    """
    if permission_id is None:
        return call.user.permission
    permission = call.state.world.permissions.permission_of(call.user.org_id, permission_id)
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


# -- policies ---------------------------------------------------------------------


def requester(call: Call) -> dict[str, str]:
    """Who made the request, as a transfer or a change request names them."""
    who = {"userId": call.user.principal_id, "tokenId": str(call.claims.get("jti", ""))}
    if call.app is not None:
        who["appId"] = call.app.app_id
    return who


def approval_if_held(call: Call, activity_kind: str, activity: Callable[[], dict[str, Any]]) -> Approval | None:
    """The approval a policy of the caller's org opens for this request, or None when no policy holds it.

    ``activity`` builds what the approval says was asked (``Approval.activity`` without its kind).
    """
    approvals = call.state.world.approvals
    policy = approvals.policy_for(call.user.org_id, activity_kind)
    if policy is None:
        return None
    return approvals.open(policy, call.user.principal_id, {"kind": activity_kind, **activity()}, call.now)


# -- pages ------------------------------------------------------------------------


def page(call: Call, items: list[Item], key: Callable[[Item], str],
         to_json: Callable[[Item], Any]) -> dict[str, Any]:
    """``items`` from the one after ``paginationToken``, at most ``limit``; ``nextPageToken`` if more.

    The token is opaque to the client: here the id of the last item given, base64url-encoded.
    """
    query = call.request.query_params
    limit = _limit(query.get("limit"))
    start = 0
    if "paginationToken" in query:
        after = _decode_token(query["paginationToken"])
        keys: list[Hashable] = [key(item) for item in items]
        if after not in keys:
            raise bad_request("paginationToken is not a token this list returned", "paginationToken")
        start = keys.index(after) + 1
    chosen = items[start:start + limit]
    result: dict[str, Any] = {"items": [to_json(item) for item in chosen]}
    if start + limit < len(items):
        result["nextPageToken"] = base64.urlsafe_b64encode(key(chosen[-1]).encode()).decode()
    return result


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise bad_request("limit must be a whole number from 1 to %d" % MAX_LIMIT, "limit")
    return int(text)


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise bad_request("paginationToken is not a token this list returned", "paginationToken") from None
