"""Permissions (api-reference/permissions; Archive Permission from the legacy page of October 2024).

Create, get, list and archive permissions; assign one to an identity, list a
permission's assignments, revoke one. Served under every contract version. The
operations required are the pages' (``Permissions:Assign`` and
``Permissions:Revoke`` from today's pages; ``Permissions:Create``,
``Permissions:Read``, ``Permissions:Archive`` and ``Permissions:Assignments:Read``
from the operations they list), and every state-changing request takes a user
action. A permission or assignment of another organisation is as unknown as a
missing one: 404 ``permission not found`` / ``assignment not found`` (the
server's words), whose details name the ids and the caller's org.

Assigning a permission its identity already holds through an active
assignment is 409 (the API Errors page lists the case, no message): the
server's ``permission already assigned to this identity``, ``details`` naming
the existing assignment. Once that assignment is revoked, assigning works again.
An assignment gives its identity the permission's operations at once.

A policy on ``Permissions:Assign`` holds Assign and Revoke, one on
``Permissions:Modify`` holds Archive (approvals.py): the request is checked as
usual (404, 400, 409 come first), then answered 202 with the pending change
request, and nothing changes. Revoke's ``force=true`` "bypasses the approval
process and revokes immediately".
"""

from __future__ import annotations

from typing import Any

from ..approvals import ChangeRequest
from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint, Reply
from ..validation import Field
from ..permission_store import Assignment, Permission
from ..world import Principal, new_id
from .common import approval_if_held, page, requester

# -- permissions ------------------------------------------------------------------


def create_permission(call: Call) -> dict[str, Any]:
    name, world = call.body["name"], call.state.world
    operations = _operations(call.body["operations"])
    if world.permissions.named(call.user.org_id, name) is not None:
        raise bad_request("a permission named %r already exists in the org" % name, "name")
    permission = world.add_permission(Permission(
        new_id("pm"), name, operations, call.user.org_id, date_created=call.now, date_updated=call.now))
    return permission.to_json()


def get_permission(call: Call) -> dict[str, Any]:
    return _with_pending(call, _permission(call).to_json())


def list_permissions(call: Call) -> dict[str, Any]:
    permissions = call.state.world.permissions.permissions_of(call.user.org_id)
    return page(call, permissions, lambda p: p.permission_id,
                lambda p: _with_pending(call, p.to_json()))


def archive_permission(call: Call) -> dict[str, Any] | Reply:
    permission, archived = _permission(call), call.body["isArchived"]
    if permission.is_immutable:
        raise bad_request("a Dfns-managed permission cannot be archived", "permissionId")
    changed = {k: v for k, v in permission.to_json(isArchived=archived).items() if not k.startswith("date")}
    held = _held(call, "Permissions:Modify", "Permission", "Update", permission.permission_id, changed)
    if held is not None:
        return held
    permission.is_archived, permission.date_updated = archived, call.now
    return permission.to_json()


def _permission(call: Call) -> Permission:
    permission_id = call.param("permissionId")
    permission = call.state.world.permissions.permission_of(call.user.org_id, permission_id)
    if permission is None:
        raise ApiError(ErrorId.PERMISSION_NOT_FOUND,
                       details={"permissionId": permission_id, "orgId": call.user.org_id})
    return permission


def _operations(value: list[Any]) -> frozenset[str]:
    """The body's ``operations``: "a permission must have at least one operation specified"."""
    if not value or not all(isinstance(op, str) and op for op in value):
        raise bad_request("operations must be a non-empty list of non-empty strings", "operations")
    return frozenset(value)


# -- assignments ------------------------------------------------------------------


def assign_permission(call: Call) -> dict[str, Any] | Reply:
    permission, world = _permission(call), call.state.world
    if permission.is_archived:
        raise bad_request("an archived permission cannot be assigned", "permissionId")
    identity = _identity(call, call.body["identityId"])
    _not_assigned_yet(call, permission, identity)
    wanted = Assignment(new_id("as"), permission.permission_id, identity.principal_id, permission.org_id,
                        call.now)
    held = _held(call, "Permissions:Assign", "Assignment", "Create", wanted.assignment_id, wanted.change_body())
    if held is not None:
        return held
    return world.assign(permission, identity, call.now).to_json()


def list_assignments(call: Call) -> dict[str, Any]:
    assignments = call.state.world.permissions.assignments_of(_permission(call))
    return page(call, assignments, lambda a: a.assignment_id,
                lambda a: _with_pending(call, a.to_json()))


def revoke_assignment(call: Call) -> dict[str, Any] | Reply:
    assignment = _assignment(call, _permission(call))
    if call.request.query_params.get("force") != "true":
        held = _held(call, "Permissions:Assign", "Assignment", "Delete", assignment.assignment_id,
                     assignment.change_body())
        if held is not None:
            return held
    call.state.world.revoke(assignment)
    return {}  # the page: "200 Success", with no body it names


def _identity(call: Call, identity_id: str) -> Principal:
    """A live user or service account of the caller's org, or 400 naming ``identityId``."""
    identity = call.state.world.find_identity(call.user.org_id, identity_id)
    if identity is None:
        raise bad_request("identityId does not name a user or service account of the org", "identityId")
    return identity


def _not_assigned_yet(call: Call, permission: Permission, identity: Principal) -> None:
    """409 if the identity already holds the permission through an active assignment."""
    existing = call.state.world.permissions.active_assignment(permission, identity.principal_id)
    if existing is None or "permission-reassign-allowed" in call.state.faults:
        return
    raise ApiError(ErrorId.PERMISSION_ALREADY_ASSIGNED, details={
        "assignmentId": existing.assignment_id,
        "permissionId": permission.permission_id,
        "identityId": identity.principal_id,
    })


def _assignment(call: Call, permission: Permission) -> Assignment:
    assignment_id = call.param("assignmentId")
    assignment = call.state.world.permissions.assignment_of(permission, assignment_id)
    if assignment is None:
        raise ApiError(ErrorId.ASSIGNMENT_NOT_FOUND, details={
            "permissionId": permission.permission_id, "assignmentId": assignment_id,
            "orgId": call.user.org_id})
    return assignment


# -- policies ---------------------------------------------------------------------


def _held(call: Call, activity_kind: str, kind: str, operation_kind: str, entity_id: str,
          body: dict[str, Any]) -> Reply | None:
    """202 with the pending change request when a policy holds ``activity_kind``; None otherwise."""
    change = ChangeRequest(new_id("cr"), kind, operation_kind, entity_id, requester(call), body, call.now,
                           approval_id="")
    approval = approval_if_held(call, activity_kind, lambda: {"changeRequest": change.to_json()})
    if approval is None:
        return None
    change.approval_id = approval.approval_id
    approval.activity["changeRequest"] = change.to_json()
    return Reply(call.state.world.approvals.hold(change).to_json(), 202)


def _with_pending(call: Call, entity: dict[str, Any]) -> dict[str, Any]:
    """The entity, with the change request a policy holds for it ("including any pending change request")."""
    pending = call.state.world.approvals.pending_for(entity["id"])
    return {**entity, "pendingChangeRequest": pending.to_json()} if pending is not None else entity


_ALL, _ONE = "/permissions", "/permissions/{permissionId}"
_ASSIGNMENTS = _ONE + "/assignments"

ENDPOINTS = (
    Endpoint(
        "POST",
        _ALL,
        create_permission,
        operation="Permissions:Create",
        user_action=True,
        fields=(Field("name"), Field("operations", list)),
    ),
    Endpoint("GET", _ALL, list_permissions, operation="Permissions:Read"),
    Endpoint("GET", _ONE, get_permission, operation="Permissions:Read"),
    Endpoint(
        "PUT",
        _ONE + "/archive",
        archive_permission,
        operation="Permissions:Archive",
        user_action=True,
        fields=(Field("isArchived", bool),),
    ),
    Endpoint(
        "POST",
        _ASSIGNMENTS,
        assign_permission,
        operation="Permissions:Assign",
        user_action=True,
        fields=(Field("identityId"),),
    ),
    Endpoint("GET", _ASSIGNMENTS, list_assignments, operation="Permissions:Assignments:Read"),
    Endpoint(
        "DELETE",
        _ASSIGNMENTS + "/{assignmentId}",
        revoke_assignment,
        operation="Permissions:Revoke",
        user_action=True,
    ),
)
