"""The run's verdict per documented error: collected from the test reports, gated, tabled and written.

A skip is not a pass: the end of every run lists what was not verified, and
``--dfns-require-all`` turns any of it into a failed run, so that an empty
profile can never turn a CI gate green. With ``--dfns-errors-doc``, the table
also lists the errors the page documents but the catalog does not cover, and
the catalog entries the page no longer documents; ``--dfns-strict-drift`` fails
the run on either. The reporting package computes the rows and renders them;
this module feeds it from pytest's reports (under pytest-xdist they reach the
controller as reports too, with the evidence as a report attribute).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dfns_contract.contract.catalog import Catalog
from dfns_contract.plugin.internals import add_junit_properties
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.failures import DETAILS, RECORDS
from dfns_contract.plugin.output import MaskedTerminal
from dfns_contract.reporting.drift import Drift, DriftError, ErrorsPage
from dfns_contract.reporting.errors_page import compare_page, load_page_for
from dfns_contract.reporting.evidence import ATTRIBUTE as EVIDENCE
from dfns_contract.reporting.evidence import evidence
from dfns_contract.reporting.terminal import write_table, write_word
from dfns_contract.plugin.safety import outside_contract
from dfns_contract.plugin.stash import COLLECTED, COLLECTED_OTHERS, COLLECTED_TESTS, SUITE_TESTS
from dfns_contract.reporting.verdicts import (
    ERROR,
    INCOMPLETE,
    INTERRUPTED_NOT_RUN,
    NOT_RUN,
    PASSED,
    RUN_FAILED,
    Results,
    Row,
    FAILURE_LINE,
    run_word,
    short,
)

MARKER = "documented_error"
#: Where a running case's evidence waits for its report.
EVIDENCE_KEY = pytest.StashKey[dict[str, Any]]()


class Conformance:
    """Registered by the plugin when the suite is collected, in every process; only the controller reports."""

    def __init__(self, config: pytest.Config, settings: Settings, catalog: Catalog) -> None:
        self.config = config
        self.settings = settings
        self.catalog = catalog
        self.results = Results()
        self.page: ErrorsPage | None = None
        self._drift: Drift | None = None
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()
        #: Failed checks outside the documented errors' cases (the replay model, the app-id fuzzing): contract failures.
        self.other_failures = 0
        #: The environment's failures outside them.
        self.environment_errors = 0
        #: The run's word, decided when the session finishes (PASSED, INCOMPLETE, FAILED or INTERRUPTED).
        self.word: str | None = None
        #: Every test function collected by any process (``inventory.test_key``), and the exercising tests.
        self.collected_tests: set[str] = set()
        self.collected_others: dict[str, list[str]] = {}
        if settings.errors_doc and not hasattr(config, "workerinput"):
            try:
                self.page = load_page_for(catalog, settings.errors_doc)
            except DriftError as exc:
                raise pytest.UsageError(str(exc)) from None

    @property
    def controller(self) -> bool:
        """The process that reports: the only one of a serial run, the controller under pytest-xdist."""
        return not hasattr(self.config, "workerinput")

    @property
    def drift(self) -> Drift | None:
        """The catalog against ``--dfns-errors-doc``; None without it."""
        if self._drift is None and self.page is not None:
            self._drift = compare_page(self.catalog, self.page)
        return self._drift

    def rows(self) -> list[Row]:
        return self.results.rows(self.catalog, self.drift)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The documented error a case counts for travels with its reports (and shows in JUnit XML)."""
        for item in items:
            marker = item.get_closest_marker(MARKER)
            if marker:
                item.user_properties.append((MARKER, marker.args[0]))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
        report: pytest.TestReport = yield
        evidence = item.stash.get(EVIDENCE_KEY, None)
        if evidence is not None and call.when == "call":
            setattr(report, EVIDENCE, evidence)
        return report

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """xdist controller: every case each worker collected, so a -k that leaves some out is *partially verified*."""
        output = getattr(node, "workeroutput", {})
        for error_id, nodeids in output.get("dfns_collected", {}).items():
            self.results.expect(error_id, nodeids)
        self.collected_tests.update(output.get("dfns_collected_tests", []))
        self.collected_others.update(output.get("dfns_collected_others", {}))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        error_id = dict(report.user_properties).get(MARKER)
        environment = getattr(report, "dfns_outcome", None) == ERROR
        outcome = ("error" if environment else "failed") if report.failed else "skipped" if report.skipped else "passed"
        details = getattr(report, DETAILS, None)
        records = getattr(report, RECORDS, None) or []
        if not error_id:
            self.other_failures += report.failed and not environment
            self.environment_errors += report.failed and environment
            exercises = getattr(report, "dfns_exercises", None)
            if exercises:  # the replay model, the app-id fuzzing: in the reports beside the documented errors
                self.results.record_other(
                    report.nodeid, exercises, when=report.when, outcome=outcome, details=details, records=records,
                    failure=_failure(report) if report.failed else _skip_reason(report) if report.skipped else None)
            return
        self.results.record(
            error_id, report.nodeid, when=report.when, outcome=outcome,
            skip_reason=_skip_reason(report) if report.skipped else None,
            evidence=getattr(report, EVIDENCE, None),
            failure=_failure(report) if report.failed else None, details=details, records=records,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The run's word and its exit status; before the report files are written (``reports.py``), which carry both.

        PASSED exits 0; FAILED 1; INCOMPLETE 1 (a gate never passes what it did not verify),
        or 0 under --dfns-allow-incomplete when only selection or skips made it so (a -k
        selection while developing). pytest's own statuses for an interrupted run, an internal
        or a usage error, or no test collected, are kept.
        """
        if not self.controller or self.settings.collect_only:
            return  # a collection only (--co, --dfns-list) tested nothing: it has no word
        restore = self.config.pluginmanager.get_plugin("dfns-restore")
        if restore is not None:
            restore.finish(session)  # first: workers down, what they left changed undone
        interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        self.results.interrupted = interrupted  # what did not run is "not run (interrupted)", not "deselected"
        self.results_from_this_process(session.config)
        rows = self.rows()
        drift = self.drift
        self.word = run_word(rows, other_failures=self.other_failures + int(
            bool(self.settings.strict_drift and drift is not None and drift.found)),
            others_not_run=sum(check.outcome == NOT_RUN for check in self.results.others.values()),
            interrupted=interrupted)
        add_junit_properties(self.config, {
            "dfns_target_kind": "live" if self.settings.base_url else "embedded",
            "dfns_target": self.settings.shown_url or "embedded reference server (not a live environment)",
            "dfns_result": self.word,
            "dfns_contract": self.catalog.contract or "none (--dfns-catalog %s)" % self.catalog.source,
            "dfns_catalog": self.catalog.source,
            **({"dfns_contract_detected": self.catalog.detected} if self.catalog.detected else {}),
        })
        if session.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return
        not_restored = bool(restore and restore.not_restored())
        if not_restored and self.word == PASSED:
            self.word = INCOMPLETE  # the environment was left changed: not a sign-off
        environment = bool(not_restored or self.environment_errors or ERROR in (row.tested for row in rows))
        failing = self.word == RUN_FAILED or (self.word == INCOMPLETE and (environment or not self.settings.allow_incomplete))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if failing else pytest.ExitCode.OK

    def results_from_this_process(self, config: pytest.Config) -> None:
        """A serial run's collected cases (a pytest-xdist controller has them from its workers), then what the
        suite holds and the run did not collect or deselected: a selection is never a certification."""
        for error_id, nodeids in config.stash.get(COLLECTED, {}).items():
            self.results.expect(error_id, nodeids)
        self.collected_tests.update(config.stash.get(COLLECTED_TESTS, set()))
        self.collected_others.update(config.stash.get(COLLECTED_OTHERS, {}))
        for test in config.stash.get(SUITE_TESTS, []):
            if test.key in self.collected_tests or outside_contract(test.ids, list(test.headers), self.catalog):
                continue
            for error_id in [error.id for error in self.catalog.errors] if test.cases else test.counts:
                if error_id in self.catalog:
                    self.results.not_collected(error_id, test.key)
            if test.exercises and not test.counts:
                self.results.other_not_run(test.key, list(test.exercises), "not collected: the command line named other files "
                                           "or node ids")
        for nodeid, exercises in sorted(self.collected_others.items()):
            self.results.other_not_run(nodeid, exercises, INTERRUPTED_NOT_RUN if self.results.interrupted
                                       else "deselected by -k or -m")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.controller or self.config.option.collectonly:
            return
        write_table(MaskedTerminal(terminalreporter), self.rows(), self.drift,
                    require_all=self.settings.require_all, strict_drift=self.settings.strict_drift,
                    word=None, target=self.settings.shown_url,
                    width=shutil.get_terminal_size().columns, verbosity=self.config.getoption("verbose"),
                    contract=self.catalog.title, doc=self.catalog.doc,
                    others=list(self.results.others.values()))

    def write_word(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The run's word, once every other summary (pytest's short summary and skip list included) is written."""
        if not self.controller or self.config.option.collectonly or self.word is None:
            return
        write_word(MaskedTerminal(terminalreporter), self.rows(), self.word, target=self.settings.shown_url,
                   contract=self.catalog.title)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._clock


class WordLast:
    """Writes the run's word after pytest's short test summary: as the outermost wrapper of the summary hook, its
    code after ``yield`` runs once the terminal reporter's own wrapper wrote that summary."""

    def __init__(self, conformance: Conformance) -> None:
        self.conformance = conformance

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
        try:
            return (yield)
        finally:
            self.conformance.write_word(terminalreporter)


@pytest.fixture
def dfns_evidence(request: pytest.FixtureRequest) -> Callable[..., None]:
    """A ``replay.Recorder``: what the running case's fault request got, kept for the reports, passed or failed."""
    return evidence_recorder(request.node)


def evidence_recorder(node: pytest.Item) -> Callable[..., None]:
    """A ``replay.Recorder`` into ``node``'s stash (also from the thread that replays its case ahead)."""
    def record(*args: Any, **kwargs: Any) -> None:
        node.stash[EVIDENCE_KEY] = evidence(*args, **kwargs)

    return record


def _skip_reason(report: pytest.TestReport) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def _failure(report: pytest.TestReport) -> str:
    """The failure in one line: its records' (the suite's failures), else pytest's crash message (a bug of a test, a
    broken fixture), never a text read back. Already masked: the report was masked where it was made."""
    records = getattr(report, RECORDS, None) or []
    phase = "" if report.when == "call" else "in %s: " % report.when
    if records:
        more = " (and %d more failures)" % (len(records) - 1) if len(records) > 1 else ""
        return short(phase + records[0]["line"] + more, FAILURE_LINE)
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else report.longreprtext
    first = next((line.strip() for line in text.splitlines() if line.strip()), "failed (no message)")
    return short(phase + first, FAILURE_LINE)

