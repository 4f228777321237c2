"""Which documented errors this run verified, failed or left unverified.

A skip is not a pass: the end of every run lists what was not verified, and
``--require-all`` turns any of it into a failed run, so that an empty profile
can never turn a CI gate green.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest

MARKER = "documented_error"
VERIFIED, FAILED, NOT_VERIFIED = "verified", "FAILED", "not verified"


@dataclass
class Verdict:
    error_id: str
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid → passed/failed/skipped
    reasons: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        values = set(self.outcomes.values())
        if "failed" in values:
            return FAILED
        if values == {"passed"}:
            return VERIFIED
        return NOT_VERIFIED


class Conformance:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.verdicts: dict[str, Verdict] = {}

    def _verdict(self, error_id: str) -> Verdict:
        return self.verdicts.setdefault(error_id, Verdict(error_id))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker(MARKER)
            if marker:
                item.user_properties.append((MARKER, marker.args[0]))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        error_id = dict(report.user_properties).get(MARKER)
        if not error_id:
            return
        verdict = self._verdict(error_id)
        previous = verdict.outcomes.get(report.nodeid)
        if report.failed:
            verdict.outcomes[report.nodeid] = "failed"
        elif report.skipped:
            verdict.outcomes[report.nodeid] = "skipped"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.removeprefix("Skipped: ")
            if reason not in verdict.reasons:
                verdict.reasons.append(reason)
        elif report.when == "call" and previous != "failed":
            verdict.outcomes[report.nodeid] = "passed"

    def summary(self) -> list[tuple[str, object, str]]:
        """(status, documented error, detail) for every error of the catalog."""
        from .plugin import CATALOG

        catalog = self.config.stash.get(CATALOG, None)
        if catalog is None:
            return []
        rows = []
        for error in catalog.errors:
            verdict = self.verdicts.get(error.id)
            if verdict is None or not verdict.outcomes:
                rows.append((NOT_VERIFIED, error, "not run (deselected or not collected)"))
                continue
            counts = defaultdict(int)
            for outcome in verdict.outcomes.values():
                counts[outcome] += 1
            detail = ", ".join("%d %s" % (n, outcome) for outcome, n in sorted(counts.items()))
            if verdict.status == NOT_VERIFIED and verdict.reasons:
                detail += "; " + "; ".join(verdict.reasons)
            rows.append((verdict.status, error, detail))
        return rows

    def unverified(self) -> list[str]:
        return [error.id for status, error, _ in self.summary() if status != VERIFIED]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if self.config.getoption("dfns_require_all") and self.unverified():
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:  # noqa: ANN001
        if hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        rows = self.summary()
        if not rows:
            return
        tr = terminalreporter
        tr.section("documented errors (getting-started/errors.md)")
        for status, error, detail in rows:
            markup = {"green": status == VERIFIED, "red": status == FAILED, "yellow": status == NOT_VERIFIED}
            tr.write("%-13s" % status, **markup)
            tr.write_line("%d %-40s %s" % (error.status, _short(error.summary, 40), detail))
        counts = defaultdict(int)
        for status, _, _ in rows:
            counts[status] += 1
        line = "documented errors: %d verified, %d failed, %d not verified" % (
            counts[VERIFIED], counts[FAILED], counts[NOT_VERIFIED])
        tr.write_line(line, bold=True)
        if counts[NOT_VERIFIED] and self.config.getoption("dfns_require_all"):
            tr.write_line("--require-all: the run fails because %d documented errors were not verified: %s"
                          % (counts[NOT_VERIFIED], ", ".join(self.unverified())), red=True, bold=True)


def _short(text: str, width: int = 45) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
