"""The contract suite: its catalog, and ``base_url`` as the target the plugin resolved.

pytest-base-url provides ``--base-url`` (and ``PYTEST_BASE_URL``, the
``base_url`` ini key); with none, the plugin starts the embedded reference
server and ``base_url`` answers with its URL.
"""

from pathlib import Path

import pytest

from dfns_contract.catalog import Catalog, load_catalog
from dfns_contract.plugin import register_catalog
from dfns_contract.target import Target

CATALOG_PATH = Path(__file__).with_name("catalog.json")


def catalog() -> Catalog:
    return load_catalog(CATALOG_PATH)


def pytest_configure(config: pytest.Config) -> None:
    register_catalog(config, catalog())


@pytest.fixture(scope="session")
def base_url(dfns_target: Target) -> str:
    return dfns_target.base_url
