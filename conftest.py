"""Project-wide fixtures: the suite's ``base_url`` is the target the plugin resolved.

pytest-base-url provides ``--base-url`` (and ``PYTEST_BASE_URL``, the
``base_url`` ini key); with none, the plugin starts the embedded reference
server and this fixture answers with its URL.
"""

import pytest

from dfns_contract.target import Target


@pytest.fixture(scope="session")
def base_url(dfns_target: Target) -> str:
    return dfns_target.base_url
