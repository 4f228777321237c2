"""The end-of-run table: every documented error, grouped by the page's sections, with its verdict.

Writes through any object with the terminal reporter's ``section``,
``write`` and ``write_line`` (the plugin hands it a masking one).

The table fits the terminal it is read in, and never cuts a text short: each
row is one line (verdict, HTTP status, the error's id, which ``-k`` takes, and
the detail), and the summary and the message columns are shown only when the
width leaves them room whole (``choose_columns``); the detail comes last and
is never cut. How much is written follows pytest's verbosity, for a CI log:

* default: the sections of the page, a header line, every error;
* ``-q``: one line per documented error, the totals and the word;
* ``-qq``: only the errors not verified (failed, error, skipped…) and the word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dfns_contract.reporting.drift import CHANGED, NOT_COVERED, STALE, STATUSES, Drift
from dfns_contract.reporting.verdicts import (
    ERROR,
    FAILED,
    INCOMPLETE,
    NOT_PROVOKED,
    NOT_VERIFIED,
    PARTIAL,
    PASSED,
    PASSING,
    QUIET,
    RECOGNISED,
    INTERRUPTED,
    NOT_RUN,
    RUN_FAILED,
    SETUP_ERROR,
    VERIFIED,
    OtherCheck,
    Row,
    failed,
    totals,
    unverified,
)

TITLE = "documented errors (getting-started/errors.md)"
#: Said after PASSED when the version documents an error a faithful server never answers (the pages' 500).
NOT_PROVOKED_NOTE = " (the 500 entry: verified or not provoked)"
WORD_MEANING = {
    PASSED: ": every documented error verified",
    INCOMPLETE: ": no contract failure, but not every documented error was verified (see above)",
    RUN_FAILED: ": the contract is broken (see FAILED above)",
    INTERRUPTED: ": the run was stopped before its end (Ctrl-C); what did not run is \"not run (interrupted)\"",
    SETUP_ERROR: ": the run could not start (see the error above); no case ran",
}


class Writer(Protocol):
    def section(self, title: str, **markup: bool) -> None: ...
    def write(self, text: str, **markup: bool) -> None: ...
    def write_line(self, text: str, **markup: bool) -> None: ...


#: Room the detail column keeps at least before the summary or message column is shown.
MIN_DETAIL = 30
INDENT = "  "
HEADINGS = {"verdict": "verdict", "status": "HTTP", "id": "id", "summary": "summary", "message": "message"}


@dataclass(frozen=True)
class Columns:
    """Which optional columns the table shows, and every column's width."""

    summary: bool
    message: bool
    widths: dict[str, int]


def cells(row: Row) -> dict[str, str]:
    """The texts of a row's columns, whole."""
    return {
        "verdict": row.verdict.upper() if row.verdict in (FAILED, ERROR) else row.verdict,
        "status": str(row.status),
        "id": row.id or "–",
        "summary": row.summary,
        "message": '"%s"' % row.message if row.message else "(no message documented)",
    }


def choose_columns(rows: list[Row], width: int) -> Columns:
    """The summary, then the message column, each only if it fits whole beside the fixed ones and the detail's room."""
    texts = [cells(row) for row in rows]
    widths = {name: max([len(heading)] + [len(text[name]) for text in texts]) for name, heading in HEADINGS.items()}
    used = len(INDENT) + widths["verdict"] + widths["status"] + widths["id"] + 3
    shown = {}
    for name in ("summary", "message"):
        shown[name] = used + widths[name] + 1 + MIN_DETAIL <= width - 1
        used += widths[name] + 1 if shown[name] else 0
    return Columns(shown["summary"], shown["message"], widths)


def row_line(row: Row, columns: Columns) -> str:
    """One row, its detail last (a page error the catalog lacks names itself there if no summary column shows it)."""
    text, widths = cells(row), columns.widths
    parts = ["%-*s" % (widths["verdict"], text["verdict"]), "%-*s" % (widths["status"], text["status"]),
             "%-*s" % (widths["id"], text["id"])]
    parts += ["%-*s" % (widths[name], text[name]) for name in ("summary", "message") if getattr(columns, name)]
    detail = row.detail if row.id or columns.summary else '"%s": %s' % (row.summary, row.detail)
    return INDENT + " ".join(parts + [detail])


def heading_line(columns: Columns) -> str:
    widths = columns.widths
    names = ["verdict", "status", "id"] + [name for name in ("summary", "message") if getattr(columns, name)]
    return INDENT + " ".join(["%-*s" % (widths[name], HEADINGS[name]) for name in names] + ["detail"])


def write_table(out: Writer, rows: list[Row], drift: Drift | None, *, require_all: bool, strict_drift: bool,
                word: str | None = None, target: str | None = None, width: int = 80, verbosity: int = 0,
                contract: str | None = None, doc: str = "getting-started/errors.md",
                others: Sequence[OtherCheck] = ()) -> None:
    """The table, its totals, why the gates (``--dfns-require-all``, ``--dfns-strict-drift``) fail the run, and its word.

    ``width``: the terminal's columns; ``verbosity``: pytest's (``-q`` is -1, ``-qq`` -2); ``contract``: what the
    run certifies against (``contract 2025-02-07``, or ``catalog PATH``), named in the title and the word's line,
    since the same ids mean other messages in another version.
    """
    shown = rows if verbosity > -2 else [row for row in rows if row.verdict not in QUIET]
    if verbosity > -2:
        out.section("documented errors of %s (%s)" % (contract, doc) if contract else TITLE)
    columns = choose_columns(rows, width)
    if verbosity >= 0:
        out.write_line(heading_line(columns))
    section = None
    for row in shown:
        if verbosity >= 0 and row.section != section:
            section = row.section
            out.write_line(section, bold=True)
        markup = {"green": row.verdict in PASSING, "red": row.verdict in (FAILED, ERROR),
                  "yellow": row.verdict in (NOT_VERIFIED, PARTIAL, NOT_COVERED, STALE, CHANGED)}
        out.write_line(row_line(row, columns), **markup)
    if verbosity > -2:
        out.write_line(totals_line(rows, drift), bold=True)
    for problem in drift.page.problems if drift is not None else ():
        out.write_line("errors page: " + problem, yellow=True)
    not_run = [check for check in others if check.outcome == NOT_RUN]
    if not_run:
        out.write_line("not run: %d test%s exercising documented errors: %s; run the whole suite to verify them" % (
            len(not_run), "" if len(not_run) == 1 else "s",
            "; ".join("%s (%s)" % (check.nodeid, check.failure) for check in not_run)), yellow=True)
    broken, missing = failed(rows), unverified(rows)
    if (broken or missing) and require_all:  # failed and not run are distinct findings: two lists
        found = (["%d documented errors were not verified: %s" % (len(missing), ", ".join(missing))] if missing else []) \
            + (["%d documented errors failed: %s" % (len(broken), ", ".join(broken))] if broken else [])
        out.write_line("--dfns-require-all: the run fails because " + "; ".join(found), red=True, bold=True)
    if word is not None:
        write_word(out, rows, word, target=target, contract=contract)
    if drift is not None and drift.found and strict_drift:
        out.write_line("--dfns-strict-drift: the run fails because the errors page and the catalog differ; %s. "
                       "Update the catalog (schemas/contracts/) and, if need be, a recipe to match the page."
                       % "; ".join(_drift_findings(drift)), red=True, bold=True)


def write_word(out: Writer, rows: list[Row], word: str, *, target: str | None, contract: str | None) -> None:
    """The run's word in one line: the last thing a person reads (after pytest's short summary and skip list)."""
    out.write_line("dfns verdict: %s against %s%s%s" % (
        word, "%s (live)" % target if target else "the embedded reference server (not a live environment)",
        " under %s" % contract if contract else "", WORD_MEANING[word] + (
            NOT_PROVOKED_NOTE if word == PASSED and any(row.error and row.error.invariant for row in rows) else "")),
        bold=True, green=word == PASSED, red=word in (RUN_FAILED, SETUP_ERROR), yellow=word in (INCOMPLETE, INTERRUPTED))


def totals_line(rows: list[Row], drift: Drift | None) -> str:
    counts = totals(rows)
    line = "documented errors: %d verified, %d failed, %d not verified" % (
        counts[VERIFIED], counts[FAILED], counts[NOT_VERIFIED])
    line += "".join(", %d %s" % (counts[verdict], verdict) for verdict in (NOT_PROVOKED, ERROR, PARTIAL) if counts[verdict])
    if counts[RECOGNISED]:
        line += ", %d recognised (no case provokes them; never a failure)" % counts[RECOGNISED]
    if drift is not None and drift.page.format == STATUSES:
        line += ", %d not covered, %d stale, %d message changed (against %s)" % (
            counts[NOT_COVERED], counts[STALE], counts[CHANGED], drift.page.path)
    elif drift is not None:
        line += ", %d not covered, %d stale (against %s)" % (counts[NOT_COVERED], counts[STALE], drift.page.path)
    return line


def _drift_findings(drift: Drift) -> list[str]:
    """Each change, where it is on the page: what a person fixing the catalog needs first."""
    what = []
    if drift.not_covered:
        what.append("not covered: " + ", ".join("%d %s (line %d)" % (p.status, p.summary, p.line) for p in drift.not_covered))
    stale = [e.id for e in drift.stale] + ["%d recognised (%s)" % (r.status, r.section) for r in drift.stale_recognised]
    if stale:
        what.append("stale: " + ", ".join(stale))
    if drift.changed:
        what.append("message changed: " + ", ".join(
            '%d %s "%s" → "%s" (line %d)' % (c.status, c.error.id if c.error else "(no entry checks one)",
                                            c.old or "", c.message, c.line) for c in drift.changed))
    return what
