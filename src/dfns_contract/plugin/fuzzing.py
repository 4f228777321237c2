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

**The seed.** A random budget (``dev``, ``thorough``) draws other examples
each run, so a failure found in CI must be replayable from its log. Unless
``--hypothesis-seed`` names one, the run picks a seed (the controller, which
hands it to its pytest-xdist workers) and gives it to each of the suite's
properties with Hypothesis' ``@seed`` (the state machine through the
``dfns_seed`` fixture); the header names it, and a failure ends with
``--hypothesis-seed=SEED``, which replays the same examples
(``failures.py``). ``ci`` is derandomized: the same examples every run, no
seed needed.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.contract import request_plan
from dfns_contract.contract.fuzzing import BUDGETS, TRIAL_QUOTA, batch_of, budget, focus_of
from dfns_contract.contract.strategies import use_batch
from dfns_contract.plugin.output import MaskedTerminal

PROPERTY = "fuzz_examples"
#: Key of ``workerinput`` that carries the run's seed to a pytest-xdist worker.
WORKERINPUT_KEY = "dfns_hypothesis_seed"


def choose_budget(chosen: str | None, quota: int | None = None) -> str:
    """The budget's name: the option's, else ``trial`` behind a quota of ``TRIAL_QUOTA`` requests a window or less
    (``quota``: the ``X-RateLimit-Limit`` the preflight saw), else ``ci`` where the ``CI`` variable is set, else ``dev``."""
    small = quota is not None and quota <= TRIAL_QUOTA
    name = chosen or ("trial" if small else "ci" if os.environ.get("CI") else "dev")
    if name not in BUDGETS:
        raise pytest.UsageError("--dfns-hypothesis-profile %r: choose one of %s" % (name, ", ".join(BUDGETS)))
    return name


def suite_settings(name: str, *, walks: bool = False) -> Any:
    """The settings of the suite's property tests: the loaded profile with the budget ``name`` on top."""
    from hypothesis import settings

    return settings(settings.default, **budget(name, walks=walks))


def given_seed(config: pytest.Config) -> str | None:
    """``--hypothesis-seed``, when the run was given one (Hypothesis' own option; absent without its plugin)."""
    value = config.getoption("hypothesis_seed", None)
    return str(value) if value not in (None, "") else None


class Fuzzing:
    """Applies the budget and the run's seed to the suite's ``@given`` tests; counts their examples (also from xdist workers)."""

    def __init__(self, config: pytest.Config, budget_name: str, suite_dir: Path) -> None:
        # A batch of 8 values, some 8 KB long, makes a large repr: the failure names the value and shortens the
        # example itself (failures.py), so Hypothesis' warning about its size is noise in every failing run.
        config.addinivalue_line("filterwarnings", "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
        # Properties run at once, in threads (ahead.py); Hypothesis seeds the global ``random`` module around each
        # test, so one thread's seeding shows in another's draw as "the random module used inside strategies". The
        # suite's strategies use none (their randomness is Hypothesis' own, and ``secrets`` for fresh values).
        config.addinivalue_line("filterwarnings", "ignore:Do not use the `random` module inside strategies"
                                ":hypothesis.errors.HypothesisDeprecationWarning")
        self.profile = budget_name
        request_plan.use(budget_name)  # the trial budget comes with the trial request plan
        use_batch(batch_of(budget_name), focus_of(budget_name))
        self.suite_dir = suite_dir
        self.counts: Counter[str] = Counter()
        self.derandomized = bool(BUDGETS[budget_name].get("derandomize"))
        self.given = given_seed(config)
        #: The seed the run's examples come from, to replay them; None when derandomized.
        self.seed: str | None = None if self.derandomized else self.given or _run_seed(config)
        #: The seed this plugin applies with ``@seed`` (None when Hypothesis applies ``--hypothesis-seed`` itself).
        self.applied: int | None = int(self.seed) if self.seed is not None and self.given is None else None

    def describe(self) -> str:
        """The header's words: the budget, and how to get the same examples again."""
        if self.derandomized:
            ignored = "; --hypothesis-seed has no effect" if self.given else ""
            return "%s (derandomized: the same examples every run%s)" % (self.profile, ignored)
        if self.given is not None:
            return "%s, seed %s (--hypothesis-seed)" % (self.profile, self.seed)
        return "%s, seed %s (random each run; replay with --hypothesis-seed=%s)" % (self.profile, self.seed, self.seed)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: every worker draws from the seed the header names."""
        if self.applied is not None:
            node.workerinput[WORKERINPUT_KEY] = self.applied

    def seeded(self, target: Any) -> Any:
        """``target`` (a ``@given`` test, a state machine) with the run's seed, unless Hypothesis applies one."""
        if self.applied is None:
            return target
        from hypothesis import seed

        return seed(self.applied)(target)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        applied: set[int] = set()
        for item in items:
            function = getattr(item, "function", None)
            if function is None or id(function) in applied or not self._in_suite(item):
                continue
            applied.add(id(function))
            if not getattr(function, "is_hypothesis_test", False):
                continue
            if not hasattr(function, "_hypothesis_internal_settings_applied"):
                suite_settings(self.profile, walks=item.get_closest_marker("walks") is not None)(function)
            own = getattr(function, "_hypothesis_internal_use_settings", None)
            if getattr(function, "_hypothesis_internal_use_seed", None) is None and not getattr(own, "derandomize", False):
                self.seeded(function)

    def _in_suite(self, item: pytest.Item) -> bool:
        return item.path.is_relative_to(self.suite_dir)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY and report.when == "teardown":  # count_examples records at teardown
                self.counts[report.nodeid] += int(value)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
        """The examples each property ran; at ``-q`` one line, at ``-qq`` none (a failure says how to replay it)."""
        verbosity = config.getoption("verbose")
        if not self.counts or hasattr(config, "workerinput") or verbosity < -1:
            return
        out = MaskedTerminal(terminalreporter)
        seed = "derandomized" if self.seed is None else "seed %s" % self.seed
        if verbosity < 0:
            out.write_line("fuzzing: %d examples in %d properties (hypothesis profile %s, %s)" % (
                sum(self.counts.values()), len(self.counts), self.profile, seed))
            return
        out.section("fuzzing (hypothesis profile %s, %s)" % (self.profile, seed))
        for nodeid, count in sorted(self.counts.items()):
            out.write_line("%6d examples  %s" % (count, nodeid))


@pytest.fixture
def count_examples(request: pytest.FixtureRequest) -> Iterator[Callable[[], None]]:
    """Call it once per example; the total is reported at the end of the run.

    It appends to ``user_properties`` itself rather than using ``record_property``,
    which warns under ``--junitxml`` with pytest's default junit family (xunit2).
    """
    from dfns_contract.plugin.ahead import counter_of

    counter = counter_of(request.node)  # the same counter when the test ran ahead (ahead.py)
    yield counter.tick
    request.node.user_properties.append((PROPERTY, counter.value))


@pytest.fixture(scope="session")
def dfns_seed(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    """Gives a state machine run by hand (``run_state_machine_as_test(dfns_seed(Machine), ...)``) the run's seed."""
    fuzzing: Fuzzing = request.config.pluginmanager.get_plugin("dfns-fuzzing")
    return fuzzing.seeded


@pytest.fixture(scope="session")
def dfns_hypothesis_settings(request: pytest.FixtureRequest) -> Any:
    """The suite's settings, for a property run by hand (``run_state_machine_as_test(..., settings=...)``)."""
    fuzzing: Fuzzing = request.config.pluginmanager.get_plugin("dfns-fuzzing")
    return suite_settings(fuzzing.profile)


def _run_seed(config: pytest.Config) -> str:
    """The seed of this run: the controller's (handed to each worker), drawn once per run."""
    handed = getattr(config, "workerinput", {}).get(WORKERINPUT_KEY)
    return str(handed if handed is not None else secrets.randbelow(2**32))
