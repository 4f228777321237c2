"""Units of the verdicts: each outcome of a documented error, and the run's word."""

from __future__ import annotations

import pytest

from dfns_contract.client import RateLimited
from dfns_contract.contract.catalog import AUDITED, ENVIRONMENT, PENDING, Catalog, DocumentedError, Recognised
from dfns_contract.client.retries import Retries
from dfns_contract.plugin.ratelimit import rate_limited
from dfns_contract.reporting import verdicts as v
from dfns_contract.reporting.terminal import write_table

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
    limits = Retries(budget=3.0, pause=lambda seconds: None)
    allowed = 0
    while limits.allowance(0.0, allowed, None) is not None:
        allowed += 1
    assert allowed == 3


# -- recognised statuses: a row each, never a failure, never in the way of PASSED ---------------------------

RECOGNISING = Catalog(
    (DocumentedError("a", "Common errors › 400 Bad Request", "a", 400, "m", "read-only"),),
    "c.json",
    recognised=(Recognised(402, "plan", "not in the plan", "Common errors › 402 Payment Required", ENVIRONMENT),
                Recognised(202, "pending", "held", "Policy pending (202)", PENDING),
                Recognised(410, "gone", "deleted", "Common errors › 410 Gone", AUDITED)),
)


def test_each_recognised_status_is_its_own_row_with_its_outcome_class():
    results = v.Results()
    results.record("a", "t1", when="call", outcome="passed", evidence={"status": 410})
    rows = results.rows(RECOGNISING, None)
    assert [(row.status, row.verdict, row.id) for row in rows] == [
        (202, v.RECOGNISED, None), (400, v.VERIFIED, "a"), (402, v.RECOGNISED, None), (410, v.RECOGNISED, None)]
    by_status = {row.status: row for row in rows}
    assert by_status[202].detail.startswith("policy pending: not an error — held")
    assert by_status[402].detail.startswith("the environment's doing")
    assert by_status[410].detail == "no documented request provokes it; audited wherever seen — deleted; seen 1 time in this run"
    assert by_status[202].section == "Policy pending (202)" and by_status[202].message is None
    assert v.run_word(rows) == v.PASSED and v.unverified(rows) == []
    assert v.totals(rows)[v.RECOGNISED] == 3


def test_recognised_rows_are_quiet_in_the_terminal_at_qq():
    results = v.Results()
    results.record("a", "t1", when="call", outcome="skipped", skip_reason="profile keys missing: x")
    lines: list[str] = []
    out = type("Out", (), {"section": lambda self, t, **m: lines.append(t),
                           "write": lambda self, t, **m: lines.append(t),
                           "write_line": lambda self, t, **m: lines.append(t)})()
    write_table(out, results.rows(RECOGNISING, None), None, require_all=False, strict_drift=False, verbosity=-2)
    assert any(" a " in line for line in lines) and not any("recognised" in line for line in lines)
    lines.clear()
    write_table(out, results.rows(RECOGNISING, None), None, require_all=False, strict_drift=False, verbosity=0)
    assert "Policy pending (202)" in lines and "3 recognised (no case provokes them; never a failure)" in lines[-1]
