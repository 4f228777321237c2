"""``--dfns-list`` and ``--dfns-list-json``: the documented errors and the cases behind each, without a target.

A person who has just installed the suite wants to see what a run would do
before pointing it at an environment: which documented errors, which cases
(and which of them ``-k`` or ``-m`` keep), the profile keys each needs, and
whether a case may change state. The list is a collection-only run
(``suite.activate`` turns ``--co`` on, so no case runs, no target is
contacted and pytest-xdist starts no worker): the suite is collected as a run
would collect it, then listed here instead of pytest's own item-by-item
listing. The text goes to the terminal (masked, as every summary section);
the JSON to a file (validated against ``schemas/errors-list.json``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dfns_contract.contract import request_plan

from dfns_contract.contract.catalog import Catalog
from dfns_contract.plugin.events import case_id
from dfns_contract.plugin.internals import hide_collected_items
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.output import MaskedTerminal, write_file
from dfns_contract.plugin.reports import output_path
from dfns_contract.reporting.json_report import ReportError
from dfns_contract.reporting.listing import ListedTest, ListTarget, build_list, list_lines

class Listing:
    """Registered by ``suite.activate`` under ``--dfns-list`` / ``--dfns-list-json`` (controller only)."""

    def __init__(self, config: pytest.Config, settings: Settings, catalog: Catalog) -> None:
        self.config = config
        self.settings = settings
        self.catalog = catalog
        self.json_path: Path | None = output_path(settings.list_json, "--dfns-list-json")
        self.collected: list[pytest.Item] = []
        self.data: dict | None = None
        self.problem: str | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Every test, before -k and -m deselect some: the list says which of them a run would keep."""
        self.collected = list(items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Build the list, write its JSON, and keep pytest from listing every item again (the list is the view)."""
        selected = {item.nodeid for item in session.items}
        try:
            listed = [_listed(item, selected) for item in sorted(self.collected, key=source_order)]
            self.data = build_list(self.catalog, listed,
                                   self._target(), contract=self.catalog.contract)
            self.data["requestPlan"] = request_plan.describe(self.catalog.contract)
            if self.json_path is not None:
                write_file(self.json_path, json.dumps(self.data, indent=2, ensure_ascii=False) + "\n")
        except (ReportError, OSError) as exc:
            self.problem = "%s: %s" % (self.json_path, exc.strerror) if isinstance(exc, OSError) else str(exc)
            session.testsfailed += 1  # exit 1: the list that was asked for was not written
        hide_collected_items(session)

    def _target(self) -> ListTarget:
        settings = self.settings
        profile = settings.profile
        return ListTarget(settings.base_url, settings.profile_path, profile.missing if profile is not None else None,
                          skips_destructive=settings.sensitive and not settings.allow_destructive)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        out = MaskedTerminal(terminalreporter)
        verbosity = self.config.getoption("verbose")
        if self.data is not None and self.settings.list_text:
            contract = self.data["contract"]
            out.section("documented errors of %s" % ("contract " + contract if contract else self.catalog.source))
            for text, markup in list_lines(self.data, width=shutil.get_terminal_size().columns, verbosity=verbosity):
                out.write_line(text, **markup)
        if self.json_path is not None and self.problem is None:
            out.write_line("documented errors listed in %s" % self.json_path)
        if self.problem:
            out.write_line("the list was NOT written: %s" % self.problem, red=True, bold=True)


def source_order(item: pytest.Item) -> tuple[str, int, tuple[tuple[str, int], ...], str]:
    """Where the test is written (file, line, parameter index): the list is the same between identical runs
    whatever order the run would take (pytest-randomly shuffles the items it hands over)."""
    callspec = getattr(item, "callspec", None)
    indices = tuple(sorted(callspec.indices.items())) if callspec is not None else ()
    return str(item.path), item.location[1] or 0, indices, item.nodeid


def _listed(item: pytest.Item, selected: set[str]) -> ListedTest:
    counts = item.get_closest_marker("documented_error")
    exercised = tuple(error_id for marker in item.iter_markers("exercises") for error_id in marker.args)
    return ListedTest(item.nodeid, case_id(item), counts.args[0] if counts else None, exercised, item.nodeid in selected)
