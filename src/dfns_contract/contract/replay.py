"""Replay one case of the catalog: run its recipe, check the controls, then the fault.

The case's profile needs and safety were settled before it started (the
plugin skips a case whose keys are missing, from ``binding.required_keys``).
What the fault request got is handed to ``record`` as evidence, for passed
cases as well as failed ones, so that the conformance report can show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pytest

from dfns_contract.client import EnvironmentFailure, Exchange, FlowError, PolicyPending, ServerFailure
from dfns_contract.contract.catalog import Case
from dfns_contract.contract.expectations import (
    ContractViolation,
    actual_of,
    assert_as_documented,
    assert_success,
    expected_error_text,
)
from dfns_contract.contract.failure_record import RECORDS_ATTRIBUTE, Expected, FailureRecord
from dfns_contract.contract.recipes import RECIPES, RecipeContext, Trial


class Recorder(Protocol):
    """Receives what the fault request of a case got (the plugin turns it into the reports' evidence)."""

    def __call__(self, case: Case, expected_message: str, exchange: Exchange, *, stage: str,
                 probes: Sequence[Exchange] = (), reason: str = "") -> None: ...


def replay(case: Case, ctx: RecipeContext, record: Recorder | None = None) -> None:
    """Fail with every broken expectation of the case (``failed``); ``record`` receives its evidence."""
    expected_message = case.error.expected_message(ctx.profile.values)
    seen: list[Exchange] = []
    observe = seen.append
    # First in line, so the last exchange is seen even when the audit observer raises on it.
    ctx.client.observers.insert(0, observe)
    try:
        trial = RECIPES[case.error.recipe_id].run(ctx, case.variant)
        if record:
            record(case, expected_message, trial.fault, stage="fault", probes=trial.probes)
        failures = _violations(case, expected_message, trial)
    except (ContractViolation, FlowError) as exc:
        failures = [_stopped(case, expected_message, exc)]
        if record and seen:
            record(case, expected_message, seen[-1], stage="stopped", reason=str(exc))
    except PolicyPending as exc:
        ctx.cleanup.held(exc.what)  # the environment's doing: the case stops, the cleanup names what waits
        raise
    finally:
        ctx.client.observers.remove(observe)
        _clean_up(ctx)
    if failures:
        raise failed(failures)


def failed(records: list[FailureRecord]) -> BaseException:
    """pytest's failure without a traceback, its text the records' paragraphs, the records attached as data."""
    error = pytest.fail.Exception("\n\n".join(record.text() for record in records), pytrace=False)
    setattr(error, RECORDS_ATTRIBUTE, list(records))
    return error


def _violations(case: Case, expected_message: str, trial: Trial) -> list[FailureRecord]:
    error, doc = case.error, case.error.doc_reference
    failures = []
    for control in trial.controls:
        if control.status >= 500:  # in the documented shape (the audit saw it): the environment failed
            raise ServerFailure(control, "[%s] the control (the same request without the fault)" % case.id)
        try:
            assert_success(
                control,
                title="[%s] control failed: the same request without the fault must succeed" % case.id,
                doc=doc, entry=error.id, case=case.id,
            )
        except ContractViolation as exc:
            failures.append(_record_of(exc, case))
    checked = [p for p in trial.probes if p.status >= 500] if error.invariant else [trial.fault]
    for exchange in checked:
        try:
            assert_as_documented(exchange, error, message=expected_message,
                                 status=exchange.status if error.invariant else None,
                                 title="[%s] documented error not honoured: %s" % (case.id, error.summary),
                                 case=case.id)
        except ContractViolation as exc:
            failures.append(_record_of(exc, case))
    failures += [FailureRecord("[%s] %s" % (case.id, broken), case=case.id, entry=error.id, doc=doc)
                 for broken in trial.broken]
    return failures


def _record_of(exc: ContractViolation, case: Case) -> FailureRecord:
    """The violation's record, naming the case; a violation raised with a text only keeps that text."""
    if exc.record is not None:
        return exc.record.about(case=case.id, entry=case.error.id, doc=case.error.doc_reference)
    return FailureRecord(str(exc), case=case.id, entry=case.error.id, doc=case.error.doc_reference)


def _stopped(case: Case, expected_message: str, exc: Exception) -> FailureRecord:
    """A recipe that could not finish (a broken envelope, a failed step): which case, what it expects and where
    the page documents it, then what stopped it (the audit's findings, or the step that failed) and its exchange."""
    error = case.error
    if error.invariant:
        expected = Expected("any 5xx is " + expected_error_text(500, error.message, error.envelope)
                            + " (the control: 2xx)", None, error.message, error.envelope)
    else:
        expected = Expected(expected_error_text(error.status, expected_message, error.envelope) + " (the control: 2xx)",
                            error.status, expected_message, error.envelope)
    title = "[%s] stopped before the documented error could be checked: %s" % (case.id, error.summary)
    inner = exc.record if isinstance(exc, ContractViolation) else None
    if inner is not None:
        return FailureRecord(title, case=case.id, entry=error.id, doc=error.doc_reference, expected=expected,
                             actual=inner.actual, differed=inner.differed,
                             problems=(inner.title.splitlines()[0], *inner.problems), curl=inner.curl,
                             response=inner.response)
    exchange = getattr(exc, "exchange", None)
    if isinstance(exc, FlowError) and exchange is not None:
        step = "%s failed: HTTP %s%s" % (exc.step, exchange.status, " (%s)" % exc.detail if exc.detail else "")
        return FailureRecord(title, case=case.id, entry=error.id, doc=error.doc_reference, expected=expected,
                             actual=actual_of(exchange), problems=(step,), curl=exchange.curl(),
                             response=exchange.described_response())
    return FailureRecord(title, case=case.id, entry=error.id, doc=error.doc_reference, expected=expected,
                         context=str(exc))


def _clean_up(ctx: RecipeContext) -> None:
    """Undo what the case changed, in the order the recipe queued; a cleanup failure must not hide the verdict."""
    while ctx.cleanups:
        undo = ctx.cleanups.pop(0)
        try:
            undo()
        except (Exception, EnvironmentFailure):  # noqa: BLE001 - reported by the next case's control if it matters
            pass
