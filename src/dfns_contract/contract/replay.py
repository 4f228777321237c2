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
    assert_as_documented,
    assert_success,
    expected_error_text,
)
from dfns_contract.contract.recipes import RECIPES, RecipeContext, Trial


class Recorder(Protocol):
    """Receives what the fault request of a case got (the plugin turns it into the reports' evidence)."""

    def __call__(self, case: Case, expected_message: str, exchange: Exchange, *, stage: str,
                 probes: Sequence[Exchange] = (), reason: str = "") -> None: ...


def replay(case: Case, ctx: RecipeContext, record: Recorder | None = None) -> None:
    """Fail with every broken expectation of the case; ``record`` receives its evidence."""
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
        pytest.fail("\n\n".join(failures), pytrace=False)


def _violations(case: Case, expected_message: str, trial: Trial) -> list[str]:
    error, doc = case.error, case.error.doc_reference
    failures = []
    for control in trial.controls:
        if control.status >= 500:  # in the documented shape (the audit saw it): the environment failed
            raise ServerFailure(control, "[%s] the control (the same request without the fault)" % case.id)
        try:
            assert_success(
                control,
                title="[%s] control failed: the same request without the fault must succeed" % case.id,
                doc=doc,
            )
        except ContractViolation as exc:
            failures.append(str(exc))
    checked = [p for p in trial.probes if p.status >= 500] if error.invariant else [trial.fault]
    for exchange in checked:
        try:
            assert_as_documented(exchange, error, message=expected_message,
                                 status=exchange.status if error.invariant else None,
                                 title="[%s] documented error not honoured: %s" % (case.id, error.summary))
        except ContractViolation as exc:
            failures.append(str(exc))
    failures += ["[%s] %s\n  doc:      %s" % (case.id, broken, doc) for broken in trial.broken]
    return failures


def _stopped(case: Case, expected_message: str, exc: Exception) -> str:
    """A recipe that could not finish (a broken envelope, a failed step): say which case, what it
    expects and where the page documents it, before the exchange that stopped it."""
    error = case.error
    expected = (
        "any 5xx is " + expected_error_text(500, error.message, error.envelope)
        if error.invariant
        else expected_error_text(error.status, expected_message, error.envelope)
    )
    return "[%s] stopped before the documented error could be checked: %s\n  doc:      %s\n  expected: %s (the control: 2xx)\n%s" % (
        case.id, error.summary, error.doc_reference, expected, exc)


def _clean_up(ctx: RecipeContext) -> None:
    """Undo what the case changed, in the order the recipe queued; a cleanup failure must not hide the verdict."""
    while ctx.cleanups:
        undo = ctx.cleanups.pop(0)
        try:
            undo()
        except (Exception, EnvironmentFailure):  # noqa: BLE001 - reported by the next case's control if it matters
            pass
