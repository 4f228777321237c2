"""Every error documented on the API Errors page, replayed with its control.

One case per catalog entry and variant: ``pytest -k nonce`` runs the nonce
cases, ``pytest -k reused`` the replay ones.
"""

import pytest

from dfns_contract.catalog import Case
from dfns_contract.recipes import RecipeContext
from dfns_contract.replay import replay

from .conftest import catalog


def marks(case: Case) -> list[pytest.MarkDecorator]:
    result = [pytest.mark.documented_error(case.error.id)]
    if case.error.safety != "read-only":
        result.append(pytest.mark.destructive)
    return result


CASES = [pytest.param(case, id=case.id, marks=marks(case)) for case in catalog().cases()]


@pytest.mark.parametrize("case", CASES)
def test_documented_error(case: Case, recipe_context: RecipeContext) -> None:
    replay(case, recipe_context)
