"""The permission requests of the 2026 cases: a permission the run creates, assigns, revokes and archives.

The API Errors page of 2026 documents a 409 for "assigning a permission that
is already assigned" and a 403 for a POST, PUT or DELETE without
``X-DFNS-USERACTION``; the permission endpoints (``dfns-docs-2026/endpoints/
permissions.md``) are where one run can provoke both without touching what
the organisation already has. Every permission the run creates carries the
run id in its name (``RecipeContext.name``) and grants one read operation;
its archive, and the revoke of every assignment the run makes, are registered
as undos before the request that needs them leaves (``cleanup.py``).

The three cases share one permission per process (``SharedPermission``, a
quota charges requests: ``shared.py``): its signed creation is the control of
``missing-post`` and the first step of the other two; one assignment of it to
``limitedPrincipalId`` serves ``permission-assigned-twice`` (assigned again:
the 409) and ``missing-delete`` (revoked without, then with a user action).
Their requests are one sequence, sent once in its order by whichever case
asks first (``assignment_sequence``). Its undos run at the session's end only: what
the run's own permission grants is one read, which no other case relies on
not having.
"""

from __future__ import annotations

import secrets as random_source
from collections.abc import Callable
from dataclasses import dataclass
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
    shared: Any

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


def _register(ctx: RecipeContext, undo: Undo, at_the_end: bool) -> None:
    if at_the_end:
        ctx.cleanup.register(undo)
    else:
        _undo_now_and_at_the_end(ctx, undo)


def create_permission(ctx: RecipeContext, body: dict[str, Any], *, sign: bool = True, at_the_end: bool = False
                      ) -> Exchange:
    """Create Permission (``POST /permissions``), its archive registered first: a broken server may create it
    even when the request should have been refused. ``at_the_end``: archived at the session's end only."""
    _register(ctx, ArchivePermission(body["name"]), at_the_end)
    return ctx.principal().request("POST", PERMISSIONS, body, sign=sign)


def assign(ctx: RecipeContext, permission_id: str, identity_id: str, *, sign: bool = True, at_the_end: bool = False
           ) -> Exchange:
    """Assign Permission, with the revoke of every assignment of the identity to it registered first."""
    _register(ctx, RevokeAssignments(permission_id, identity_id), at_the_end)
    return ctx.principal().request("POST", assignments_path(permission_id), {"identityId": identity_id}, sign=sign)


@dataclass
class SharedPermission:
    """The process's permission for the 2026 permission cases: its creation, and the assignment sequence."""

    created: Exchange
    permission_id: str | None


def shared_permission(ctx: RecipeContext) -> SharedPermission:
    """The process's permission, created (signed) by the first case that needs it; archived at the end."""
    def make() -> SharedPermission:
        created = create_permission(ctx, permission_body(ctx), at_the_end=True)
        return SharedPermission(created, id_of(created))

    return ctx.shared.once("permission", make)


@dataclass
class AssignmentSequence:
    """The shared permission assigned to ``limitedPrincipalId`` (control), assigned again (the 409's fault), then
    that assignment revoked without a user action (the 403's fault) and with one (its control). ``None`` for a
    step not sent: the one before it failed, and is the case's answer."""

    assigned: Exchange
    again: Exchange | None = None
    unsigned_revoke: Exchange | None = None
    revoke: Exchange | None = None


def assignment_sequence(ctx: RecipeContext, permission_id: str) -> AssignmentSequence:
    """The sequence both ``permission-assigned-twice`` and ``useraction-missing-or-invalid-missing-delete`` take
    their part of, sent once per process in this order, whichever case asks first: the 409 needs the assignment
    in place, the revoke removes it, and one assignment serves both."""
    def make() -> AssignmentSequence:
        identity = ctx.profile["limitedPrincipalId"]
        sequence = AssignmentSequence(assign(ctx, permission_id, identity, at_the_end=True))
        assignment_id = id_of(sequence.assigned)
        if assignment_id is None:
            return sequence
        sequence.again = assign(ctx, permission_id, identity, at_the_end=True)
        sequence.unsigned_revoke = revoke(ctx, permission_id, assignment_id, sign=False)
        sequence.revoke = revoke(ctx, permission_id, assignment_id)
        return sequence

    return ctx.shared.once(("assignment sequence", permission_id), make)


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
