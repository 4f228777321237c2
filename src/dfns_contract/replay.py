"""Replay one case of the catalog: run its recipe, check the controls, then the fault."""

from __future__ import annotations

import pytest

from .catalog import Case
from .client import FlowError
from .expectations import ContractViolation, assert_documented_error, assert_success
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


def replay(case: Case, ctx: RecipeContext) -> None:
    """Fail with every broken expectation of the case, skip when the profile cannot run it."""
    missing = ctx.profile.missing(required_keys(case))
    if missing:
        pytest.skip(skip_reason(missing))
    try:
        trial = RECIPES[case.error.recipe].run(ctx, case.variant)
        failures = _violations(case, ctx, trial)
    except (ContractViolation, FlowError) as exc:
        failures = [str(exc)]
    finally:
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


def _clean_up(ctx: RecipeContext) -> None:
    """Undo what the case changed, in the order the recipe queued; a cleanup failure must not hide the verdict."""
    while ctx.cleanups:
        undo = ctx.cleanups.pop(0)
        try:
            undo()
        except Exception:  # noqa: BLE001 - reported by the next case's control if it matters
            pass
