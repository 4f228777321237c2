"""Undo, once at the end of the session, every state change the run made on the target.

What the suite changes: the state (active or not) of ``otherAppId``, which
the user-action, app and forbidden cases activate and deactivate, and, only
on a broken server that lets an app deactivate itself, the state of
``appId``. It creates nothing: no app, user, credential or token a later
reader could mistake for real (``RecipeContext.name`` gives a future recipe
that must create one a name carrying the run id). Nonces and user actions it
spends, and registration challenges it opens, cannot and need not be undone.

Each case registers what it may change *before* changing it; the session
fixture ``dfns_cleanup`` runs the undo actions when the session ends, also
after failures, ``-x`` and Ctrl-C (pytest tears session fixtures down in
every case), and under pytest-xdist in each worker for its own changes.
An undo first reads the state and writes only if it differs. Its problems are
one line each in the run's summary, never a traceback (masked where the lines
leave the process: ``plugin/output.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dfns_contract.client.exchange import EnvironmentFailure
from dfns_contract.client.secrets import remember_received

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient


class CleanupFailed(RuntimeError):
    """An undo action could not restore what it guards."""


@dataclass(frozen=True)
class Undo:
    key: str
    description: str
    action: Callable[[], str]


class Cleanup:
    """The session's undo actions, run once, last registered first."""

    def __init__(self, client: DfnsClient | None = None) -> None:
        # A client of its own: no response audit (a broken server must not stop the cleanup).
        self.client = client.with_identity(client.auth_token, client.signer) if client else None
        if self.client is not None:
            self.client.observers = [remember_received]
        self._undos: dict[str, Undo] = {}
        self._lock = threading.Lock()
        self.ran = False
        self.lines: list[str] = []
        self.failures = 0

    def register(self, key: str, description: str, action: Callable[[], str]) -> None:
        """Queue ``action`` unless an action with this key is already queued."""
        with self._lock:
            if not self.ran:
                self._undos.setdefault(key, Undo(key, description, action))

    def keep_app_active(self, app_id: str, *, label: str = "app", fallback_app_id: str | None = None) -> None:
        """At the end, ``app_id`` must be active: read it, activate it if it is not.

        Requests go out as the profile's app; if that app is the one switched off
        (a broken server let it deactivate itself), as ``fallback_app_id``.
        """
        if self.client is None:
            return
        vias = [self.client.app_id] + ([fallback_app_id] if fallback_app_id else [])
        self.register("app-active:" + app_id, "%s %s is active" % (label, app_id),
                      lambda: _ensure_active(self.client, app_id, [v for v in vias if v]))  # type: ignore[arg-type]

    def keep_other_app_active(self, other_app_id: str) -> None:
        """At the end, the profile's ``otherAppId`` must be active (the cases that switch it call this first).

        Read as ``otherAppId`` itself when ``appId`` is refused: on a server that
        lets an app deactivate itself, another worker's case may have ``appId``
        switched off just when this worker's session ends.
        """
        self.keep_app_active(other_app_id, label="otherAppId", fallback_app_id=other_app_id)

    def run(self) -> list[str]:
        """Run every queued undo once; one line per undo. Never raises (but lets a second Ctrl-C through)."""
        with self._lock:
            if self.ran:
                return self.lines
            self.ran = True
            undos = list(reversed(self._undos.values()))
        for undo in undos:
            try:
                outcome = undo.action()
            except (Exception, EnvironmentFailure) as exc:  # noqa: BLE001 - reported as one line, the run goes on
                self.failures += 1
                first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
                self.lines.append("NOT restored: %s: %s" % (undo.description, first))
            else:
                self.lines.append("%s: %s" % (undo.description, outcome))
        return self.lines


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
            return "already active"
        done = caller.request("PUT", "/auth/apps/%s/activate" % app_id, sign=True)
        if 200 <= done.status < 300:
            return "re-activated"
        problems.append("activate as app %s answered HTTP %d" % (via, done.status))
    raise CleanupFailed("; ".join(problems) or "no app to send the request as")


def run_summary(lines: Sequence[str]) -> str:
    failed = sum("NOT restored" in line for line in lines)  # under xdist a line starts with its worker
    return "%d state change%s undone or checked, %d not restored" % (
        len(lines) - failed, "" if len(lines) - failed == 1 else "s", failed)
