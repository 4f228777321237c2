"""A pytest plugin for the embedded-server selftests (``-p selftests.helpers.plugins.crash_worker``).

The pytest-xdist worker ``gw0`` dies (as on a segfault) when it starts the
case named by ``SELFTEST_CRASH_CASE``; pytest-xdist then replaces it with a
new worker, which must be handed the same shared server.
"""

from __future__ import annotations

import os

import pytest


def pytest_runtest_call(item: pytest.Item) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") == "gw0" and item.nodeid.endswith(os.environ["SELFTEST_CRASH_CASE"]):
        os._exit(70)
