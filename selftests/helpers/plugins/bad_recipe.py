"""A pytest plugin for the binding selftests (``-p selftests.helpers.plugins.bad_recipe``).

Registers a recipe for the catalog id ``brand-new-error`` that needs a key no
profile has, as a typo in a new recipe would.
"""

from __future__ import annotations

from dfns_contract.contract.recipes import RecipeContext, Trial, recipe


@recipe("brand-new-error", needs=("appId", "noSuchKey"))
def brand_new_error(ctx: RecipeContext, variant: str | None) -> Trial:
    raise AssertionError("never run: the catalog does not load")
