"""How much the suite fuzzes a network API: its Hypothesis budgets, as data.

A budget is the number of values each property checks. Against a remote
target every value is a round trip, so a property sends them in batches of
``strategies.BATCH`` at once (bounded by ``--dfns-concurrency``): one
Hypothesis example is one batch, and a property costs its budget divided by
the batch in round trips, one after another (dev: 4, ci: 8). The replay model
(a test marked ``walks``) has a budget of walks (``WALKS``), a batch of them
at once per example, each a chain of dependent steps
(``tests/test_fuzz_replay_model.py``); Hypothesis' first example is its
simplest (one-step walks), so it runs one example more than its walks need.

A failing example is reported as found, not shrunk: the failure names the
value that broke the contract first, and shrinking a batch would send it again
hundreds of times, each a round trip. ``ci`` is derandomized (the same values
every run, so a gate is reproducible), ``dev`` random and small, ``thorough``
random and large. ``trial`` (3 values: one batch, one value of each of three tiers no documented case sends, derandomized) is for a
target whose quota is a trial organisation's (``X-RateLimit-Limit`` of 100 or
less in the preflight's answers, ``plugin/fuzzing.choose_budget``): requests
are what the quota charges, and a run must fit in one window
(``request_plan.py``). Derandomized, so that those few values are the same
every run and the mutation matrix proves what they kill. A batch whose values
are all of one tier is never drawn (``strategies.batches``): Hypothesis
tries the simplest example first, eight absent headers, which the documented
cases already send.
Network calls have no fixed duration, so deadlines are off; each example is a
round trip (or several), so the health checks that assume cheap examples are
too. The plugin applies a budget to the suite's own tests only
(``plugin/fuzzing.py``).
"""

from __future__ import annotations

from typing import Any

from dfns_contract.contract.strategies import BATCH

#: Values each property checks, per budget (a multiple of the batch).
VALUES: dict[str, int] = {"ci": 64, "dev": 32, "thorough": 1000, "trial": 3}
#: Values per batch where a budget sends fewer than ``BATCH`` at once (``strategies.use_batch``).
BATCH_OF: dict[str, int] = {"trial": 3}
#: The tiers a budget fuzzes, one value of each a batch, where it fuzzes few (``strategies.use_batch``): ``trial``
#: spends its requests on values no documented case sends (bytes outside ASCII, 8 KB, only whitespace), every
#: header's strategy has these three, and they are what the odd-bytes faults of the mutation matrix die of.
FOCUS: dict[str, frozenset[str]] = {"trial": frozenset({"empty-or-whitespace", "non-ascii-latin1", "very-long"})}
#: Walks of the replay model per budget: each a chain of up to a dozen dependent steps, a batch walked at once.
WALKS: dict[str, int] = {"ci": 16, "dev": 8, "thorough": 80, "trial": 8}
#: What else a budget sets.
OTHER_SETTINGS: dict[str, dict[str, Any]] = {"ci": {"derandomize": True, "print_blob": True}, "dev": {}, "thorough": {},
                                              "trial": {"derandomize": True}}
#: A quota of at most this many requests a window (a trial organisation's: rate-limits.md) picks ``trial``.
TRIAL_QUOTA = 100

BUDGETS: dict[str, dict[str, Any]] = {
    name: {"max_examples": -(-values // BATCH_OF.get(name, BATCH)), **OTHER_SETTINGS[name]}
    for name, values in VALUES.items()
}


def batch_of(name: str) -> int:
    """Values one example of budget ``name`` sends at once."""
    return BATCH_OF.get(name, BATCH)


def focus_of(name: str) -> frozenset[str] | None:
    """The tiers budget ``name`` fuzzes (None: all)."""
    return FOCUS.get(name)


def budget(name: str, *, walks: bool = False) -> dict[str, Any]:
    """Hypothesis settings of the budget ``name`` (importing Hypothesis); ``walks``: of the replay model."""
    from hypothesis import HealthCheck, Phase

    NOT_SHRUNK = [Phase.explicit, Phase.reuse, Phase.generate]  # noqa: N806 - a constant, of an import done here

    checks = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]
    settings = {**BUDGETS[name], "deadline": None, "suppress_health_check": checks, "phases": NOT_SHRUNK}
    if walks:
        settings.update(max_examples=1 + -(-WALKS[name] // BATCH))
    return settings
