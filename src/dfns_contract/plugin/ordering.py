"""The order a process runs its tests in, whatever order the run chose: the heavy first, the pauses last.

1. the tests with many requests each (the properties, the replay model, the
   races) first: run ahead (``ahead.py``), the longest work starts first; under
   pytest-xdist, no worker is left with a heavy test at the end while the
   other idles;
2. the cases;
3. the replays after a pause: their first use was sent when the session's first
   test started (``pauses.py``), so they find the pause over and wait for nothing.

Applied after any shuffle (pytest-randomly, trylast), so each group keeps the
order the run chose; the same in every pytest-xdist worker (xdist requires
equal collections).
"""

from __future__ import annotations

import pytest

from dfns_contract.contract.pauses import AFTER_A_PAUSE
from dfns_contract.plugin.ahead import case_of


def turn(item: pytest.Item) -> int:
    """The group of ``item``: 0 not a case (heavy), 1 a case, 2 a replay after a pause."""
    case = case_of(item)
    if case is None:
        return 0
    return 2 if case.variant == AFTER_A_PAUSE else 1


class RunOrder:
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=turn)
