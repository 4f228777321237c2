"""Hypothesis settings for fuzzing a network API, and the count of examples each property ran.

Profiles: ``ci`` (derandomized, fixed budget: the same examples every run),
``dev`` (random, small), ``thorough`` (random, large). Choose with
Hypothesis's own ``--hypothesis-profile NAME`` or ``DFNS_HYPOTHESIS_PROFILE``;
the default is ``ci`` when the ``CI`` variable is set, else ``dev``. Network
calls have no fixed duration, so deadlines are off; the example database
lives in ``.hypothesis/`` (ignored by git).

Hypothesis is imported only by a process that collects tests, just before it
does (``ExampleCounts.pytest_collectstart``), not when the plugin loads: the
pytest-xdist controller never needs it, and importing it there (with pytest's
assertion rewriting of a plugin's package and no bytecode cache) cost more
than a second of CPU while the workers start. Profiles are registered before
any ``@given`` is decorated, as ``@given`` reads the profile then; and at
once when a ``--hypothesis-*`` option is given, so Hypothesis' own plugin can
load one of these profiles (``register_for_options``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

import pytest

_PROFILES: dict[str, dict] = {
    "ci": dict(derandomize=True, max_examples=60, print_blob=True),
    "dev": dict(max_examples=30),
    "thorough": dict(max_examples=1000),
}
_registered = False

PROPERTY = "fuzz_examples"


def register_profiles() -> None:
    """Register the profiles with Hypothesis (importing it), once per process."""
    global _registered
    if _registered:
        return
    from hypothesis import HealthCheck, settings

    common = dict(
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    for name, values in _PROFILES.items():
        settings.register_profile(name, **values, **common)
    _registered = True


def register_for_options(namespace: argparse.Namespace) -> None:
    """Before any ``pytest_configure``: Hypothesis' plugin loads ``--hypothesis-profile`` in its own."""
    if any(value for key, value in vars(namespace).items() if key.startswith("hypothesis_")):
        register_profiles()


def apply_profile(name: str) -> None:
    register_profiles()
    from hypothesis import settings

    settings.load_profile(name)


def choose_profile(config: pytest.Config) -> str:
    chosen = config.getoption("hypothesis_profile", None) or os.environ.get("DFNS_HYPOTHESIS_PROFILE")
    name = chosen or ("ci" if os.environ.get("CI") else "dev")
    if "hypothesis" in sys.modules:  # imported already (a --hypothesis-* option, or a conftest)
        apply_profile(name)
    return name


class ExampleCounts:
    """Collects the examples each property ran (also from pytest-xdist workers) and prints them."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.counts: Counter[str] = Counter()
        self.applied = "hypothesis" in sys.modules  # choose_profile applied it then

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        """Before the first test module is imported (never on the pytest-xdist controller)."""
        if not self.applied:
            apply_profile(self.profile)
            self.applied = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY and report.when == "teardown":  # count_examples records at teardown
                self.counts[report.nodeid] += int(value)

    def pytest_terminal_summary(self, terminalreporter, config: pytest.Config) -> None:  # noqa: ANN001
        if not self.counts or hasattr(config, "workerinput"):
            return
        terminalreporter.section("fuzzing (hypothesis profile %s)" % self.profile)
        for nodeid, count in sorted(self.counts.items()):
            terminalreporter.write_line("%6d examples  %s" % (count, nodeid))


@pytest.fixture
def count_examples(request: pytest.FixtureRequest):
    """Call it once per example; the total is reported at the end of the run.

    It appends to ``user_properties`` itself rather than using ``record_property``,
    which warns under ``--junitxml`` with pytest's default junit family (xunit2).
    """
    counter = {"n": 0}

    def tick() -> None:
        counter["n"] += 1

    yield tick
    request.node.user_properties.append((PROPERTY, counter["n"]))
