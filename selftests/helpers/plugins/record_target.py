"""A pytest plugin for the embedded-server selftests (``-p selftests.helpers.plugins.record_target``).

Every case appends, to the file named by ``SELFTEST_TARGETS``, one JSON line:
the process that ran it, its xdist worker id and the URL of the target it
tested, so a selftest can tell which server each worker used.
"""

from __future__ import annotations

import json
import os

import pytest

from dfns_contract.contract.target import Target


@pytest.fixture(autouse=True)
def _record_target(dfns_target: Target, worker_id: str) -> None:
    line = {"pid": os.getpid(), "worker": worker_id, "url": dfns_target.base_url, "target": dfns_target.description}
    with open(os.environ["SELFTEST_TARGETS"], "a", encoding="utf-8") as out:  # O_APPEND: lines never interleave
        out.write(json.dumps(line) + "\n")
