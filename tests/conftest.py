"""The contract suite: its tests are the cases the dfns_contract plugin drives.

Activating the plugin here, rather than wherever it is installed, keeps it out
of every other pytest run in the same virtualenv: its fixtures, header lines,
Hypothesis budget and summary exist only where this folder is collected.
"""

from pathlib import Path

import pytest

from dfns_contract.plugin.suite import activate


def pytest_configure(config: pytest.Config) -> None:
    activate(config, Path(__file__).parent)
