"""Fixtures shared by the contract suite (tests/) and the suite's own tests (selftests/)."""

from pathlib import Path

import pytest

from dfns_contract.catalog import Catalog, load_catalog

CATALOG_PATH = Path(__file__).parent / "tests" / "catalog.json"

# The selftests drive whole pytest runs of the suite.
pytest_plugins = ["pytester", "selftests.matrix_report"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog of documented errors."""
    return load_catalog(CATALOG_PATH)
