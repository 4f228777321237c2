"""pytest plugin used by bench/run.py (``-p startup_probe``): when did things happen?

Records wall-clock times (``time.time()``) of: this plugin's import (pytest has
started and is loading plugins), the session start, the end of collection,
and the first request the suite sends (``requests.Session.send`` wrapped: every
request of requests goes through it, so no project code changes). The first
request reaches the embedded server between ``first_request`` and
``first_response``. Written as JSON to the file
named by ``DFNS_BENCH_STARTUP_OUT`` when pytest finishes.
"""

from __future__ import annotations

import json
import os
import time

_times: dict[str, float] = {"plugin_import": time.time()}

import requests  # noqa: E402 - after the first timestamp on purpose

_original = requests.Session.send


def _send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    if "first_request" in _times:
        return _original(self, *args, **kwargs)
    _times["first_request"] = time.time()
    try:
        return _original(self, *args, **kwargs)
    finally:
        _times["first_response"] = time.time()


requests.Session.send = _send  # type: ignore[method-assign]


def pytest_sessionstart(session):  # type: ignore[no-untyped-def]
    _times["session_start"] = time.time()


def pytest_collection_finish(session):  # type: ignore[no-untyped-def]
    _times["collection_finish"] = time.time()


def pytest_unconfigure(config):  # type: ignore[no-untyped-def]
    out = os.environ.get("DFNS_BENCH_STARTUP_OUT")
    if out and not hasattr(config, "workerinput"):
        with open(out, "w") as handle:
            json.dump(_times, handle)
