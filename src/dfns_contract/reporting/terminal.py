"""The end-of-run table: every documented error, grouped by the page's sections, with its verdict.

Writes through any object with the terminal reporter's ``section``,
``write`` and ``write_line`` (the plugin hands it a masking one).
"""

from __future__ import annotations

from typing import Protocol

from dfns_contract.reporting.drift import NOT_COVERED, STALE, Drift
from dfns_contract.reporting.verdicts import (
    ERROR,
    FAILED,
    INCOMPLETE,
    NOT_PROVOKED,
    NOT_VERIFIED,
    PARTIAL,
    PASSED,
    PASSING,
    RUN_FAILED,
    VERIFIED,
    Row,
    short,
    totals,
    unverified,
)

TITLE = "documented errors (getting-started/errors.md)"
WORD_MEANING = {
    PASSED: ": every documented error verified (the 500 entry: verified or not provoked)",
    INCOMPLETE: ": no contract failure, but not every documented error was verified (see above)",
    RUN_FAILED: ": the contract is broken (see FAILED above)",
}


class Writer(Protocol):
    def section(self, title: str, **markup: bool) -> None: ...
    def write(self, text: str, **markup: bool) -> None: ...
    def write_line(self, text: str, **markup: bool) -> None: ...


def write_table(out: Writer, rows: list[Row], drift: Drift | None, *, require_all: bool, strict_drift: bool,
                word: str | None = None, target: str | None = None) -> None:
    """The table, its totals, why the gates (``--dfns-require-all``, ``--dfns-strict-drift``) fail the run, and its word."""
    out.section(TITLE)
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            out.write_line(section, bold=True)
        markup = {"green": row.verdict in PASSING, "red": row.verdict in (FAILED, ERROR),
                  "yellow": row.verdict in (NOT_VERIFIED, PARTIAL, NOT_COVERED, STALE)}
        out.write("  %-19s" % (row.verdict.upper() if row.verdict in (FAILED, ERROR) else row.verdict), **markup)
        message = short('"%s"' % row.message, 42) if row.message else "(no message documented)"
        out.write_line("%d %-38s %-42s %s" % (row.status, short(row.summary, 38), message, row.detail))
    counts = totals(rows)
    line = "documented errors: %d verified, %d failed, %d not verified" % (
        counts[VERIFIED], counts[FAILED], counts[NOT_VERIFIED])
    line += "".join(", %d %s" % (counts[verdict], verdict) for verdict in (NOT_PROVOKED, ERROR, PARTIAL) if counts[verdict])
    if drift is not None:
        line += ", %d not covered, %d stale (against %s)" % (counts[NOT_COVERED], counts[STALE], drift.page.path)
    out.write_line(line, bold=True)
    for problem in drift.page.problems if drift is not None else ():
        out.write_line("errors page: " + problem, yellow=True)
    missing = unverified(rows)
    if missing and require_all:
        out.write_line("--dfns-require-all: the run fails because %d documented errors were not verified: %s"
                       % (len(missing), ", ".join(missing)), red=True, bold=True)
    if word is not None:
        out.write_line("dfns verdict: %s against %s%s" % (
            word, "%s (live)" % target if target else "the embedded reference server (not a live environment)",
            WORD_MEANING[word]), bold=True, green=word == PASSED, red=word == RUN_FAILED, yellow=word == INCOMPLETE)
    if drift is not None and drift.found and strict_drift:
        out.write_line("--dfns-strict-drift: the run fails because the errors page and the catalog differ; %s. "
                       "Update the catalog (schemas/contracts/) and, if need be, a recipe to match the page."
                       % "; ".join(_drift_findings(drift)), red=True, bold=True)


def _drift_findings(drift: Drift) -> list[str]:
    what = []
    if drift.not_covered:
        what.append("not covered: " + ", ".join("%d %s (line %d)" % (p.status, p.summary, p.line) for p in drift.not_covered))
    if drift.stale:
        what.append("stale: " + ", ".join(e.id for e in drift.stale))
    return what
