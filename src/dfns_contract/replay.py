"""Replay one case of the catalog: run its recipe, check the controls, then the fault.

Each case also records its evidence (what the fault request got: status,
content type, message) as a masked JSON ``user_property``, so that the
conformance report can show it for passed cases as well as failed ones; user
properties travel with the test report, also from pytest-xdist workers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import pytest

from .catalog import Case
from .evidence import EVIDENCE, EVIDENCE_EXCERPT, Recorder, current_recorder
from .client import Exchange, FlowError
from .expectations import ContractViolation, assert_documented_error, assert_success, expected_error_text, message_of
from .masking import mask
from .profile import env_name
from .recipes import RECIPES, RecipeContext, Trial


def required_keys(case: Case) -> list[str]:
    recipe = RECIPES[case.error.recipe]
    return list(dict.fromkeys([*recipe.needs, *case.error.template_keys()]))


def skip_reason(missing: list[str]) -> str:
    return "profile keys missing: %s (set them in --dfns-profile or as %s)" % (
        ", ".join(missing),
        ", ".join(env_name(key) for key in missing),
    )


def replay(case: Case, ctx: RecipeContext, record: Recorder | None = None) -> None:
    """Fail with every broken expectation of the case, skip when the profile cannot run it.

    ``record(name, value)`` receives the evidence; by default the running test's user properties.
    """
    record = record or current_recorder()
    missing = ctx.profile.missing(required_keys(case))
    if missing:
        pytest.skip(skip_reason(missing))
    seen: list[Exchange] = []
    observe = seen.append
    # First in line, so the last exchange is seen even when the audit observer raises on it.
    ctx.client.observers.insert(0, observe)
    try:
        trial = RECIPES[case.error.recipe].run(ctx, case.variant)
        if record:
            record(EVIDENCE, evidence_json(case, ctx, trial.fault, stage="fault", probes=trial.probes))
        failures = _violations(case, ctx, trial)
    except (ContractViolation, FlowError) as exc:
        failures = [_stopped(case, ctx, exc)]
        if record and seen:
            record(EVIDENCE, evidence_json(case, ctx, seen[-1], stage="stopped", reason=str(exc)))
    finally:
        ctx.client.observers.remove(observe)
        _clean_up(ctx)
    if failures:
        pytest.fail(mask("\n\n".join(failures)), pytrace=False)


def _violations(case: Case, ctx: RecipeContext, trial: Trial) -> list[str]:
    error, doc = case.error, case.error.doc_reference
    failures = []
    for control in trial.controls:
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
            assert_documented_error(
                exchange,
                exchange.status if error.invariant else error.status,
                error.expected_message(ctx.profile.values),
                title="[%s] documented error not honoured: %s" % (case.id, error.summary),
                doc=doc,
            )
        except ContractViolation as exc:
            failures.append(str(exc))
    return failures


def _stopped(case: Case, ctx: RecipeContext, exc: Exception) -> str:
    """A recipe that could not finish (a broken envelope, a failed step): say which case, what it
    expects and where the page documents it, before the exchange that stopped it."""
    error = case.error
    expected = (
        "any 5xx is " + expected_error_text(500, error.message)
        if error.invariant
        else expected_error_text(error.status, error.expected_message(ctx.profile.values))
    )
    return "[%s] stopped before the documented error could be checked: %s\n  doc:      %s\n  expected: %s (the control: 2xx)\n%s" % (
        case.id, error.summary, error.doc_reference, expected, exc)


def evidence(
    case: Case,
    ctx: RecipeContext,
    exchange: Exchange,
    *,
    stage: str,
    probes: Sequence[Exchange] = (),
    reason: str = "",
) -> dict[str, Any]:
    """What ``exchange`` got, next to what the page documents; small, and masked by value.

    ``stage`` is "fault" for the fault request, "stopped" for the last response
    before the recipe stopped (a broken envelope or a failed preparatory step).
    """
    error = case.error
    try:
        body, parsed = exchange.response.json(), True
    except ValueError:
        body, parsed = None, False
    message = message_of(body)
    result: dict[str, Any] = {
        "stage": stage,
        "request": "%s %s" % (exchange.method, urlsplit(exchange.url).path),
        "status": exchange.status,
        "contentType": exchange.content_type,
        "body": "documented envelope" if isinstance(message, str) else "JSON without error.message" if parsed else "not JSON",
        "message": message if isinstance(message, str) else None,
        "expected": {
            "status": None if error.invariant else error.status,
            "message": error.expected_message(ctx.profile.values),
        },
    }
    if not isinstance(message, str):
        result["excerpt"] = exchange.text[:EVIDENCE_EXCERPT]
    if probes:
        result["probeStatuses"] = [probe.status for probe in probes]
    if reason:
        result["reason"] = reason.splitlines()[0][:EVIDENCE_EXCERPT]
    return _masked(result)


def evidence_json(case: Case, ctx: RecipeContext, exchange: Exchange, **kwargs: Any) -> str:
    return json.dumps(evidence(case, ctx, exchange, **kwargs), ensure_ascii=False, sort_keys=True)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _clean_up(ctx: RecipeContext) -> None:
    """Undo what the case changed, in the order the recipe queued; a cleanup failure must not hide the verdict."""
    while ctx.cleanups:
        undo = ctx.cleanups.pop(0)
        try:
            undo()
        except Exception:  # noqa: BLE001 - reported by the next case's control if it matters
            pass
