"""The run's journal of state changes: written before each change, read once the run is over.

Undoing at the end of the session in the process that made a change is not
enough: a Ctrl-C sent to the whole process group, a SIGTERM from a CI runner
or a crashed pytest-xdist worker ends that process before (or while) it
undoes anything, and pytest-xdist's controller stops listening to its workers
the moment it is interrupted. So each process appends, *before* a change is
sent, what would undo it, and, once undone, the outcome; the line is on disk
(flushed and fsynced) before the request leaves. The controller reads every
process's file when the workers are gone and undoes what no process confirmed
(``plugin/restore.py``).

A worker of the run also hands over, unrestored, each change to state that
other processes share (``Undo.shared``: an app or user the profile names):
it writes ``deferred`` instead of undoing it, because another worker's case
may still hold that state on purpose. The controller restores it once every
worker is down, when no process of the run relies on it any more.

One file per process (``<process>.jsonl``, JSON lines) in a folder the
controller creates, so no two processes ever write to the same file. What is
written is masked by the writer (the controller does not know the secrets a
worker received). Nothing here talks to the target.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGISTERED = "registered"
FINISHED = "finished"
DEFERRED = "deferred"


class Journal:
    """The append-only journal of one process."""

    def __init__(self, directory: Path, process: str, mask: Callable[[str], str] = str) -> None:
        self.path = Path(directory) / ("%s.jsonl" % process)
        self.process = process
        self._mask = mask

    def registered(self, key: str, undo: dict[str, Any]) -> None:
        """Before the change: what undoes it (data, not code: another process must be able to do it)."""
        self._append({"event": REGISTERED, "key": key, "undo": undo})

    def finished(self, key: str, line: str, *, restored: bool) -> None:
        """After this process's undo: its line for the summary, and whether the state is as it was."""
        self._append({"event": FINISHED, "key": key, "line": self._mask(line), "restored": restored})

    def deferred(self, key: str) -> None:
        """Instead of the undo: shared state this process leaves to the controller (another process may rely on it)."""
        self._append({"event": DEFERRED, "key": key})

    def _append(self, entry: dict[str, Any]) -> None:
        data = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Change:
    """One state change a process registered, and what became of its undo."""

    process: str
    key: str
    undo: dict[str, Any]
    line: str | None = None
    restored: bool = False
    #: Handed to the controller by its process (shared state), not left behind by a stopped one.
    deferred: bool = False


@dataclass
class JournalState:
    """Every process's changes, in the order each registered them."""

    changes: list[Change] = field(default_factory=list)

    def pending(self) -> list[Change]:
        """Changes no process confirmed undone: handed over (shared state), or their process was stopped, crashed
        or failed to undo them."""
        return [change for change in self.changes if not change.restored]

    def confirmed(self) -> list[Change]:
        return [change for change in self.changes if change.restored]


def read_journal(directory: Path) -> JournalState:
    """Every process's file in ``directory``; a line cut short by a killed process is ignored."""
    state = JournalState()
    for path in sorted(Path(directory).glob("*.jsonl")):
        process = path.stem
        by_key: dict[str, Change] = {}
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            key = str(entry.get("key"))
            if entry.get("event") == REGISTERED and key not in by_key and isinstance(entry.get("undo"), dict):
                by_key[key] = change = Change(process, key, entry["undo"])
                state.changes.append(change)
            elif entry.get("event") == FINISHED and key in by_key:
                by_key[key].line = str(entry.get("line"))
                by_key[key].restored = entry.get("restored") is True
            elif entry.get("event") == DEFERRED and key in by_key:
                by_key[key].deferred = True
    return state
