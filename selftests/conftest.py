"""What every selftest shares: pytester, the mutation matrix's summary, the shipped catalog.

The selftests mirror the package: unit/ (one module per package), server/ (the
reference server, with its own fixtures), runs/ (whole runs of the suite, as a
user starts them), mutation/ (the matrix); helpers/ holds the runner, the
matrix and the helper plugins the runs load with ``-p``, data/ the pages they read.

Two tiers (helpers/tiers.py): ``pytest selftests`` deselects the ``slow`` ones (the mutation
matrix and the other whole-run properties); ``-m slow`` or ``--full-tier`` runs them.
"""

import pytest

from dfns_contract.contract.binding import load_catalog
from dfns_contract.contract.catalog import Catalog

pytest_plugins = ["pytester", "selftests.helpers.matrix_report", "selftests.helpers.tiers"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog of documented errors (the default contract's)."""
    return load_catalog()
