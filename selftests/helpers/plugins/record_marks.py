"""A pytest plugin for the safety selftests (``-p selftests.helpers.plugins.record_marks``).

Writes, for every collected test, the documented errors it names (its
``documented_error`` and ``exercises`` markers) and whether it ended up marked
``destructive``, one JSON line each, to the file named by ``SELFTEST_MARKS``.
"""

from __future__ import annotations

import json
import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    with open(os.environ["SELFTEST_MARKS"], "a", encoding="utf-8") as out:
        for item in items:
            errors = [error_id for name in ("documented_error", "exercises")
                      for marker in item.iter_markers(name) for error_id in marker.args]
            out.write(json.dumps({"nodeid": item.nodeid, "errors": errors,
                                  "destructive": item.get_closest_marker("destructive") is not None}) + "\n")
