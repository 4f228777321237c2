"""The pytest plugin's entry point (``pytest11``): hooks only.

Registered as an entry point so that ``pytest --base-url URL --dfns-profile
PATH`` works in the space-separated form: pytest must know an option before it
reads the command line, and only installed plugins are known that early
(conftest files are found through the test paths, too late). Loaded in every
pytest run of the virtualenv, it registers the options and mends how pytest
reads them, and nothing else: the suite's conftest switches the rest on
(``suite.activate``), so another project's run is left as it was.
"""

from __future__ import annotations

from dfns_contract.plugin.internals import rename_deprecated_options, repair_setup, skip_assertion_rewriting

# Before this package imports the rest of itself, and before pytest imports hypothesis.
skip_assertion_rewriting()

import pytest  # noqa: E402

from dfns_contract.plugin.options import DEPRECATED, PATH_DESTS, add_options  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    rename_deprecated_options(early_config, args, DEPRECATED)
    repair_setup(early_config, args, PATH_DESTS)
