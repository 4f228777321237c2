"""How much the suite fuzzes a network API: its Hypothesis budgets, as data.

``ci`` is derandomized with a fixed budget (the same examples every run, so a
gate is reproducible), ``dev`` random and small, ``thorough`` random and large.
Network calls have no fixed duration, so deadlines are off; each example is a
round trip (or several), so the health checks that assume cheap examples are
too. The plugin applies a budget to the suite's own tests only
(``plugin/fuzzing.py``).
"""

from __future__ import annotations

from typing import Any

BUDGETS: dict[str, dict[str, Any]] = {
    "ci": {"derandomize": True, "max_examples": 60, "print_blob": True},
    "dev": {"max_examples": 30},
    "thorough": {"max_examples": 1000},
}


def budget(name: str) -> dict[str, Any]:
    """Hypothesis settings of the budget ``name`` (importing Hypothesis)."""
    from hypothesis import HealthCheck

    checks = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]
    return {**BUDGETS[name], "deadline": None, "suppress_health_check": checks}
