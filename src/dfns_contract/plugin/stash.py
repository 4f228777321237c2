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
