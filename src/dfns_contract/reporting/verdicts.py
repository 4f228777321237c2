"""Which documented errors a run verified, failed or left unverified, and the run's word: the rows every report shows.

The outcomes a certification report can stand on (as Kubernetes, OCI and FHIR
conformance reports separate them):

* *verified*: every case of the error ran and passed;
* *failed*: a case found the contract broken;
* *error*: the environment, not the contract, stopped a case (no answer, a
  rate limit past its budget, a 5xx on a control, a broken set-up step);
* *not verified*: a case was skipped (a missing profile key, a sensitive
  target) or none ran;
* *partially verified*: some of its cases were deselected (``-k``, ``-m``);
* *not provoked*: the error cannot be provoked on a faithful server (the 500
  entry) and no case saw it; the cases say what was tried.

A skip is not a pass. With an errors page (``drift.py``), an error the page
documents that the catalog does not cover is *not covered*, and a catalog entry
the page no longer documents is *stale*; on today's page, an entry whose message
the page's example words otherwise is *message changed*. A status the version
documents and the suite never provokes (``recognised`` in the catalog: 202,
402, 410…) is a row of its own, *recognised*, with what a run makes of it; it
is never a failure and never keeps a run from passing. The run's word is PASSED
when every documented error is verified (or, for the 500 entry, not provoked),
FAILED when any is failed, and INCOMPLETE otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dfns_contract.contract.catalog import AUDITED, ENVIRONMENT, PENDING, Catalog, DocumentedError, Recognised
from dfns_contract.reporting.drift import CHANGED, NOT_COVERED, STALE, STATUSES, Drift, MessageChange, PageError

VERIFIED, FAILED, NOT_VERIFIED = "verified", "failed", "not verified"
PARTIAL, NOT_PROVOKED, ERROR = "partially verified", "not provoked", "error"
#: A status the version documents and no case provokes (the catalog's ``recognised``): its own row, never a failure.
RECOGNISED = "recognised"
#: Every verdict a documented error can get, in the order the reports count them.
VERDICTS = (VERIFIED, NOT_PROVOKED, FAILED, ERROR, NOT_VERIFIED, PARTIAL, RECOGNISED, NOT_COVERED, STALE, CHANGED)
#: The verdicts that let a run pass: the 500 entry is never provoked on a faithful server.
PASSING = (VERIFIED, NOT_PROVOKED)
#: Rows that need no one's attention (``-qq`` leaves them out).
QUIET = (*PASSING, RECOGNISED)
#: What a run makes of each recognised status (``Recognised.answer``), as its row says it.
RECOGNISED_OUTCOMES = {
    AUDITED: "no documented request provokes it; audited wherever seen",
    ENVIRONMENT: "the environment's doing (a case that meets it stops as an error, never a failure)",
    PENDING: "policy pending: not an error",
}
#: The run's word, spelt the same in every output (terminal, JSON ``result``, HTML, JUnit ``dfns_result``).
PASSED, INCOMPLETE, RUN_FAILED, INTERRUPTED = "PASSED", "INCOMPLETE", "FAILED", "INTERRUPTED"
#: A set-up error's word (exit 4): no case ran.
SETUP_ERROR = "ERROR"
#: Every word a run can end with.
WORDS = (PASSED, RUN_FAILED, INCOMPLETE, SETUP_ERROR, INTERRUPTED)
#: A case or check that did not run: deselected, not collected, or left when the run was interrupted.
NOT_RUN = "not run"
#: What a case that an interrupted run never reached is called (not "deselected": nobody left it out).
INTERRUPTED_NOT_RUN = "not run (interrupted)"
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
    #: A property's, race's or model's whole failure (case, doc, expected vs actual, curl, example, replay command).
    details: str | None = None
    #: The failure as data (``FailureRecord.as_data`` each): what every report renders.
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OtherCheck:
    """A test outside the documented errors' cases (the replay model, the app-id fuzzing); its failure fails the run."""

    nodeid: str
    exercises: list[str]
    outcome: str = "not run"  # passed / failed / error / skipped
    failure: str | None = None
    details: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verdict:
    error_id: str
    cases: dict[str, CaseRecord] = field(default_factory=dict)  # by nodeid, in the order they reported
    reasons: list[str] = field(default_factory=list)

    @property
    def outcomes(self) -> dict[str, str]:
        return {nodeid: case.outcome for nodeid, case in self.cases.items()}

    def status(self, expected: set[str], uncollected: bool = False) -> str:
        """The error's verdict from its cases, ``expected`` being every case collected for it; ``uncollected``:
        a test of the suite that counts towards it was not collected (a file or node id left it out)."""
        values = set(self.outcomes.values())
        if "failed" in values:
            return FAILED
        if "error" in values:
            return ERROR
        if not values or values & {"skipped", "not run"}:
            return NOT_VERIFIED
        if expected - set(self.cases) or uncollected:
            return PARTIAL
        return NOT_PROVOKED if "not provoked" in values else VERIFIED


@dataclass
class Row:
    """One documented error in the table: a catalog entry, or a page error the catalog lacks."""

    verdict: str
    detail: str
    error: DocumentedError | None = None  # None for a page error the catalog does not cover
    page_error: PageError | None = None  # where the page documents it, when --dfns-errors-doc was given
    tested: str | None = None  # the verdict of its test cases (catalog entries only)
    cases: list[CaseRecord] = field(default_factory=list)
    recognised: Recognised | None = None  # a status the version documents and no case provokes
    #: How many responses of the run had the recognised status (from the cases' evidence).
    seen: int = 0

    @property
    def id(self) -> str | None:
        return self.error.id if self.error else None

    @property
    def _source(self) -> DocumentedError | Recognised | PageError:
        return self.error or self.recognised or self.page_error  # type: ignore[return-value]

    @property
    def status(self) -> int:
        return self._source.status

    @property
    def summary(self) -> str:
        return self._source.summary

    @property
    def section(self) -> str:
        return self._source.section

    @property
    def message(self) -> str | None:
        """The documented message; None where the version documents none."""
        if self.recognised is not None:
            return None
        return self.error.message if self.error else self.page_error.message or ""  # type: ignore[union-attr]

    @property
    def outcome(self) -> str | None:
        """A recognised status's outcome class: what a run makes of it; None for any other row."""
        return RECOGNISED_OUTCOMES.get(self.recognised.answer, self.recognised.answer) if self.recognised else None


class Results:
    """The outcome of every case of every documented error, as the test reports arrive."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Verdict] = {}
        #: Every case collected for each error, before ``-k`` and ``-m`` deselect (from every process).
        self.expected: dict[str, set[str]] = {}
        #: Tests that count towards no documented error, by node id.
        self.others: dict[str, OtherCheck] = {}
        #: Tests of the suite that count towards an error and no process collected (``plugin/inventory.py``).
        self.uncollected: dict[str, list[str]] = {}
        #: The run was stopped before its end: what did not run was not deselected.
        self.interrupted = False

    def not_collected(self, error_id: str, key: str) -> None:
        """A test of the suite counting towards ``error_id`` was never collected: the error is at most partially verified."""
        if key not in self.uncollected.setdefault(error_id, []):
            self.uncollected[error_id].append(key)

    def other_not_run(self, nodeid: str, exercises: list[str], why: str) -> None:
        """A test exercising documented errors that did not run (deselected, not collected): the run is not a sign-off."""
        if nodeid not in self.others:
            self.others[nodeid] = OtherCheck(nodeid, list(exercises), NOT_RUN, failure=why)

    def expect(self, error_id: str, nodeids: list[str]) -> None:
        self.expected.setdefault(error_id, set()).update(nodeids)

    def record(self, error_id: str, nodeid: str, *, when: str, outcome: str, skip_reason: str | None = None,
               evidence: dict[str, Any] | None = None, failure: str | None = None, details: str | None = None,
               records: list[dict[str, Any]] | None = None) -> None:
        """One phase's report of one case; a failure or an error in any phase sticks.

        ``outcome``: passed, failed, error (the environment failed it) or skipped.
        A passed case whose evidence says the error was not provoked is *not provoked*.
        """
        verdict = self.verdicts.setdefault(error_id, Verdict(error_id))
        case = verdict.cases.setdefault(nodeid, CaseRecord(nodeid, "not run"))
        if evidence is not None and case.evidence is None:
            case.evidence = evidence
        if outcome in ("failed", "error"):
            if case.outcome != "failed":
                case.outcome = outcome
            case.failure = case.failure or failure
            case.details = case.details or details
            case.records = case.records or list(records or [])
        elif outcome == "skipped":
            case.outcome = "skipped"
            case.skip_reason = skip_reason
            if skip_reason and skip_reason not in verdict.reasons:
                verdict.reasons.append(skip_reason)
        elif when == "call" and case.outcome not in ("failed", "error"):
            case.outcome = "not provoked" if (case.evidence or {}).get("provoked") is False else "passed"

    def record_other(self, nodeid: str, exercises: list[str], *, when: str, outcome: str,
                     failure: str | None = None, details: str | None = None,
                     records: list[dict[str, Any]] | None = None) -> None:
        """One phase's report of a test that counts towards no documented error; a failure in any phase sticks."""
        check = self.others.setdefault(nodeid, OtherCheck(nodeid, list(exercises)))
        if outcome in ("failed", "error"):
            if check.outcome != "failed":
                check.outcome = outcome
            check.failure = check.failure or failure
            check.details = check.details or details
            check.records = check.records or list(records or [])
        elif outcome == "skipped":
            check.outcome = "skipped"
            check.failure = check.failure or failure
        elif when == "call" and check.outcome not in ("failed", "error"):
            check.outcome = "passed"

    def rows(self, catalog: Catalog, drift: Drift | None) -> list[Row]:
        """Every catalog entry and recognised status (by status when there are recognised ones), then the drift."""
        rows = [self._entry_row(error, drift) for error in catalog.errors]
        if catalog.recognised:
            rows += [self._recognised_row(entry, drift) for entry in catalog.recognised]
            rows.sort(key=lambda row: row.status)
        for page_error in drift.not_covered if drift is not None else []:
            rows.append(Row(NOT_COVERED, _not_covered_detail(drift, page_error), page_error=page_error))  # type: ignore[arg-type]
        for change in drift.changed if drift is not None else []:
            if change.error is None:
                rows.append(Row(CHANGED, _change_detail(drift, change), page_error=_page_error_of(drift, change)))  # type: ignore[arg-type]
        return rows

    def _entry_row(self, error: DocumentedError, drift: Drift | None) -> Row:
        row = self._tested_row(error)
        row.page_error = drift.matched.get(error.id) if drift is not None else None
        if drift is not None and error.id in drift.stale_ids:
            row.verdict = STALE
            gone = ": no section of status %d" % error.status if drift.page.format == STATUSES else ""
            row.detail = "no longer on the errors page (%s)%s; tests: %s" % (drift.page.path, gone, row.detail)
        elif drift is not None and (change := drift.change_of(error.id)) is not None:
            row.verdict = CHANGED
            row.detail = "%s; tests: %s" % (_change_detail(drift, change), row.detail)
        return row

    def _recognised_row(self, entry: Recognised, drift: Drift | None) -> Row:
        """Its outcome class, what it means, and how often the run met it (the cases' evidence)."""
        row = Row(RECOGNISED, "", recognised=entry, seen=self.seen(entry.status))
        row.detail = "%s — %s" % (row.outcome, entry.meaning)
        if row.seen:
            row.detail += "; seen %d time%s in this run" % (row.seen, "" if row.seen == 1 else "s")
        if drift is not None:
            row.page_error = next((p for p in drift.page.errors if p.status == entry.status), None)
            if entry.status in drift.stale_statuses:
                row.verdict = STALE
                row.detail = "no longer on the errors page (%s): no section of status %d; recognised: %s" % (
                    drift.page.path, entry.status, row.detail)
        return row

    def seen(self, status: int) -> int:
        """Responses of this status in the cases' evidence (the fault request's, and the probes')."""
        count = 0
        for verdict in self.verdicts.values():
            for case in verdict.cases.values():
                evidence = case.evidence or {}
                count += (evidence.get("status") == status) + list(evidence.get("probeStatuses", [])).count(status)
        return count

    def _tested_row(self, error: DocumentedError) -> Row:
        verdict = self.verdicts.get(error.id)
        if verdict is None or not verdict.cases:
            return Row(NOT_VERIFIED, INTERRUPTED_NOT_RUN if self.interrupted else "not run (deselected or not collected)",
                       error, tested=NOT_VERIFIED)
        uncollected = self.uncollected.get(error.id, [])
        counts: dict[str, int] = defaultdict(int)
        for outcome in verdict.outcomes.values():
            counts[outcome] += 1
        expected = self.expected.get(error.id, set())
        status = verdict.status(expected, bool(uncollected))
        detail = ", ".join("%d %s" % (n, INTERRUPTED_NOT_RUN if self.interrupted and outcome == NOT_RUN else outcome)
                           for outcome, n in sorted(counts.items()))
        if status == NOT_VERIFIED and verdict.reasons:
            detail += "; " + "; ".join(verdict.reasons)
        if status == PARTIAL:
            deselected = sorted(expected - set(verdict.cases))
            if deselected:
                detail += "; %d of %d cases %s" % (len(deselected), len(expected),
                                                   INTERRUPTED_NOT_RUN if self.interrupted else "deselected")
            if uncollected:
                detail += "; %d test%s of the suite not collected" % (len(uncollected), "" if len(uncollected) == 1 else "s")
            detail += "; not run: " + ", ".join([case_name(nodeid) for nodeid in deselected] + uncollected)
        if status == NOT_PROVOKED:
            detail += "; " + _what_was_tried(verdict)
        return Row(status, detail, error, tested=status, cases=list(verdict.cases.values()))


def _not_covered_detail(drift: Drift, page_error: PageError) -> str:
    if drift.page.format == STATUSES:
        return "on the errors page (%s:%d, '%s'), a status the catalog neither tests nor recognises" % (
            drift.page.path, page_error.line, page_error.section)
    detail = "on the errors page (%s:%d), not in the catalog" % (drift.page.path, page_error.line)
    if page_error.message is None:
        detail += "; the page gives no JSON example with error.message"
    return detail


def _change_detail(drift: Drift, change: MessageChange) -> str:
    """The new message, where it is on the page, and the old one (or that no entry of its status checks one)."""
    where = "%s:%d" % (drift.page.path, change.line)
    if change.error is None:
        return 'the errors page now documents the message "%s" for %d (%s); no entry of %d checks a message' % (
            change.message, change.status, where, change.status)
    return 'the errors page now documents "%s" for %d (%s); the catalog entry %s checks "%s"' % (
        change.message, change.status, where, change.error.id, change.old)


def _page_error_of(drift: Drift, change: MessageChange) -> PageError:
    section = next((p for p in drift.page.errors if p.status == change.status), None)
    group, heading = (section.group, section.heading) if section else ("", str(change.status))
    return PageError(group, heading, change.status, section.summary if section else "", change.message, change.line)


def _what_was_tried(verdict: Verdict) -> str:
    statuses = [status for case in verdict.cases.values() for status in (case.evidence or {}).get("probeStatuses", [])]
    return "no 5xx seen: %d probes got HTTP %s" % (len(statuses), ", ".join(map(str, statuses)) or "nothing")


def unverified(rows: list[Row]) -> list[str]:
    """Catalog entries neither verified (nor, for the 500 entry, not provoked) nor failed: what did not run whole.

    A failed entry is listed by ``failed`` and never here: failed and not run are distinct findings.
    """
    return [row.id for row in rows if row.error and row.tested not in (*PASSING, FAILED)]  # type: ignore[misc]


def failed(rows: list[Row]) -> list[str]:
    """Catalog entries a case found broken."""
    return [row.id for row in rows if row.error and row.tested == FAILED]  # type: ignore[misc]


def run_word(rows: list[Row], *, other_failures: int = 0, others_not_run: int = 0, interrupted: bool = False) -> str:
    """PASSED, INCOMPLETE, FAILED or INTERRUPTED.

    ``other_failures`` counts failed checks outside the documented errors' cases; ``others_not_run`` the tests
    exercising documented errors that did not run (a selection is never a certification); ``interrupted``: the
    run was stopped (Ctrl-C) before its end, whatever it had found so far.
    """
    if interrupted:
        return INTERRUPTED
    tested = [row.tested for row in rows if row.error]
    if FAILED in tested or other_failures:
        return RUN_FAILED
    if others_not_run:
        return INCOMPLETE
    return PASSED if tested and all(verdict in PASSING for verdict in tested) else INCOMPLETE


def case_name(nodeid: str) -> str:
    """``tests/test_documented_errors.py::test_documented_error[nonce-reused]`` → ``nonce-reused``; else the node id."""
    name = nodeid.rsplit("::", 1)[-1]
    return name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else nodeid


def totals(rows: list[Row]) -> dict[str, int]:
    """How many documented errors got each verdict."""
    counts = {verdict: 0 for verdict in VERDICTS}
    for row in rows:
        counts[row.verdict] += 1
    return counts


def short(text: str, width: int = 45) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
