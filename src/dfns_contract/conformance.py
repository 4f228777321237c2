"""Which documented errors this run verified, failed or left unverified, and how the page drifted.

A skip is not a pass: the end of every run lists what was not verified, and
``--require-all`` turns any of it into a failed run, so that an empty profile
can never turn a CI gate green. With ``--errors-doc``, the table also lists
the errors the page documents but the catalog does not cover, and the catalog
entries the page no longer documents; ``--strict-drift`` fails the run on
either, so that a changed page cannot go unnoticed until a customer trips on it.

The same rows feed the terminal table and the JSON/HTML reports (report.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from .catalog import Catalog, DocumentedError
from .evidence import EVIDENCE, recording
from .drift import (
    NOT_COVERED,
    STALE,
    Drift,
    DriftError,
    ErrorsPage,
    PageError,
    compare,
    load_errors_page,
)
from .masking import mask

MARKER = "documented_error"
#: User property with the first line of a failed case's message, masked where the secrets are known.
FAILURE = "dfns_failure"
VERIFIED, FAILED, NOT_VERIFIED = "verified", "failed", "not verified"
#: Every verdict a documented error can get, in the order the reports count them.
VERDICTS = (VERIFIED, FAILED, NOT_VERIFIED, NOT_COVERED, STALE)
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
    page_error: PageError | None = None  # where the page documents it, when --errors-doc was given
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


class Conformance:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.verdicts: dict[str, Verdict] = {}
        self.strict_drift: bool = bool(config.getoption("dfns_strict_drift", False))
        self.page: ErrorsPage | None = None
        self._drift: Drift | None = None
        errors_doc = config.getoption("dfns_errors_doc", None)
        if self.strict_drift and not errors_doc:
            raise pytest.UsageError(
                "--strict-drift needs --errors-doc PATH (a copy of getting-started/errors.md) to compare the catalog with"
            )
        if errors_doc and not hasattr(config, "workerinput"):
            try:
                self.page = load_errors_page(errors_doc)
            except DriftError as exc:
                raise pytest.UsageError(str(exc)) from None

    def _verdict(self, error_id: str) -> Verdict:
        return self.verdicts.setdefault(error_id, Verdict(error_id))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker(MARKER)
            if marker:
                item.user_properties.append((MARKER, marker.args[0]))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        """Let ``replay`` record its evidence on the running item."""
        with recording(item.user_properties):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
        """The failure's first line, masked here: an xdist worker knows its secrets, the controller does not."""
        report: pytest.TestReport = yield
        if report.failed and item.get_closest_marker(MARKER):
            report.user_properties.append((FAILURE, _failure_line(report)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        error_id = properties.get(MARKER)
        if not error_id:
            return
        verdict = self._verdict(error_id)
        case = verdict.cases.setdefault(report.nodeid, CaseRecord(report.nodeid, "not run"))
        if EVIDENCE in properties and case.evidence is None:
            case.evidence = _evidence(properties[EVIDENCE])
        if report.failed:
            case.outcome = "failed"
            case.failure = case.failure or properties.get(FAILURE)
        elif report.skipped:
            case.outcome = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.removeprefix("Skipped: ")
            case.skip_reason = reason
            if reason not in verdict.reasons:
                verdict.reasons.append(reason)
        elif report.when == "call" and case.outcome != "failed":
            case.outcome = "passed"

    @property
    def drift(self) -> Drift | None:
        """The catalog against ``--errors-doc``; None without it (or before the catalog is known)."""
        if self._drift is None and self.page is not None:
            catalog = self._catalog()
            self._drift = compare(catalog, self.page) if catalog is not None else None
        return self._drift

    def _catalog(self) -> Catalog | None:
        from .plugin import CATALOG  # late: plugin.py imports this module

        return self.config.stash.get(CATALOG, None)

    def rows(self) -> list[Row]:
        """Every catalog entry, then every page error the catalog does not cover."""
        catalog = self._catalog()
        if catalog is None:
            return []
        drift = self.drift
        rows = []
        for error in catalog.errors:
            row = self._tested_row(error)
            row.page_error = drift.matched.get(error.id) if drift is not None else None
            if drift is not None and error.id in drift.stale_ids:
                row.verdict = STALE
                row.detail = "no longer on the errors page (%s); tests: %s" % (drift.page.path, row.detail)
            rows.append(row)
        for page_error in drift.not_covered if drift is not None else []:
            where = "%s:%d" % (drift.page.path, page_error.line)  # type: ignore[union-attr]
            detail = "on the errors page (%s), not in the catalog" % where
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

    def summary(self) -> list[tuple[str, object, str]]:
        """(verdict, documented error or page error, detail) for every row."""
        return [(row.verdict, row.error or row.page_error, row.detail) for row in self.rows()]

    def unverified(self) -> list[str]:
        """Catalog entries whose cases did not all pass (what --require-all counts)."""
        return [row.id for row in self.rows() if row.error and row.tested != VERIFIED]  # type: ignore[misc]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return
        gate = (self.config.getoption("dfns_require_all") and self.unverified()) or (self.strict_drift and self.drift is not None and self.drift.found)
        if gate and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        rows = self.rows()
        if not rows:
            return
        tr = terminalreporter
        tr.section("documented errors (getting-started/errors.md)")
        section = None
        for row in rows:
            if row.section != section:
                section = row.section
                tr.write_line(section, bold=True)
            markup = {"green": row.verdict == VERIFIED, "red": row.verdict == FAILED,
                      "yellow": row.verdict in (NOT_VERIFIED, NOT_COVERED, STALE)}
            tr.write("  %-13s" % (row.verdict.upper() if row.verdict == FAILED else row.verdict), **markup)
            message = _short('"%s"' % row.message, 42) if row.message else "(no message documented)"
            tr.write_line(mask("%d %-38s %-42s %s" % (row.status, _short(row.summary, 38), message, row.detail)))
        counts: dict[str, int] = defaultdict(int)
        for row in rows:
            counts[row.verdict] += 1
        line = "documented errors: %d verified, %d failed, %d not verified" % (
            counts[VERIFIED], counts[FAILED], counts[NOT_VERIFIED])
        drift = self.drift
        if drift is not None:
            line += ", %d not covered, %d stale (against %s)" % (counts[NOT_COVERED], counts[STALE], drift.page.path)
        tr.write_line(line, bold=True)
        for problem in drift.page.problems if drift is not None else ():
            tr.write_line("errors page: " + problem, yellow=True)
        unverified = self.unverified()
        if unverified and self.config.getoption("dfns_require_all"):
            tr.write_line("--require-all: the run fails because %d documented errors were not verified: %s"
                          % (len(unverified), ", ".join(unverified)), red=True, bold=True)
        if drift is not None and drift.found and self.strict_drift:
            what = ["not covered: " + ", ".join("%d %s (line %d)" % (p.status, p.summary, p.line) for p in drift.not_covered)] if drift.not_covered else []
            what += ["stale: " + ", ".join(e.id for e in drift.stale)] if drift.stale else []
            tr.write_line("--strict-drift: the run fails because the errors page and the catalog differ; %s. "
                          "Update tests/catalog.json (and a recipe) to match the page." % "; ".join(what), red=True, bold=True)


def _evidence(value: object) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(str(value))
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _failure_line(report: pytest.TestReport) -> str:
    """The failure's title and its listed problems (``- status is 401, expected 400``), on one line."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else report.longreprtext
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else "failed (no message)"
    for prefix in ("AssertionError: ", "Failed: ", "E   "):
        first = first.removeprefix(prefix)
    problems = [line[2:] for line in lines[1:] if line.startswith("- ")]
    phase = "" if report.when == "call" else "in %s: " % report.when
    return mask(_short(phase + "; ".join([first, *problems]), FAILURE_LINE))


def _short(text: str, width: int = 45) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
