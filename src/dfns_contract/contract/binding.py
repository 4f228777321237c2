"""Catalog entries bound to the recipes that replay them, checked from both sides when a catalog loads.

The catalog (data) and the recipes (code) are written apart, so they drift
apart: an entry added without its recipe, a variant renamed on one side only,
a recipe that needs a key no profile has. Each of those used to surface as a
``KeyError`` in the middle of a run, or as a case silently run twice. Here it
is a list of problems, each naming the entry and what to fix, raised as one
``CatalogError`` before any request is sent (the plugin makes it a usage error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from dfns_contract.contract import auth_recipes  # noqa: F401 - registers the recipes of the extended edit
from dfns_contract.contract import reference_recipes  # noqa: F401 - registers the recipes of the 2026 reference
from dfns_contract.contract import schemas
from dfns_contract.contract.catalog import Catalog, CatalogError, DocumentedError, read_catalog
from dfns_contract.contract.profile import env_name, profile_keys
from dfns_contract.contract.recipes import RECIPES, Recipe

RECIPES_MODULE = "src/dfns_contract/contract/recipes.py"


def check_binding(catalog: Catalog, recipes: Mapping[str, Recipe] = RECIPES,
                  known_keys: frozenset[str] | None = None) -> list[str]:
    """Every way the catalog's entries and their recipes disagree; empty when they match."""
    keys = known_keys if known_keys is not None else frozenset(profile_keys())
    problems: list[str] = []
    for error in catalog.errors:
        found = recipes.get(error.recipe_id)
        if found is None:
            problems.append(_no_recipe(error, recipes))
            continue
        problems += ["entry %r: server.variantFaults names %r, which is not one of its variants" % (error.id, variant)
                     for variant in error.variant_faults if variant not in error.variants]
        problems += _variant_problems(error, found)
        problems += ["recipe %r needs %r, which is not a profile key (schemas/profile.json)" % (error.recipe_id, need)
                     for need in dict.fromkeys((*found.needs, *(k for ks in found.variant_needs.values() for k in ks)))
                     if need not in keys]
        problems += ["recipe %r: variant_needs names %r, which is not one of its variants" % (error.recipe_id, variant)
                     for variant in found.variant_needs if variant not in found.variants]
        problems += ["entry %r: its message needs {%s}, which is neither a param nor a profile key"
                     % (error.id, key) for key in error.template_keys() if key not in keys]
    return problems


def _no_recipe(error: DocumentedError, recipes: Mapping[str, Recipe]) -> str:
    """An entry without a recipe: the recipes of published entries answered by the same server row come first
    (one of them may already send its request: name it as the entry's ``recipe``), then how to write one."""
    if error.recipe:
        return "entry %r names the recipe %r, which is not registered (%s)" % (error.id, error.recipe, RECIPES_MODULE)
    same = sorted({other.recipe_id for other in published_entries()
                   if other.server_error == error.server_error and other.recipe_id in recipes})
    hint = ("recipes %s already send requests the server answers with %s: if one sends this entry's request, "
            "name it as the entry's \"recipe\"; otherwise " % (", ".join(same), error.server_error)) if same else ""
    return "entry %r has no recipe: %sregister one with @recipe(%r, …) in %s" % (
        error.id, hint, error.id, RECIPES_MODULE)


def _variant_problems(error: DocumentedError, found: Recipe) -> list[str]:
    """A variant listed without code, and code for a variant that no published version lists.

    A version may replay fewer variants than the recipe knows (the 2026 reference has no app id, so a token
    of another organisation is no error there), but a variant no version lists is a rename gone half-way.
    """
    listed, coded = set(error.variants) | variants_published(error.recipe_id), set(found.variants)
    problems = ["entry %r: variant %r has no code in its recipe (it knows: %s)"
                % (error.id, variant, ", ".join(found.variants) or "no variants")
                for variant in error.variants if variant not in coded]
    problems += ["recipe %r: variant %r is not in the catalog entry (it lists: %s)"
                 % (error.id, variant, ", ".join(error.variants) or "no variants")
                 for variant in found.variants if variant not in listed]
    return problems


@lru_cache(maxsize=None)
def published_entries() -> tuple[DocumentedError, ...]:
    """Every entry of every published version's catalog (not checked against the recipes)."""
    return tuple(error for version in schemas.published_contracts()
                 for error in read_catalog(schemas.contract_path(version)).errors)


@lru_cache(maxsize=None)
def _published_variants() -> dict[str, frozenset[str]]:
    variants: dict[str, set[str]] = {}
    for error in published_entries():
        variants.setdefault(error.recipe_id, set()).update(error.variants)
    return {recipe_id: frozenset(names) for recipe_id, names in variants.items()}


def variants_published(recipe_id: str) -> frozenset[str]:
    """The variants that some published version's catalog lists for the recipe ``recipe_id``."""
    return _published_variants().get(recipe_id, frozenset())


def published_ids() -> frozenset[str]:
    """The ids of every entry of every published version (a test may name one its run's version lacks)."""
    return frozenset(error.id for error in published_entries())


#: Profile keys whose only use is a request header: needed only by the versions whose requests carry it.
HEADER_KEYS = {"appId": "X-DFNS-APPID"}


def required_keys(error: DocumentedError, variant: str | None = None) -> list[str]:
    """The profile keys a case of ``error`` needs: its recipe's, its variant's, then its message's (less a
    header's key its version does not send: the 2026 reference has no app id)."""
    found = RECIPES[error.recipe_id]
    keys = [*found.needs, *found.variant_needs.get(variant or "", ()), *error.template_keys()]
    headers = {name.lower() for name in error.request_headers}
    return list(dict.fromkeys(key for key in keys if HEADER_KEYS.get(key, "").lower() in headers | {""}))


def skip_reason(missing: list[str]) -> str:
    """Why a case did not run: the keys to add, and where."""
    return "profile keys missing: %s (set them in --dfns-profile or as %s)" % (
        ", ".join(missing), ", ".join(env_name(key) for key in missing))


@lru_cache(maxsize=8)
def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read a catalog (the default contract's without ``path``) and check it against the recipes; once per process.

    Raises ``CatalogError`` listing every entry and recipe that do not match.
    """
    catalog = read_catalog(path or schemas.contract_path())
    problems = check_binding(catalog)
    if problems:
        raise CatalogError("catalog %s and its recipes do not match:\n  - %s"
                           % (catalog.source, "\n  - ".join(problems)))
    return catalog


def load_contract(version: str) -> Catalog:
    """The catalog of a published version (``--dfns-contract``), checked to be that version's.

    Raises ``CatalogError`` naming the versions there are when ``version`` is not
    one of them, and when the file says it is another version than its name: a
    run must never certify against one edition while its outputs name another.
    """
    known = schemas.published_contracts()
    if version not in known:
        raise CatalogError("--dfns-contract %s: no such published version of the errors page; choose one of: %s"
                           % (version, ", ".join(known)))
    catalog = load_catalog(schemas.contract_path(version))
    if catalog.version != version:
        raise CatalogError("catalog %s says it is version %s, not %s (a bug of dfns-contract, please report it)"
                           % (catalog.source, catalog.version, version))
    return replace(catalog, published=True)
