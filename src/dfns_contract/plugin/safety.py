"""What a case may do to the target and what it needs from the profile, from the catalog's declarations.

Every test of the suite says which documented errors it is about with a
marker, and takes everything else from the catalog entry and its recipe,
whatever kind of test it is (a replayed case, a race, a fuzz property, the
replay model):

* ``@pytest.mark.documented_error(ID)``: the test is a case of that error and
  counts towards its verdict;
* ``@pytest.mark.exercises(ID, …)``: the test exercises these errors beyond
  their cases (a fuzz property, a model of the replay rules) and does not
  count towards their verdicts.

From those ids: the ``destructive`` mark (any entry whose safety is not
``read-only``), the profile keys it needs (its recipes' and its messages';
missing keys skip it with their names), and the skip on a sensitive target.
An id the catalog does not know is a usage error, at collection.

pytest-selenium, where it is installed, skips every test not marked
``nondestructive`` when the ``base_url`` matches its ``--sensitive-url``
(default ``.*``: every target, the embedded server included), so it would skip
the whole suite and leave it green. The suite's tests are marked
``nondestructive`` for pytest-selenium: whether a case may change this target
is the suite's own decision, above, with ``--dfns-sensitive-url``.
"""

from __future__ import annotations

import pytest

from dfns_contract.contract.binding import published_ids, required_keys
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.plugin.options import Settings

MARKERS = ("documented_error", "exercises")
LINES = (
    "documented_error(id): the case replays this documented error of the catalog and counts towards its verdict",
    "exercises(*ids): the test exercises these documented errors (their needs and safety) without counting towards them",
    "requires_header(*names): the test is about request headers a version may not have (deselected under it)",
    "destructive: the case may change state on the target",
    "heavy: the case sends many requests; pytest-xdist hands it out first",
    "walks: a property whose budget is in walks of the replay model (contract/fuzzing.py WALKS)",
)


def declared_errors(item: pytest.Item, catalog: Catalog) -> list[DocumentedError]:
    """The catalog entries a test names with its markers."""
    ids = [error_id for name in MARKERS for marker in item.iter_markers(name) for error_id in marker.args]
    unknown = [error_id for error_id in ids if error_id not in catalog]
    if unknown:
        raise pytest.UsageError("%s names %s, not in the catalog %s" % (item.nodeid, ", ".join(map(repr, unknown)), catalog.source))
    return [catalog.by_id(error_id) for error_id in dict.fromkeys(ids)]


def not_in_contract(item: pytest.Item, catalog: Catalog) -> str | None:
    """Why a test of the suite is no part of this version's contract (then it is deselected), else None.

    A test may be about an error another published version documents (the nonce's, gone from the 2026
    reference; or a catalog of one's own lacks), or need a header this version's requests do not carry
    (``requires_header``). An id no
    published version has is still a usage error (``declared_errors``): a typo must not vanish in silence.
    """
    ids = [error_id for name in MARKERS for marker in item.iter_markers(name) for error_id in marker.args]
    headers = [name for marker in item.iter_markers("requires_header") for name in marker.args]
    return outside_contract(ids, headers, catalog)


def outside_contract(ids: list[str], headers: list[str], catalog: Catalog) -> str | None:
    """``not_in_contract`` from a test's marker arguments, so a test that was never collected can be judged too."""
    which = "contract %s" % catalog.version if catalog.published else "catalog %s" % catalog.source
    elsewhere = [error_id for error_id in ids if error_id not in catalog and error_id in published_ids()]
    if elsewhere:
        return "is about %s, which %s does not document" % (", ".join(elsewhere), which)
    absent = [name for name in headers if not catalog.has_header(name)]
    if absent:
        return "needs the header %s, which %s's requests do not carry" % (", ".join(absent), which)
    return None


def mark_destructive(item: pytest.Item, errors: list[DocumentedError]) -> None:
    if any(error.changes_state for error in errors) and item.get_closest_marker("destructive") is None:
        item.add_marker(pytest.mark.destructive)


def selenium_safety_present(config: pytest.Config) -> bool:
    """Whether a plugin (pytest-selenium) registered the ``nondestructive`` marker of its safety check."""
    return any(line.split(":")[0].strip() == "nondestructive" for line in config.getini("markers"))


def needs(errors: list[DocumentedError], variant: str | None = None) -> list[str]:
    """Every profile key the test needs (a case: with its variant's), in a stable order."""
    return list(dict.fromkeys(key for error in errors for key in required_keys(error, variant)))


def skip_if_unsafe(item: pytest.Item, settings: Settings) -> None:
    """A state-changing case is skipped on a sensitive target unless --dfns-allow-destructive."""
    if item.get_closest_marker("destructive") and settings.sensitive and not settings.allow_destructive:
        pytest.skip("may change state on a sensitive target (%s): pass --dfns-allow-destructive to run it" % settings.shown_url)
