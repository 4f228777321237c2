"""Hypothesis settings for the suite's property tests, and the count of examples each one ran.

The suite's budgets (``contract/fuzzing.py``: ``ci``, ``dev``, ``thorough``)
are applied to the suite's own ``@given`` tests only, as an outer
``@settings`` on each when it is collected: Hypothesis reads a test's settings
when it runs, so the budget can be chosen by an option. Nothing is registered
with Hypothesis and no profile is loaded, so another project's tests in the
same virtualenv keep Hypothesis' defaults and their own profiles. The parent of
the suite's settings is whatever profile is loaded (``--hypothesis-profile``,
``--hypothesis-verbosity`` and ``--hypothesis-seed`` still act), with the
suite's budget on top. A test that carries its own ``@settings`` keeps them.

Hypothesis is imported only by a process that collects tests, not when the
plugin loads: the pytest-xdist controller never needs it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.contract.fuzzing import BUDGETS, budget
from dfns_contract.plugin.output import MaskedTerminal

PROPERTY = "fuzz_examples"


def choose_budget(chosen: str | None) -> str:
    """The budget's name: the option's, else ``ci`` where the ``CI`` variable is set, else ``dev``."""
    name = chosen or ("ci" if os.environ.get("CI") else "dev")
    if name not in BUDGETS:
        raise pytest.UsageError("--dfns-hypothesis-profile %r: choose one of %s" % (name, ", ".join(BUDGETS)))
    return name


def suite_settings(name: str) -> Any:
    """The settings of the suite's property tests: the loaded profile with the budget ``name`` on top."""
    from hypothesis import settings

    return settings(settings.default, **budget(name))


class Fuzzing:
    """Applies the budget to the suite's ``@given`` tests; counts their examples (also from xdist workers)."""

    def __init__(self, budget_name: str, suite_dir: Path) -> None:
        self.profile = budget_name
        self.suite_dir = suite_dir
        self.counts: Counter[str] = Counter()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        applied: set[int] = set()
        for item in items:
            function = getattr(item, "function", None)
            if function is None or id(function) in applied or not self._in_suite(item):
                continue
            applied.add(id(function))
            if getattr(function, "is_hypothesis_test", False) and not hasattr(function, "_hypothesis_internal_settings_applied"):
                suite_settings(self.profile)(function)

    def _in_suite(self, item: pytest.Item) -> bool:
        return item.path.is_relative_to(self.suite_dir)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY and report.when == "teardown":  # count_examples records at teardown
                self.counts[report.nodeid] += int(value)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
        if not self.counts or hasattr(config, "workerinput"):
            return
        out = MaskedTerminal(terminalreporter)
        out.section("fuzzing (hypothesis profile %s)" % self.profile)
        for nodeid, count in sorted(self.counts.items()):
            out.write_line("%6d examples  %s" % (count, nodeid))


@pytest.fixture
def count_examples(request: pytest.FixtureRequest) -> Iterator[Callable[[], None]]:
    """Call it once per example; the total is reported at the end of the run.

    It appends to ``user_properties`` itself rather than using ``record_property``,
    which warns under ``--junitxml`` with pytest's default junit family (xunit2).
    """
    counter = {"n": 0}

    def tick() -> None:
        counter["n"] += 1

    yield tick
    request.node.user_properties.append((PROPERTY, counter["n"]))


@pytest.fixture(scope="session")
def dfns_hypothesis_settings(request: pytest.FixtureRequest) -> Any:
    """The suite's settings, for a property run by hand (``run_state_machine_as_test(..., settings=...)``)."""
    fuzzing: Fuzzing = request.config.pluginmanager.get_plugin("dfns-fuzzing")
    return suite_settings(fuzzing.profile)
