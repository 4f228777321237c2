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

from dfns_contract.contract.cleanup import ALREADY, NOT_RESTORED, run_summary

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
