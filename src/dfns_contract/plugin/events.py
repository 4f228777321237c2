"""What each test report of the suite carries for a machine reading the run as it goes.

A dashboard that follows a run (``pytest --report-log run.jsonl``, with
pytest-reportlog) gets every test report as one JSON line: pytest writes the
report's attributes as they are, so the suite adds its own here, on the
report, where it is made, before ``output.mask_report`` masks it:

* ``dfns_error``: the documented error the test counts towards, or None;
* ``dfns_exercises``: the documented errors it exercises without counting
  towards them (the replay model, the app-id fuzzing);
* ``dfns_case``: the case's readable id (``nonce-reused``; what ``-k`` takes),
  else the test's name;
* ``dfns_verdict``: the case's outcome as the conformance table counts it:
  passed, failed, error (the environment stopped it), skipped, or not provoked
  (the 500 entry on a faithful server);
* ``dfns_evidence`` (``conformance.py``): what the fault request got, next
  to what the page documents.

The same attributes reach a pytest-xdist controller with the report, so the
stream is the same with ``-n``. The run's word is the exit status and the
conformance report's ``result``.
"""

from __future__ import annotations

import pytest

from dfns_contract.reporting.evidence import ATTRIBUTE as EVIDENCE
from dfns_contract.reporting.verdicts import ERROR

#: The parameter through which ``test_documented_error`` receives each case (``suite.CASE_ARGUMENT``).
CASE_ARGUMENT = "dfns_case"


def label_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """Name the documented error, the case and its verdict on a report of the suite's tests (others: nothing)."""
    counts = item.get_closest_marker("documented_error")
    exercised = [error_id for marker in item.iter_markers("exercises") for error_id in marker.args]
    if counts is None and not exercised:
        return
    report.dfns_error = counts.args[0] if counts is not None else None  # type: ignore[attr-defined]
    report.dfns_exercises = exercised  # type: ignore[attr-defined]
    report.dfns_case = case_id(item)  # type: ignore[attr-defined]
    report.dfns_verdict = case_verdict(report)  # type: ignore[attr-defined]


def case_id(item: pytest.Item) -> str:
    """``nonce-reused`` for a replayed case, the test's name for any other test."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get(CASE_ARGUMENT) if callspec is not None else None
    return case.id if case is not None else item.name


def case_verdict(report: pytest.TestReport) -> str:
    """passed, failed, error, skipped or not provoked: the report's outcome, as the conformance table reads it."""
    if report.failed:
        return "error" if getattr(report, "dfns_outcome", None) == ERROR else "failed"
    if report.skipped:
        return "skipped"
    evidence = getattr(report, EVIDENCE, None) or {}
    return "not provoked" if evidence.get("provoked") is False else "passed"
