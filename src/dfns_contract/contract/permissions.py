"""The permission requests of the 2026 cases: a permission the run creates, assigns, revokes and archives.

The API Errors page of 2026 documents a 409 for "assigning a permission that
is already assigned" and a 403 for a POST, PUT or DELETE without
``X-DFNS-USERACTION``; the permission endpoints (``dfns-docs-2026/endpoints/
permissions.md``) are where one run can provoke both without touching what
the organisation already has. Every permission the run creates carries the
run id in its name (``RecipeContext.name``) and grants one read operation;
its archive, and the revoke of every assignment the run makes, are registered
as undos before the request that needs them leaves (``cleanup.py``), and run
again right after the case.
"""

from __future__ import annotations

import secrets as random_source
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dfns_contract.contract.cleanup import ArchivePermission, Cleanup, RevokeAssignments, Undo
from dfns_contract.contract.profile import Profile

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient, Exchange


class RecipeContext(Protocol):
    """What these requests use of a case's context (``recipes.RecipeContext``, which builds on this module)."""

    profile: Profile
    cleanup: Cleanup
    cleanups: list[Callable[[], object]]

    def principal(self, prefix: str = "") -> DfnsClient: ...

    def name(self, what: str) -> str: ...

PERMISSIONS = "/permissions"
#: What the run's permissions grant: one operation that reads, so an assignment gives nothing away.
SCRATCH_OPERATIONS = ("Wallets:Read",)


def permission_body(ctx: RecipeContext) -> dict[str, Any]:
    """A Create Permission body named for this run (names are unique in an organisation, archived ones too)."""
    return {"name": ctx.name("permission-" + random_source.token_hex(4)), "operations": list(SCRATCH_OPERATIONS)}


def _undo_now_and_at_the_end(ctx: RecipeContext, undo: Undo) -> None:
    """Register ``undo`` for the session (journaled before the change) and run it again right after the case."""
    ctx.cleanup.register(undo)
    client = ctx.cleanup.client
    if client is not None:
        ctx.cleanups.insert(0, lambda: undo.restore(client))  # last registered, first undone, as at the end


def create_permission(ctx: RecipeContext, body: dict[str, Any], *, sign: bool = True) -> Exchange:
    """Create Permission (``POST /permissions``), its archive registered first: a broken server may create it
    even when the request should have been refused."""
    _undo_now_and_at_the_end(ctx, ArchivePermission(body["name"]))
    return ctx.principal().request("POST", PERMISSIONS, body, sign=sign)


def assign(ctx: RecipeContext, permission_id: str, identity_id: str, *, sign: bool = True) -> Exchange:
    """Assign Permission, with the revoke of every assignment of the identity to it registered first."""
    _undo_now_and_at_the_end(ctx, RevokeAssignments(permission_id, identity_id))
    return ctx.principal().request("POST", assignments_path(permission_id), {"identityId": identity_id}, sign=sign)


def revoke(ctx: RecipeContext, permission_id: str, assignment_id: str, *, sign: bool = True) -> Exchange:
    return ctx.principal().request("DELETE", "%s/%s" % (assignments_path(permission_id), assignment_id), sign=sign)


def assignments_path(permission_id: str) -> str:
    return "%s/%s/assignments" % (PERMISSIONS, permission_id)


def id_of(exchange: Exchange) -> str | None:
    """The ``id`` of a 2xx answer's JSON object (a permission, an assignment); None when there is none."""
    if not 200 <= exchange.status < 300:
        return None
    try:
        body = exchange.json
    except ValueError:
        return None
    found = body.get("id") if isinstance(body, dict) else None
    return found if isinstance(found, str) and found else None
