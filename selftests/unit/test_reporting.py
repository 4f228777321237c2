"""Units of the verdicts: each outcome of a documented error, and the run's word."""

from __future__ import annotations

import pytest

from dfns_contract.client import RateLimited
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.plugin.ratelimit import RateLimits, rate_limited
from dfns_contract.reporting import verdicts as v

CATALOG = Catalog((DocumentedError("a", "s", "a", 400, "m", "read-only"),
                   DocumentedError("five", "s", "five", 500, "m", "read-only", invariant=True)), "c.json")


def verdicts_of(*reports: tuple, expected: dict[str, list[str]] | None = None) -> dict[str, str]:
    results = v.Results()
    for error_id, nodeids in (expected or {}).items():
        results.expect(error_id, nodeids)
    for error_id, nodeid, outcome, evidence in reports:
        results.record(error_id, nodeid, when="call", outcome=outcome, evidence=evidence,
                       skip_reason="profile keys missing: appId" if outcome == "skipped" else None)
    return {row.id: row.verdict for row in results.rows(CATALOG, None)}


@pytest.mark.parametrize("reports, expected, verdict", [
    ([("a", "t1", "passed", None), ("a", "t2", "passed", None)], {"a": ["t1", "t2"]}, v.VERIFIED),
    ([("a", "t1", "passed", None)], {"a": ["t1", "t2"]}, v.PARTIAL),
    ([("a", "t1", "passed", None), ("a", "t2", "failed", None)], {}, v.FAILED),
    ([("a", "t1", "error", None), ("a", "t2", "passed", None)], {}, v.ERROR),
    ([("a", "t1", "error", None), ("a", "t2", "failed", None)], {}, v.FAILED),
    ([("a", "t1", "skipped", None), ("a", "t2", "passed", None)], {}, v.NOT_VERIFIED),
    ([], {}, v.NOT_VERIFIED),
], ids=["all-passed", "some-deselected", "one-failed", "one-error", "failure-wins", "one-skipped", "none-ran"])
def test_each_outcome_of_a_documented_error(reports, expected, verdict):
    assert verdicts_of(*reports, expected=expected)["a"] == verdict


def test_the_500_entry_is_not_provoked_without_a_5xx_and_verified_with_one():
    assert verdicts_of(("five", "t", "passed", {"provoked": False, "probeStatuses": [401, 400]}))["five"] == v.NOT_PROVOKED
    assert verdicts_of(("five", "t", "passed", {"provoked": True, "probeStatuses": [500, 400]}))["five"] == v.VERIFIED


def rows_with(*tested: str):
    return [type("Row", (), {"error": object(), "tested": verdict})() for verdict in tested]


@pytest.mark.parametrize("tested, other_failures, word", [
    ((v.VERIFIED, v.NOT_PROVOKED), 0, v.PASSED),
    ((v.VERIFIED, v.PARTIAL), 0, v.INCOMPLETE),
    ((v.VERIFIED, v.ERROR), 0, v.INCOMPLETE),
    ((v.VERIFIED, v.NOT_VERIFIED), 0, v.INCOMPLETE),
    ((v.VERIFIED, v.FAILED), 0, v.RUN_FAILED),
    ((v.VERIFIED, v.VERIFIED), 1, v.RUN_FAILED),
    ((), 0, v.INCOMPLETE),
])
def test_the_runs_word(tested, other_failures, word):
    assert v.run_word(rows_with(*tested), other_failures=other_failures) == word


def test_a_rate_limit_is_found_inside_an_exception_group():
    limited = RateLimited.__new__(RateLimited)
    assert rate_limited(BaseExceptionGroup("two", [ValueError("x"), limited])) is limited
    assert rate_limited(ValueError("x")) is None


def test_the_budget_bounds_retries_even_when_retry_after_is_zero():
    limits = RateLimits(budget=3.0, pause=lambda seconds: None)
    limited = type("Limited", (), {"retry_after": 0.0, "concurrent": False})()
    allowed = 0
    while limits.allowance(limited, allowed) is not None:
        limits.charged += 1.0
        allowed += 1
    assert allowed == 3
