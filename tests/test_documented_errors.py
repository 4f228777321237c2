"""Every error documented on the API Errors page, replayed with its control.

One case per catalog entry and variant (the plugin parametrizes ``dfns_case``
from the catalog of the contract under test): ``pytest -k nonce`` runs the
nonce cases, ``pytest -k reused`` the replay ones.
"""

from collections.abc import Callable

from dfns_contract.contract.catalog import Case
from dfns_contract.contract.recipes import RecipeContext
from dfns_contract.contract.replay import replay


def test_documented_error(dfns_case: Case, recipe_context: RecipeContext, dfns_evidence: Callable) -> None:
    replay(dfns_case, recipe_context, record=dfns_evidence)
