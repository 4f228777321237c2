"""What the ``dfns cleanup`` part of the summary says, for the verbosity it is read at.

The cleanup (``contract/cleanup.py``) makes one line per change it checked:
``otherAppId X: re-activated`` (the run had left it changed, it was put
back), ``otherAppId X: already active`` (found as it should be: the case that
changed it had put it back itself) or ``NOT restored: …`` (left changed, with
what to do by hand). A person needs the last kind whatever the verbosity, the
first to know what the run did, and the second only when something else went
wrong. So a green run that left nothing changed says so in one line, and
``-qq`` shows only what was not restored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from typing import Any

from dfns_contract.contract.cleanup import ALREADY, HELD, LEFT, NOT_RESTORED, PUT_BACK_OUTCOMES, run_summary

TITLE = "dfns cleanup (state the run changed on the target)"
PREFIX = "dfns cleanup: "


@dataclass
class CleanupView:
    """The section's title (None: no section, the lines stand alone) and its lines, with whether each is red."""

    title: str | None = None
    lines: list[tuple[str, bool]] = field(default_factory=list)


def cleanup_view(lines: Sequence[str], *, passed: bool, verbosity: int) -> CleanupView:
    """What to write about the cleanup's ``lines``; ``passed``: the run's exit status is 0 and it was not interrupted."""
    failed = [line for line in lines if NOT_RESTORED in line]
    found = [line for line in lines if line.endswith(": " + ALREADY)]
    if verbosity < -1:
        return CleanupView(TITLE if failed else None, [(line, True) for line in failed] + _failure_lines(failed))
    if not lines and passed:
        return CleanupView()
    if passed and lines and len(found) == len(lines) and verbosity < 1:
        return CleanupView(None, [(PREFIX + "nothing was left changed (%d change%s checked)"
                                   % (len(lines), "" if len(lines) == 1 else "s"), False)])
    shown = [line for line in lines if verbosity >= 0 or line not in found]
    title = TITLE if shown or verbosity >= 0 else None  # -q: a lone summary line needs no section
    return CleanupView(title, [(line, NOT_RESTORED in line) for line in shown]
                       + [(PREFIX + run_summary(lines), bool(failed))] + _failure_lines(failed))


def _failure_lines(failed: list[str]) -> list[tuple[str, bool]]:
    if not failed:
        return []
    return [(PREFIX + "the run fails because %d state change%s not restored; put it back by hand (see above)"
             % (len(failed), " was" if len(failed) == 1 else "s were"), True)]


#: What became of each change, as the JSON and HTML reports name it.
PUT_BACK_WORD, AS_IT_SHOULD_BE, NOT_RESTORED_WORD, IRREVERSIBLE, HELD_WORD = (
    "put back", "found as it should be", "not restored", "created irreversibly", "held for approval")


def outcome_of(line: str) -> str:
    """The class of one cleanup line (``contract/cleanup.py`` writes them)."""
    if NOT_RESTORED in line:
        return NOT_RESTORED_WORD
    if line.endswith(tuple(": " + outcome for outcome in PUT_BACK_OUTCOMES)):
        return PUT_BACK_WORD
    if line.endswith(": " + LEFT):
        return IRREVERSIBLE
    if line.endswith(": " + HELD):
        return HELD_WORD
    return AS_IT_SHOULD_BE


def cleanup_record(lines: Sequence[str]) -> dict[str, Any]:
    """The cleanup section of the JSON and HTML reports: every change the run made, what became of it, the counts."""
    changes = [{"line": line, "outcome": outcome_of(line)} for line in lines]
    counts = {word: 0 for word in (PUT_BACK_WORD, AS_IT_SHOULD_BE, NOT_RESTORED_WORD, IRREVERSIBLE, HELD_WORD)}
    for change in changes:
        counts[change["outcome"]] += 1
    return {"summary": run_summary(lines), "counts": counts, "changes": changes}
