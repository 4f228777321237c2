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

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dfns_contract.contract.catalog import Catalog
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.output import MaskedTerminal
from dfns_contract.reporting.drift import Drift, DriftError, ErrorsPage, compare, load_errors_page
from dfns_contract.reporting.evidence import ATTRIBUTE as EVIDENCE
from dfns_contract.reporting.evidence import evidence
from dfns_contract.reporting.terminal import write_table
from dfns_contract.reporting.verdicts import Results, Row, failure_line, unverified

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
        if settings.errors_doc and not hasattr(config, "workerinput"):
            try:
                self.page = load_errors_page(settings.errors_doc)
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
            self._drift = compare(self.catalog, self.page)
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

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        error_id = dict(report.user_properties).get(MARKER)
        if not error_id:
            return
        outcome = "failed" if report.failed else "skipped" if report.skipped else "passed"
        self.results.record(
            error_id, report.nodeid, when=report.when, outcome=outcome,
            skip_reason=_skip_reason(report) if report.skipped else None,
            evidence=getattr(report, EVIDENCE, None),
            failure=_failure(report) if report.failed else None,
        )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Before the report files are written (``reports.py``), so they carry the gates' exit status."""
        if not self.controller:
            return
        drift = self.drift
        gate = (self.settings.require_all and unverified(self.rows())) or (
            self.settings.strict_drift and drift is not None and drift.found)
        if gate and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.controller or self.config.option.collectonly:
            return
        write_table(MaskedTerminal(terminalreporter), self.rows(), self.drift,
                    require_all=self.settings.require_all, strict_drift=self.settings.strict_drift)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._clock


@pytest.fixture
def dfns_evidence(request: pytest.FixtureRequest) -> Callable[..., None]:
    """A ``replay.Recorder``: what the running case's fault request got, kept for the reports, passed or failed."""
    def record(*args: Any, **kwargs: Any) -> None:
        request.node.stash[EVIDENCE_KEY] = evidence(*args, **kwargs)

    return record


def _skip_reason(report: pytest.TestReport) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def _failure(report: pytest.TestReport) -> str:
    """The failure's first line and its problems (already masked: the report was masked where it was made)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    return failure_line(crash.message if crash is not None else report.longreprtext, report.when)

