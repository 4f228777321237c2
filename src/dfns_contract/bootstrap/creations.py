"""What bootstrap created, as undo kinds, and the profile section that records them.

Dfns deletes almost nothing: an app, a user or a service account is archived, a permission archived, a
wallet goes with its key. Each undo here follows ``contract/cleanup.py``'s ``Undo`` protocol (data, not
a closure; it reads first where it can, so running it twice is harmless), and the permission undos are
cleanup's own. Each is written to the profile file *before* the request that creates its resource
leaves (``Ledger.register``), so a bootstrap cut short still leaves a record teardown can act on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dfns_contract.contract.cleanup import (
    NOTHING_FOUND,
    UNDO_KINDS,
    ArchivePermission,
    CleanupFailed,
    RevokeAssignments,
    Undo,
    undo_from_record,
)

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient

#: The profile key under which bootstrap records what it made (schemas/profile.json allows it).
SECTION = "bootstrap"
ARCHIVED, ALREADY_GONE = "archived", "already archived or gone"


@dataclass(frozen=True)
class _ArchiveById:
    """Archive one resource by ``DELETE path``: 404 afterwards means it is already gone (idempotent).

    ``ident`` is empty when the create was registered but its answer never came: then only a person can
    find it, by ``name``.
    """

    kind: ClassVar[str] = ""
    noun: ClassVar[str] = ""
    path: ClassVar[str] = ""
    dashboard: ClassVar[str] = ""
    name: str
    ident: str = ""

    @property
    def key(self) -> str:
        return "%s:%s" % (self.kind, self.name)

    @property
    def description(self) -> str:
        return "%s %s%s" % (self.noun, self.name, " (%s)" % self.ident if self.ident else "")

    @property
    def risk(self) -> str:
        return "may be left active"

    def restore(self, client: DfnsClient | None) -> str:
        if client is None:
            raise CleanupFailed("no client of the admin principal to send the requests with")
        if not self.ident:
            raise CleanupFailed("its id is unknown (bootstrap stopped before the answer came)")
        done = client.request("DELETE", self.path % self.ident, sign=True)
        if done.status == 404:
            return ALREADY_GONE
        if 200 <= done.status < 300:
            return ARCHIVED
        raise CleanupFailed("DELETE answered HTTP %d" % done.status)

    def by_hand(self, base_url: str) -> str:
        where = self.path % (self.ident or "{its id}")
        return "archive it with DELETE %s%s (signed with a user action), or in the dashboard (%s), by its name %s" % (
            base_url.rstrip("/"), where, self.dashboard, self.name)

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "id": self.ident}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> _ArchiveById:
        return cls(str(record["name"]), str(record.get("id") or ""))


@dataclass(frozen=True)
class ArchiveApp(_ArchiveById):
    kind: ClassVar[str] = "archive-app"
    noun: ClassVar[str] = "application"
    path: ClassVar[str] = "/auth/apps/%s"
    dashboard: ClassVar[str] = "Settings > Applications"


@dataclass(frozen=True)
class ArchiveUser(_ArchiveById):
    kind: ClassVar[str] = "archive-user"
    noun: ClassVar[str] = "user"
    path: ClassVar[str] = "/auth/users/%s"
    dashboard: ClassVar[str] = "Settings > Users"


@dataclass(frozen=True)
class ArchiveServiceAccount(_ArchiveById):
    kind: ClassVar[str] = "archive-service-account"
    noun: ClassVar[str] = "service account"
    path: ClassVar[str] = "/auth/service-accounts/%s"
    dashboard: ClassVar[str] = "Settings > Service Accounts"


@dataclass(frozen=True)
class DeleteWalletKey(_ArchiveById):
    """A wallet has no delete of its own; ``DELETE /keys/{keyId}`` "deletes the key and all wallets using this
    key" (dfns-docs-2026 lifecycle page). ``ident`` is the key's id (the wallet's ``signingKey.id``)."""

    kind: ClassVar[str] = "delete-wallet-key"
    noun: ClassVar[str] = "wallet"
    path: ClassVar[str] = "/keys/%s"
    dashboard: ClassVar[str] = "Wallets"

    @property
    def description(self) -> str:
        return "wallet %s%s" % (self.name, " (key %s)" % self.ident if self.ident else "")

    @property
    def risk(self) -> str:
        return "may be left in use"


#: Every undo a bootstrap section may hold: cleanup's (permissions) and this module's.
BOOTSTRAP_UNDO_KINDS: dict[str, type[Undo]] = {
    **UNDO_KINDS,
    **{kind.kind: kind for kind in (ArchiveApp, ArchiveUser, ArchiveServiceAccount, DeleteWalletKey)},
}

__all__ = ["ArchivePermission", "RevokeAssignments", "NOTHING_FOUND"]


def undo_of(record: dict[str, Any]) -> Undo:
    """The undo a section entry holds; ValueError for one no kind knows."""
    return undo_from_record(record, BOOTSTRAP_UNDO_KINDS)


class Ledger:
    """The profile being written, with its ``bootstrap`` section: on disk after every change.

    The file holds secrets (tokens, private keys): it is created readable by its owner only.
    """

    def __init__(self, out: Path, profile: dict[str, Any], section: dict[str, Any]) -> None:
        self.out = out
        self.profile = profile
        self.section = section
        self.profile[SECTION] = section
        section.setdefault("created", [])

    def register(self, undo: Undo) -> int:
        """Record ``undo`` before the request that needs it leaves; its index, to fill in the id later."""
        self.section["created"].append(undo.to_record())
        self.save()
        return len(self.section["created"]) - 1

    def created(self, index: int, undo: Undo) -> None:
        """The resource exists: its record now holds its id."""
        self.section["created"][index] = undo.to_record()
        self.save()

    def set(self, **values: Any) -> None:
        self.profile.update({key: value for key, value in values.items() if value is not None})
        self.save()

    def save(self) -> None:
        text = json.dumps(self.profile, indent=2) + "\n"
        temporary = self.out.with_name(self.out.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, self.out)
