"""Undo, once at the end of the session, every state change the run made on the target.

What the suite changes: the state (active or not) of ``otherAppId``, which
the user-action, app and forbidden cases activate and deactivate, and, only
on a broken server that lets an app deactivate itself, the state of
``appId``; under the extended edit of the errors page, the state of the
profile's ``endUserId``, which a user-action-signing case deactivates
(``KeepUserActive``). Under the pages' versions it creates nothing; under
contract 2026 one case creates a transfer request, which nothing can undo: it
is registered first as ``LeftAsCreated`` (named by its ``externalId``, which
carries the run id, ``RecipeContext.name``), so the cleanup section says so. Nonces and user actions it
spends, and registration challenges it opens, cannot and need not be undone.

Each case registers what it may change *before* changing it, and the
registration is written to the run's journal (``journal.py``) before the
request leaves, so the change can be undone by another process if this one
is stopped. The session fixture ``dfns_cleanup`` runs the undo actions when
the session ends; the controller then undoes whatever no process confirmed
(``plugin/restore.py``). An undo is data (``KeepAppActive``), not a closure,
for that reason (``KeepUserActive`` for a user). It first reads the state and writes only if it differs, so
running it twice is harmless. Its problems are one line each in the run's
summary, with what to do by hand, never a traceback.

Who undoes what (docs/shared-environments.md): an undo is ``shared`` when it
guards state every process of the run, and every run against the target,
uses (an app or user the profile names); otherwise it is the run's own (named
by its run id, or only a line). A pytest-xdist worker undoes its own at its
session end but hands a shared one to the controller (``Cleanup(defer_shared=True)``):
another worker's case may hold that state on purpose, and only the controller
knows when no process of the run is left to rely on it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from dfns_contract.client.exchange import EnvironmentFailure
from dfns_contract.client.secrets import remember_received

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient
    from dfns_contract.contract.journal import Journal

NOT_RESTORED = "NOT restored"
ALREADY = "already active"
PUT_BACK = "re-activated"
LEFT = "created by the run, which nothing can undo (left as is)"
HELD = "left pending: a person approves or rejects it"
ARCHIVED, REVOKED = "archived", "revoked"
#: The outcomes of an undo that changed the target back.
PUT_BACK_OUTCOMES = (PUT_BACK, ARCHIVED, REVOKED)
NOTHING_FOUND = "not found: nothing to undo"
#: Pages of a listing an undo reads to find what the run made (newest first on Dfns).
LISTED_PAGES = 20


class CleanupFailed(RuntimeError):
    """An undo action could not restore what it guards."""


class Undo(Protocol):
    """What puts one piece of state back."""

    #: Whether it guards state other processes and runs rely on too (a profile's app or user), not the run's own.
    shared: ClassVar[bool]

    @property
    def key(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def risk(self) -> str:
        """What may be wrong with it when the undo failed ("may be left inactive")."""

    def restore(self, client: DfnsClient | None) -> str:
        """Put it back (or find it as it should be); the outcome in a few words. Raises when it cannot."""

    def by_hand(self, base_url: str) -> str:
        """What a person does to put it back when the run could not."""

    def to_record(self) -> dict[str, Any]:
        """The undo as data, for the journal."""


@dataclass(frozen=True)
class KeepAppActive:
    """At the end, the app must be active: read it, activate it if it is not.

    Requests go out as the profile's app; if that app is the one switched off
    (a broken server let it deactivate itself), as ``fallback_app_id``.
    """

    kind: ClassVar[str] = "app-active"
    shared: ClassVar[bool] = True
    app_id: str
    label: str = "app"
    fallback_app_id: str | None = None

    @property
    def key(self) -> str:
        return "app-active:" + self.app_id

    @property
    def description(self) -> str:
        return "%s %s" % (self.label, self.app_id)

    @property
    def risk(self) -> str:
        return "may be left inactive"

    def restore(self, client: DfnsClient | None) -> str:
        if client is None:
            raise CleanupFailed("no client of the profile's principal to send the requests with")
        vias = [via for via in (client.app_id, self.fallback_app_id) if via]
        return _ensure_active(client, self.app_id, list(dict.fromkeys(vias)))

    def by_hand(self, base_url: str) -> str:
        return ("activate it with PUT %s/auth/apps/%s/activate (signed with a user action), "
                "or in the dashboard (Settings > Applications)" % (base_url.rstrip("/"), self.app_id))

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "appId": self.app_id, "label": self.label, "fallbackAppId": self.fallback_app_id}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> KeepAppActive:
        return cls(str(record["appId"]), str(record.get("label") or "app"), record.get("fallbackAppId"))


@dataclass(frozen=True)
class KeepUserActive:
    """At the end, the user must be active: read it, activate it if it is not.

    The user-action-signing case deactivates the profile's ``endUserId`` to
    show that its token is then refused; requests go out as the profile's
    principal (``authToken``), which must hold ``Auth:Users:Read`` and ``Auth:Users:Update``.
    """

    kind: ClassVar[str] = "user-active"
    shared: ClassVar[bool] = True
    user_id: str
    label: str = "user"

    @property
    def key(self) -> str:
        return "user-active:" + self.user_id

    @property
    def description(self) -> str:
        return "%s %s" % (self.label, self.user_id)

    @property
    def risk(self) -> str:
        return "may be left deactivated"

    def restore(self, client: DfnsClient | None) -> str:
        if client is None:
            raise CleanupFailed("no client of the profile's principal to send the requests with")
        path = "/auth/users/" + self.user_id
        got = client.request("GET", path)
        if got.status != 200:
            raise CleanupFailed("GET %s answered HTTP %d" % (path, got.status))
        try:
            active = got.json.get("isActive")
        except (ValueError, AttributeError):
            active = None
        if active is True:
            return ALREADY
        done = client.request("PUT", path + "/activate", sign=True)
        if 200 <= done.status < 300:
            return PUT_BACK
        raise CleanupFailed("activate answered HTTP %d" % done.status)

    def by_hand(self, base_url: str) -> str:
        return ("activate it with PUT %s/auth/users/%s/activate (signed with a user action), "
                "or in the dashboard (Settings > Users)" % (base_url.rstrip("/"), self.user_id))

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "userId": self.user_id, "label": self.label}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> KeepUserActive:
        return cls(str(record["userId"]), str(record.get("label") or "user"))


@dataclass(frozen=True)
class LeftAsCreated:
    """Something the run created that nothing can undo (contract 2026's transfer request): no request at the
    end, but a line in the cleanup section, registered before it is created, so a person knows it exists."""

    kind: ClassVar[str] = "created"
    shared: ClassVar[bool] = False
    #: What the line says of it, and what a person does about it.
    risk: ClassVar[str] = "was created"
    outcome: ClassVar[str] = LEFT
    advice: ClassVar[str] = "nothing can: find it in the dashboard by its externalId"
    what: str

    @property
    def key(self) -> str:
        return "%s:%s" % (self.kind, self.what)

    @property
    def description(self) -> str:
        return self.what

    def restore(self, client: DfnsClient | None) -> str:
        return self.outcome

    def by_hand(self, base_url: str) -> str:
        return self.advice

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> LeftAsCreated:
        return cls(str(record["what"]))


@dataclass(frozen=True)
class LeftPending(LeftAsCreated):
    """A request of the run that a policy holds for approval (202): nothing happened, and nothing the run may do
    decides it, so the cleanup names it (``what``: the operation and the approval it waits on)."""

    kind: ClassVar[str] = "pending"
    risk: ClassVar[str] = "waits for approval"
    outcome: ClassVar[str] = HELD
    advice: ClassVar[str] = "approve or reject it in the dashboard (Approvals) or with the policy approvals API"


#: Listings read during one pass of ``Cleanup.run``, by path: several archives of the run's permissions each look
#: for their own name in the same ``GET /permissions`` (a quota charges each read), and archiving one permission
#: changes no other's entry. None outside a pass.
_PASS_LISTINGS: contextvars.ContextVar[dict[str, list[dict[str, Any]]] | None] = contextvars.ContextVar(
    "dfns_cleanup_listings", default=None)


def _listed(client: DfnsClient, path: str) -> list[dict[str, Any]]:
    """The items of a paged Dfns listing (``{items, nextPageToken}``), at most ``LISTED_PAGES`` pages; read once
    per cleanup pass."""
    cache = _PASS_LISTINGS.get()
    if cache is not None and path in cache:
        return cache[path]
    items = _read_listing(client, path)
    if cache is not None:
        cache[path] = items
    return items


def _read_listing(client: DfnsClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    for _ in range(LISTED_PAGES):
        got = client.request("GET", path + ("?paginationToken=%s" % token if token else ""))
        if got.status != 200:
            raise CleanupFailed("GET %s answered HTTP %d" % (path, got.status))
        try:
            body = got.json
            items += [item for item in body["items"] if isinstance(item, dict)]
            token = body.get("nextPageToken")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CleanupFailed("GET %s answered no {items} listing" % path) from None
        if not token:
            break
    return items


@dataclass(frozen=True)
class ArchivePermission:
    """At the end, the permission the run created under ``name`` is archived (Dfns' soft delete; names stay
    taken, so each run's carries the run id). Found by name: registered before the create, it has no id yet."""

    kind: ClassVar[str] = "archive-permission"
    shared: ClassVar[bool] = False  # its name carries the run id and the worker
    name: str

    @property
    def key(self) -> str:
        return "archive-permission:" + self.name

    @property
    def description(self) -> str:
        return "permission %s" % self.name

    @property
    def risk(self) -> str:
        return "may be left active"

    def restore(self, client: DfnsClient | None) -> str:
        if client is None:
            raise CleanupFailed("no client of the profile's principal to send the requests with")
        found = [item for item in _listed(client, "/permissions") if item.get("name") == self.name]
        if not found:
            return NOTHING_FOUND
        if all(item.get("isArchived") is True for item in found):
            return "already archived"
        for item in found:
            done = client.request("PUT", "/permissions/%s/archive" % item.get("id"), {"isArchived": True}, sign=True)
            if not 200 <= done.status < 300:
                raise CleanupFailed("archive answered HTTP %d" % done.status)
        return ARCHIVED

    def by_hand(self, base_url: str) -> str:
        return ("archive it with PUT %s/permissions/{its id}/archive {\"isArchived\": true} (signed with a user "
                "action), or in the dashboard (Settings > Roles)" % base_url.rstrip("/"))

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ArchivePermission:
        return cls(str(record["name"]))


@dataclass(frozen=True)
class RevokeAssignments:
    """At the end, ``identity_id`` holds no assignment of ``permission_id`` (the run's own permission)."""

    kind: ClassVar[str] = "revoke-assignments"
    shared: ClassVar[bool] = False  # assignments of the run's own permission
    permission_id: str
    identity_id: str

    @property
    def key(self) -> str:
        return "revoke-assignments:%s:%s" % (self.permission_id, self.identity_id)

    @property
    def description(self) -> str:
        return "assignment of permission %s to %s" % (self.permission_id, self.identity_id)

    @property
    def risk(self) -> str:
        return "may be left assigned"

    def restore(self, client: DfnsClient | None) -> str:
        if client is None:
            raise CleanupFailed("no client of the profile's principal to send the requests with")
        path = "/permissions/%s/assignments" % self.permission_id
        held = [item for item in _listed(client, path) if item.get("identityId") == self.identity_id]
        if not held:
            return NOTHING_FOUND
        for item in held:
            done = client.request("DELETE", "%s/%s" % (path, item.get("id")), sign=True)
            if not 200 <= done.status < 300 and done.status != 404:  # 404: revoked meanwhile
                raise CleanupFailed("revoke answered HTTP %d" % done.status)
        return REVOKED

    def by_hand(self, base_url: str) -> str:
        return ("revoke it with DELETE %s/permissions/%s/assignments/{its id} (signed with a user action), or in "
                "the dashboard (Settings > Roles)" % (base_url.rstrip("/"), self.permission_id))

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "permissionId": self.permission_id, "identityId": self.identity_id}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RevokeAssignments:
        return cls(str(record["permissionId"]), str(record["identityId"]))


#: Every kind of undo the journal may hold.
UNDO_KINDS: dict[str, type[Undo]] = {
    ArchivePermission.kind: ArchivePermission,
    RevokeAssignments.kind: RevokeAssignments,
    KeepAppActive.kind: KeepAppActive,
    KeepUserActive.kind: KeepUserActive,
    LeftAsCreated.kind: LeftAsCreated,
    LeftPending.kind: LeftPending,
}


def undo_from_record(record: dict[str, Any], kinds: Mapping[str, type[Undo]] | None = None) -> Undo:
    """An undo read back from the journal (or another record of undos, with its ``kinds``); ValueError for a
    record no kind knows."""
    kind = (UNDO_KINDS if kinds is None else kinds).get(str(record.get("kind")))
    if kind is None:
        raise ValueError("unknown kind of undo %r" % record.get("kind"))
    try:
        return kind.from_record(record)
    except (KeyError, TypeError) as exc:
        raise ValueError("malformed undo %r: %s" % (record, exc)) from None


class Cleanup:
    """The session's undo actions, run once, last registered first."""

    def __init__(self, client: DfnsClient | None = None, journal: Journal | None = None, *,
                 defer_shared: bool = False) -> None:
        """``defer_shared``: a pytest-xdist worker whose journal the controller reads; it leaves each shared
        undo to the controller (journaled ``deferred``) instead of running it at its own session end."""
        # A client of its own: no response audit (a broken server must not stop the cleanup).
        self.client = client.with_identity(client.auth_token, client.signer) if client else None
        if self.client is not None:
            self.client.observers = [remember_received]
        self.journal = journal
        self.defer_shared = defer_shared and journal is not None
        #: The keys of the shared undos handed to the controller by ``run``.
        self.deferred: list[str] = []
        self._undos: dict[str, Undo] = {}
        self._lock = threading.Lock()
        self.ran = False
        self.lines: list[str] = []
        #: Each undo's line, by its key.
        self.outcomes: dict[str, str] = {}
        self.failures = 0

    def register(self, undo: Undo) -> None:
        """Queue ``undo`` (once per key), written to the journal before the caller changes anything."""
        with self._lock:
            if self.ran or undo.key in self._undos:
                return
            if self.journal is not None:
                self.journal.registered(undo.key, undo.to_record())
            self._undos[undo.key] = undo

    def keep_app_active(self, app_id: str, *, label: str = "app", fallback_app_id: str | None = None) -> None:
        """At the end, ``app_id`` must be active."""
        if self.client is not None:
            self.register(KeepAppActive(app_id, label, fallback_app_id))

    def keep_other_app_active(self, other_app_id: str) -> None:
        """At the end, the profile's ``otherAppId`` must be active (the cases that switch it call this first).

        Read as ``otherAppId`` itself when ``appId`` is refused: on a server that
        lets an app deactivate itself, another worker's case may have ``appId``
        switched off just when this worker's session ends.
        """
        self.keep_app_active(other_app_id, label="otherAppId", fallback_app_id=other_app_id)

    def keep_user_active(self, user_id: str, *, label: str = "user") -> None:
        """At the end, ``user_id`` must be active (a case that deactivates a user calls this first)."""
        if self.client is not None:
            self.register(KeepUserActive(user_id, label))

    def created(self, what: str) -> None:
        """Call before creating what cannot be undone (``what``: how a person finds it): the cleanup names it."""
        self.register(LeftAsCreated(what))

    def held(self, what: str) -> None:
        """A request a policy holds for approval (``PolicyPending.what``): the cleanup names it."""
        self.register(LeftPending(what))

    def run(self) -> list[str]:
        """Run every queued undo once; one line per undo. Never raises.

        With ``defer_shared``, a shared undo gets no line here: it is journaled
        as handed over, and the controller's line stands for it.

        A Ctrl-C while it runs stops it: the undo under way and those after it
        are reported as not restored, with what to do by hand, and the journal
        keeps them pending for the controller.
        """
        with self._lock:
            if self.ran:
                return self.lines
            self.ran = True
            undos = list(reversed(self._undos.values()))
        if self.defer_shared:
            handed = [undo for undo in undos if is_shared(undo)]
            undos = [undo for undo in undos if not is_shared(undo)]
            for undo in handed:
                assert self.journal is not None
                self.journal.deferred(undo.key)
                self.deferred.append(undo.key)
        interrupted = False
        listings = _PASS_LISTINGS.set({})
        try:
            for undo in undos:
                line, restored, interrupted = self._undo(undo, interrupted)
                self._finished(undo, line, restored)
        finally:
            _PASS_LISTINGS.reset(listings)
        return self.lines

    def _finished(self, undo: Undo, line: str, restored: bool) -> None:
        self.failures += not restored
        self.lines.append(line)
        self.outcomes[undo.key] = line
        if self.journal is not None:
            self.journal.finished(undo.key, line, restored=restored)

    def _undo(self, undo: Undo, interrupted: bool) -> tuple[str, bool, bool]:
        """The undo's line, whether the state is as it should be, and whether a Ctrl-C has stopped the cleanup."""
        base_url = self.client.base_url if self.client is not None else "<the target>"
        if interrupted:
            return not_restored(undo, "not checked: the cleanup was interrupted (Ctrl-C)", base_url), False, True
        try:
            outcome = undo.restore(self.client)
        except KeyboardInterrupt:
            return not_restored(undo, "interrupted (Ctrl-C) while it was being checked", base_url), False, True
        except (Exception, EnvironmentFailure) as exc:  # noqa: BLE001 - reported as one line, the run goes on
            why = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            return not_restored(undo, why, base_url), False, False
        return "%s: %s" % (undo.description, outcome), True, False


def is_shared(undo: Undo) -> bool:
    """Whether ``undo`` guards state other processes and runs rely on (an undo kind without the flag: the run's own)."""
    return getattr(undo, "shared", False) is True


def not_restored(undo: Undo, why: str, base_url: str) -> str:
    """The line of an undo that failed: what, why, and how to put it back by hand."""
    return "%s: %s %s: %s; to put it back, %s" % (NOT_RESTORED, undo.description, undo.risk, why, undo.by_hand(base_url))


def _ensure_active(client: DfnsClient, app_id: str, vias: Sequence[str]) -> str:
    problems = []
    for via in vias:
        caller = client.with_identity(client.auth_token, client.signer, app_id=via)
        caller.observers = client.observers
        if via != client.app_id:
            caller.app_origin = None  # another app's origin is unknown; origin is optional in client data
        got = caller.request("GET", "/auth/apps/" + app_id)
        if got.status != 200:
            problems.append("GET as app %s answered HTTP %d" % (via, got.status))
            continue
        try:
            active = got.json.get("isActive")
        except (ValueError, AttributeError):
            active = None
        if active is True:
            return ALREADY
        done = caller.request("PUT", "/auth/apps/%s/activate" % app_id, sign=True)
        if 200 <= done.status < 300:
            return PUT_BACK
        problems.append("activate as app %s answered HTTP %d" % (via, done.status))
    raise CleanupFailed("; ".join(problems) or "no app to send the request as")


def run_summary(lines: Sequence[str]) -> str:
    """One line: how many changes were checked and what became of them."""
    if not lines:
        return "nothing to undo: no case changed state on the target"
    failed = sum(NOT_RESTORED in line for line in lines)
    put_back = sum(line.endswith(tuple(": " + outcome for outcome in PUT_BACK_OUTCOMES)) for line in lines)
    left = sum(line.endswith(": " + LEFT) for line in lines)
    held = sum(line.endswith(": " + HELD) for line in lines)
    return "%d change%s checked: %d put back, %d found as it should be, %d not restored%s%s" % (
        len(lines), "" if len(lines) == 1 else "s", put_back, len(lines) - failed - put_back - left - held, failed,
        ", %d created that cannot be undone" % left if left else "",
        ", %d held for approval by a policy" % held if held else "")
