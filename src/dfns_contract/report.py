"""The conformance report for release sign-off: ``--contract-report`` (JSON) and ``--contract-report-html``.

The terminal table scrolls away; sign-off needs a file that says what was
tested, against which target, with which versions and catalog, and the verdict
and evidence of every documented error. The JSON is validated against
``schemas/report.json`` before it is written, so a consumer can rely on its
shape; every text in it is masked by value. Only the controller writes it
(under pytest-xdist the workers' results reach it as test reports).
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from . import __version__, schemas
from .conformance import VERDICTS, CaseRecord, Conformance, Row
from .embedded import DESCRIPTION as EMBEDDED
from .masking import mask
from .report_html import render_html

REPORT_VERSION = 1
SCHEMA = "report.json"


class ReportError(RuntimeError):
    """The report could not be built or written; the run fails with this sentence."""


class ContractReport:
    """Writes the reports at the end of the run; registered by the plugin in every process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.json_path = _output_path(config, "dfns_contract_report", "--contract-report")
        self.html_path = _output_path(config, "dfns_contract_report_html", "--contract-report-html")
        if self.json_path and self.json_path == self.html_path:
            raise pytest.UsageError("--contract-report and --contract-report-html name the same file %s" % self.json_path)
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()
        self.written: list[Path] = []
        self.problem: str | None = None

    @property
    def wanted(self) -> bool:
        return bool(self.json_path or self.html_path) and not hasattr(self.config, "workerinput")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Last, so that the exit status includes the --require-all and --strict-drift gates."""
        if not self.wanted:
            return
        try:
            data = build_report(self.config, int(session.exitstatus), self.started, time.monotonic() - self._clock)
            if self.json_path:
                _write(self.json_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
                self.written.append(self.json_path)
            if self.html_path:
                _write(self.html_path, render_html(data))
                self.written.append(self.html_path)
        except ReportError as exc:
            self.problem = str(exc)
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """After the documented-errors table, where a person looks for the verdict."""
        if not self.wanted:
            return
        for path in self.written:
            terminalreporter.write_line("contract report: %s" % path)
        if self.problem:
            terminalreporter.write_line("contract report NOT written: %s" % self.problem, red=True, bold=True)


def build_report(config: pytest.Config, exit_status: int, started: datetime, seconds: float) -> dict[str, Any]:
    """The report as data, masked and checked against schemas/report.json (``ReportError`` if it is not)."""
    conformance: Conformance | None = config.pluginmanager.get_plugin("dfns-conformance")
    rows = conformance.rows() if conformance else []
    drift = conformance.drift if conformance else None
    catalog = conformance._catalog() if conformance else None
    finished = datetime.now(UTC)
    totals = {verdict: 0 for verdict in VERDICTS}
    for row in rows:
        totals[row.verdict] += 1
    data: dict[str, Any] = {
        "reportVersion": REPORT_VERSION,
        "result": "passed" if exit_status == 0 else "failed",
        "exitStatus": exit_status,
        "target": _target(config),
        "startedAt": _timestamp(started),
        "finishedAt": _timestamp(finished),
        "durationSeconds": round(max(seconds, 0.0), 3),
        "versions": {"python": platform.python_version(), "pytest": pytest.__version__, "dfnsContract": __version__},
        "catalog": {"path": catalog.source if catalog else None, "sha256": _sha256(catalog.source) if catalog else None},
        "errorsPage": None if drift is None else {
            "path": drift.page.path, "sha256": drift.page.sha256, "problems": list(drift.page.problems)},
        "totals": totals,
        "errors": [_error(row) for row in rows],
    }
    data = masked(data)
    problems = schemas.problems(SCHEMA, data)
    if problems:
        raise ReportError("the report breaks schemas/%s (a bug of dfns-contract, please report it):\n  - %s"
                          % (SCHEMA, "\n  - ".join(problems)))
    return data


def masked(value: Any) -> Any:
    """Every string of a JSON value through ``mask`` (keys included: they are ours, but cheap to be sure)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {masked(key): masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def public_url(url: str) -> str:
    """The URL without user info: ``https://user:secret@host`` must not reach a report."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = "[%s]" % host
    netloc = host + (":%d" % parts.port if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _target(config: pytest.Config) -> dict[str, Any]:
    from .plugin import SETTINGS

    settings = config.stash.get(SETTINGS, None)
    base_url = settings.base_url if settings else None
    profile = settings.profile if settings else None
    return {
        "kind": "live" if base_url else "embedded",
        "baseUrl": public_url(base_url) if base_url else None,
        "description": "%s (live)" % public_url(base_url) if base_url else EMBEDDED,
        "faults": list(settings.faults) if settings else [],
        "profile": config.getoption("dfns_profile", None) or None,
        "envOverrides": list(profile.overridden) if profile else [],
    }


def _error(row: Row) -> dict[str, Any]:
    page = row.page_error
    return {
        "id": row.id,
        "section": row.section,
        "summary": row.summary,
        "status": row.status,
        "message": row.message,
        "verdict": row.verdict,
        "tested": row.tested,
        "detail": row.detail,
        "page": None if page is None else {"line": page.line, "summary": page.summary, "message": page.message},
        "cases": [_case(case) for case in row.cases],
    }


def _case(case: CaseRecord) -> dict[str, Any]:
    return {
        "nodeid": case.nodeid,
        "outcome": case.outcome,
        "skipReason": case.skip_reason,
        "evidence": case.evidence,
        "failure": case.failure,
    }


def _output_path(config: pytest.Config, dest: str, flag: str) -> Path | None:
    """The option's path, its folder created now: a typo is a usage error at start, not a lost report at the end."""
    value = config.getoption(dest, None)
    if not value:
        return None
    path = Path(value).expanduser()
    if hasattr(config, "workerinput"):
        return path
    if path.is_dir():
        raise pytest.UsageError("%s %s: is a folder; give a file name such as %s" % (flag, value, path / "report"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError("%s %s: cannot create its folder %s: %s" % (
            flag, value, path.parent, exc.strerror or exc.__class__.__name__)) from None
    return path


def _write(path: Path, text: str) -> None:
    """Write whole or not at all: a half-written report must not pass for a report."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise ReportError("%s: %s" % (path, exc.strerror or exc.__class__.__name__)) from None


def _sha256(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
