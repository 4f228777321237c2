"""Which documented errors a run verified, failed or left unverified: the rows every report shows.

A skip is not a pass: an error is *verified* only when every one of its cases
ran and passed; a case skipped (a missing profile key, a sensitive target), or
an error with no case run at all, leaves it *not verified*. With an errors
page (``drift.py``), an error the page documents that the catalog does not
cover is *not covered*, and a catalog entry the page no longer documents is
*stale*. The terminal table, the JSON and the HTML reports all read these rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.reporting.drift import NOT_COVERED, STALE, Drift, PageError

VERIFIED, FAILED, NOT_VERIFIED = "verified", "failed", "not verified"
#: Every verdict a documented error can get, in the order the reports count them.
VERDICTS = (VERIFIED, FAILED, NOT_VERIFIED, NOT_COVERED, STALE)
#: How long the one-line failure of a case may be in the reports.
FAILURE_LINE = 300


@dataclass
class CaseRecord:
    """One test case of a documented error, as the report shows it."""

    nodeid: str
    outcome: str  # passed / failed / skipped
    skip_reason: str | None = None
    evidence: dict[str, Any] | None = None
    failure: str | None = None


@dataclass
class Verdict:
    error_id: str
    cases: dict[str, CaseRecord] = field(default_factory=dict)  # by nodeid, in the order they reported
    reasons: list[str] = field(default_factory=list)

    @property
    def outcomes(self) -> dict[str, str]:
        return {nodeid: case.outcome for nodeid, case in self.cases.items()}

    @property
    def status(self) -> str:
        values = set(self.outcomes.values())
        if "failed" in values:
            return FAILED
        if values == {"passed"}:
            return VERIFIED
        return NOT_VERIFIED


@dataclass
class Row:
    """One documented error in the table: a catalog entry, or a page error the catalog lacks."""

    verdict: str
    detail: str
    error: DocumentedError | None = None  # None for a page error the catalog does not cover
    page_error: PageError | None = None  # where the page documents it, when --dfns-errors-doc was given
    tested: str | None = None  # the verdict of its test cases (catalog entries only)
    cases: list[CaseRecord] = field(default_factory=list)

    @property
    def id(self) -> str | None:
        return self.error.id if self.error else None

    @property
    def status(self) -> int:
        return self.error.status if self.error else self.page_error.status  # type: ignore[union-attr]

    @property
    def summary(self) -> str:
        return self.error.summary if self.error else self.page_error.summary  # type: ignore[union-attr]

    @property
    def section(self) -> str:
        return self.error.section if self.error else self.page_error.section  # type: ignore[union-attr]

    @property
    def message(self) -> str:
        return self.error.message if self.error else self.page_error.message or ""  # type: ignore[union-attr]


class Results:
    """The outcome of every case of every documented error, as the test reports arrive."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Verdict] = {}

    def record(self, error_id: str, nodeid: str, *, when: str, outcome: str, skip_reason: str | None = None,
               evidence: dict[str, Any] | None = None, failure: str | None = None) -> None:
        """One phase's report of one case (``outcome``: passed, failed or skipped); a failure in any phase sticks."""
        verdict = self.verdicts.setdefault(error_id, Verdict(error_id))
        case = verdict.cases.setdefault(nodeid, CaseRecord(nodeid, "not run"))
        if evidence is not None and case.evidence is None:
            case.evidence = evidence
        if outcome == "failed":
            case.outcome = "failed"
            case.failure = case.failure or failure
        elif outcome == "skipped":
            case.outcome = "skipped"
            case.skip_reason = skip_reason
            if skip_reason and skip_reason not in verdict.reasons:
                verdict.reasons.append(skip_reason)
        elif when == "call" and case.outcome != "failed":
            case.outcome = "passed"

    def rows(self, catalog: Catalog, drift: Drift | None) -> list[Row]:
        """Every catalog entry, then every page error the catalog does not cover."""
        rows = []
        for error in catalog.errors:
            row = self._tested_row(error)
            row.page_error = drift.matched.get(error.id) if drift is not None else None
            if drift is not None and error.id in drift.stale_ids:
                row.verdict = STALE
                row.detail = "no longer on the errors page (%s); tests: %s" % (drift.page.path, row.detail)
            rows.append(row)
        for page_error in drift.not_covered if drift is not None else []:
            detail = "on the errors page (%s:%d), not in the catalog" % (drift.page.path, page_error.line)
            if page_error.message is None:
                detail += "; the page gives no JSON example with error.message"
            rows.append(Row(NOT_COVERED, detail, page_error=page_error))
        return rows

    def _tested_row(self, error: DocumentedError) -> Row:
        verdict = self.verdicts.get(error.id)
        if verdict is None or not verdict.cases:
            return Row(NOT_VERIFIED, "not run (deselected or not collected)", error, tested=NOT_VERIFIED)
        counts: dict[str, int] = defaultdict(int)
        for outcome in verdict.outcomes.values():
            counts[outcome] += 1
        detail = ", ".join("%d %s" % (n, outcome) for outcome, n in sorted(counts.items()))
        if verdict.status == NOT_VERIFIED and verdict.reasons:
            detail += "; " + "; ".join(verdict.reasons)
        return Row(verdict.status, detail, error, tested=verdict.status, cases=list(verdict.cases.values()))


def unverified(rows: list[Row]) -> list[str]:
    """Catalog entries whose cases did not all pass (what --dfns-require-all counts)."""
    return [row.id for row in rows if row.error and row.tested != VERIFIED]  # type: ignore[misc]


def totals(rows: list[Row]) -> dict[str, int]:
    """How many documented errors got each verdict."""
    counts = {verdict: 0 for verdict in VERDICTS}
    for row in rows:
        counts[row.verdict] += 1
    return counts


def failure_line(text: str, when: str = "call") -> str:
    """A failure's title and its listed problems (``- status is 401, expected 400``), on one line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else "failed (no message)"
    for prefix in ("AssertionError: ", "Failed: ", "E   "):
        first = first.removeprefix(prefix)
    problems = [line[2:] for line in lines[1:] if line.startswith("- ")]
    phase = "" if when == "call" else "in %s: " % when
    return short(phase + "; ".join([first, *problems]), FAILURE_LINE)


def short(text: str, width: int = 45) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
