"""The contract suite registers its catalog, so the summary and --require-all count against it."""

from pathlib import Path

import pytest

from dfns_contract.catalog import Catalog, load_catalog
from dfns_contract.plugin import register_catalog

CATALOG_PATH = Path(__file__).with_name("catalog.json")


def catalog() -> Catalog:
    return load_catalog(CATALOG_PATH)


def pytest_configure(config: pytest.Config) -> None:
    register_catalog(config, catalog())
