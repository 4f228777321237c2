"""What the plugin keeps on pytest's config and items (stash keys), in one place."""

from __future__ import annotations

import pytest

from dfns_contract.contract.catalog import Catalog
from dfns_contract.plugin.options import Settings

#: What the command line, the ini file and the profile decided (set when the suite is activated).
SETTINGS = pytest.StashKey[Settings]()
#: The catalog of the contract the run certifies against, loaded once per process.
CATALOG = pytest.StashKey[Catalog]()
#: The folder of the suite's tests: settings and marks apply to its tests only.
SUITE_DIR = pytest.StashKey["object"]()
#: Profile keys a test needs (from its markers), on the item.
NEEDS = pytest.StashKey[list[str]]()
#: Every case collected per documented error, before -k and -m deselect: error id -> node ids.
COLLECTED = pytest.StashKey[dict[str, list[str]]]()
#: Every test function of the suite collected, before -k and -m deselect, version-deselected ones included
#: (``inventory.test_key``): what an inventory test missing from it did not run.
COLLECTED_TESTS = pytest.StashKey[set[str]]()
#: Tests that exercise documented errors without counting towards them, collected in this version: node id -> ids.
COLLECTED_OTHERS = pytest.StashKey[dict[str, list[str]]]()
#: The suite's tests tied to documented errors, read from its files (``inventory.read_suite``).
SUITE_TESTS = pytest.StashKey[list]()
