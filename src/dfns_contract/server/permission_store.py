"""Permissions (roles) and their assignments (api-reference/permissions), as the reference server keeps them.

Plain in-memory objects, touched only from synchronous handlers, like world.py.
A permission belongs to one organisation; another org's is as unknown as a
missing one. An assignment gives one identity (a user or service account of
the org) a permission's operations until it is revoked, which deletes it (the
Revoke page: "a hard deletion, not an archival"). ``PermissionStore.record``
indexes an assignment by id and by (permission, identity) in one call, so the
handler's "already assigned?" look-up and its record have no ``await`` between.

The seeded principals hold their permission from the start (``Principal.permission``),
not through an assignment this store lists: those permissions are Dfns-managed
(``is_immutable``), like the docs' ``DfnsFullAdminAccess``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..wire.nonce import iso_now


def _date(value: datetime | None) -> str:
    return iso_now(value) if value is not None else ""


@dataclass(eq=False)
class Permission:
    """A named set of operations (a "role"); archived, it is soft-deleted and grants nothing."""

    permission_id: str
    name: str
    operations: frozenset[str]
    org_id: str = ""
    #: System-managed (the seeded ones): it may be assigned and revoked, not archived.
    is_immutable: bool = False
    is_archived: bool = False
    date_created: datetime | None = None
    date_updated: datetime | None = None

    def assignment(self, assignment_id: str = "") -> dict[str, Any]:
        """How a user or an application lists the permission it holds (``permissionAssignments``)."""
        return {
            "permissionId": self.permission_id,
            "permissionName": self.name,
            "assignmentId": assignment_id,
            "operations": sorted(self.operations),
        }

    def to_json(self, **changes: Any) -> dict[str, Any]:
        """The permission object of the Permissions pages; ``changes`` override fields (a pending update)."""
        body = {
            "id": self.permission_id,
            "name": self.name,
            "operations": sorted(self.operations),
            "status": "Active",
            "isImmutable": self.is_immutable,
            "isArchived": self.is_archived,
            "dateCreated": _date(self.date_created),
            "dateUpdated": _date(self.date_updated),
        }
        body.update(changes)
        return body


@dataclass
class Assignment:
    """A permission given to an identity (a user or a service account of the permission's org)."""

    assignment_id: str
    permission_id: str
    identity_id: str
    org_id: str
    date_created: datetime
    is_immutable: bool = False

    def change_body(self) -> dict[str, Any]:
        """What a change request about it carries (the pages' ``body``): the assignment without dates."""
        return {
            "id": self.assignment_id,
            "permissionId": self.permission_id,
            "identityId": self.identity_id,
            "isImmutable": self.is_immutable,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.change_body(),
            "dateCreated": _date(self.date_created),
            "dateUpdated": _date(self.date_created),
        }


class PermissionStore:
    """Every org's permissions and assignments. Lookups return ``None``: the handler chooses the error."""

    def __init__(self) -> None:
        self._permissions: dict[str, Permission] = {}
        self._assignments: dict[str, Assignment] = {}
        self._active: dict[tuple[str, str], Assignment] = {}

    def add(self, permission: Permission) -> Permission:
        self._permissions[permission.permission_id] = permission
        return permission

    def __iter__(self) -> Iterator[Permission]:
        """Every org's permissions, archived ones too."""
        return iter(list(self._permissions.values()))

    def active_assignments(self) -> list[Assignment]:
        """Every assignment not revoked, of any org."""
        return list(self._active.values())

    def get(self, permission_id: str) -> Permission | None:
        """Any org's permission (the caller checks the org)."""
        return self._permissions.get(permission_id)

    def permission_of(self, org_id: str, permission_id: str) -> Permission | None:
        """The permission, if it belongs to ``org_id``; archived ones too (they can be read and unarchived)."""
        permission = self._permissions.get(permission_id)
        return permission if permission is not None and permission.org_id == org_id else None

    def permissions_of(self, org_id: str) -> list[Permission]:
        """The org's permissions, oldest first."""
        return [p for p in self._permissions.values() if p.org_id == org_id]

    def named(self, org_id: str, name: str) -> Permission | None:
        """The org's permission of this name: "If a permission has been archived, its name is still taken"."""
        return next((p for p in self.permissions_of(org_id) if p.name == name), None)

    def assignments_of(self, permission: Permission) -> list[Assignment]:
        """The permission's assignments, oldest first."""
        return [a for a in self._assignments.values() if a.permission_id == permission.permission_id]

    def assignment_of(self, permission: Permission, assignment_id: str) -> Assignment | None:
        assignment = self._assignments.get(assignment_id)
        if assignment is None or assignment.permission_id != permission.permission_id:
            return None
        return assignment

    def active_assignment(self, permission: Permission, identity_id: str) -> Assignment | None:
        """The assignment that gives ``identity_id`` this permission now, if any."""
        return self._active.get((permission.permission_id, identity_id))

    def record(self, assignment: Assignment) -> Assignment:
        """Keep a new assignment; it becomes the identity's active one for its permission."""
        self._assignments[assignment.assignment_id] = assignment
        self._active[(assignment.permission_id, assignment.identity_id)] = assignment
        return assignment

    def remove(self, assignment: Assignment) -> None:
        """Delete the assignment (revoked); another one of the same pair, if any, becomes the active one."""
        self._assignments.pop(assignment.assignment_id, None)
        key = (assignment.permission_id, assignment.identity_id)
        if self._active.get(key) is assignment:
            del self._active[key]
            same = [a for a in self._assignments.values()
                    if (a.permission_id, a.identity_id) == key]
            if same:
                self._active[key] = same[-1]
