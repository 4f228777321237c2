"""The conformance report files for sign-off: ``--dfns-contract-report`` (JSON) and ``--dfns-contract-report-html``.

Paths are checked when the run starts (a folder, or one that cannot be
created, is a usage error before any request is sent); the files are written
by the controller only, at the very end, so they carry the exit status the
gates decided, and masked (``output.write_file``). A report that cannot be
written fails the run with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dfns_contract.plugin.conformance import Conformance
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.output import MaskedTerminal, write_file
from dfns_contract.plugin.xdist import DESCRIPTION as EMBEDDED
from dfns_contract.reporting.html import render_html
from dfns_contract.reporting.json_report import ReportError, build_report, describe_target


class ContractReport:
    """Writes the report files at the end of the run (registered with the suite, acts in the controller)."""

    def __init__(self, config: pytest.Config, settings: Settings, conformance: Conformance) -> None:
        self.config = config
        self.settings = settings
        self.conformance = conformance
        controller = not hasattr(config, "workerinput")
        self.json_path = output_path(settings.report_json, "--dfns-contract-report") if controller else None
        self.html_path = output_path(settings.report_html, "--dfns-contract-report-html") if controller else None
        if self.json_path and self.json_path == self.html_path:
            raise pytest.UsageError("--dfns-contract-report and --dfns-contract-report-html name the same file %s" % self.json_path)
        self.written: list[Path] = []
        self.problem: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Last, so that the exit status includes the --dfns-require-all and --dfns-strict-drift gates."""
        if not (self.json_path or self.html_path) or self.settings.collect_only:
            return  # a collection only (--co, --dfns-list) tested nothing: no sign-off to write
        try:
            data = self._build(int(session.exitstatus))
            if self.json_path:
                _write(self.json_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            if self.html_path:
                _write(self.html_path, render_html(data), html=True)
        except ReportError as exc:
            self.problem = str(exc)
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            self.written = [path for path in (self.json_path, self.html_path) if path]

    def _build(self, exit_status: int) -> dict:
        settings, conformance = self.settings, self.conformance
        target = describe_target(
            settings.base_url, embedded=EMBEDDED, faults=settings.faults, profile_path=settings.profile_path,
            env_overrides=list(settings.profile.overridden) if settings.profile else [],
            server_contract=settings.server_contract)
        return build_report(conformance.rows(), catalog=conformance.catalog, drift=conformance.drift, target=target,
                            word=conformance.word or "INCOMPLETE", exit_status=exit_status, started=conformance.started,
                            seconds=conformance.seconds, others=list(conformance.results.others.values()),
                            cleanup=list(restore.lines) if (restore := self.config.pluginmanager.get_plugin(
                                "dfns-restore")) is not None else None)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """After the documented-errors table, where a person looks for the verdict."""
        out = MaskedTerminal(terminalreporter)
        for path in self.written if self.config.getoption("verbose") > -2 else ():  # -qq: only what went wrong
            out.write_line("contract report: %s" % path)
        if self.problem:
            out.write_line("contract report NOT written: %s" % self.problem, red=True, bold=True)


def output_path(value: str | None, flag: str) -> Path | None:
    """The option's path, its folder created now: a typo is a usage error at start, not a lost report at the end."""
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        raise pytest.UsageError("%s %s: is a folder; give a file name such as %s" % (flag, value, path / "report"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError("%s %s: cannot create its folder %s: %s" % (
            flag, value, path.parent, exc.strerror or exc.__class__.__name__)) from None
    return path


def _write(path: Path, text: str, *, html: bool = False) -> None:
    try:
        write_file(path, text, html=html)
    except OSError as exc:
        raise ReportError("%s: %s" % (path, exc.strerror or exc.__class__.__name__)) from None
