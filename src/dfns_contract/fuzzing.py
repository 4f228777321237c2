"""Hypothesis settings for fuzzing a network API, and the count of examples each property ran.

Profiles: ``ci`` (derandomized, fixed budget: the same examples every run),
``dev`` (random, small), ``thorough`` (random, large). Choose with
Hypothesis's own ``--hypothesis-profile NAME`` or ``DFNS_HYPOTHESIS_PROFILE``;
the default is ``ci`` when the ``CI`` variable is set, else ``dev``. Network
calls have no fixed duration, so deadlines are off; the example database
lives in ``.hypothesis/`` (ignored by git).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("ci", derandomize=True, max_examples=60, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=30, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)

PROPERTY = "fuzz_examples"


def choose_profile(config: pytest.Config) -> str:
    chosen = config.getoption("hypothesis_profile", None) or os.environ.get("DFNS_HYPOTHESIS_PROFILE")
    name = chosen or ("ci" if os.environ.get("CI") else "dev")
    settings.load_profile(name)
    return name


class ExampleCounts:
    """Collects the examples each property ran (also from pytest-xdist workers) and prints them."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.counts: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY and report.when == "call":
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
