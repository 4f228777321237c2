"""The replay-after-a-pause cases run last in their process, whatever order the run chose.

Their first use is sent when the session's first test starts (``pauses.py``);
run last, they find the pause already over and wait for nothing. Applied
after any shuffle (pytest-randomly, trylast), the same in every pytest-xdist
worker (xdist requires equal collections); the other cases keep their order.
"""

from __future__ import annotations

import pytest

from dfns_contract.contract.pauses import AFTER_A_PAUSE


def _after_a_pause(item: pytest.Item) -> bool:
    case = getattr(item, "callspec", None) and item.callspec.params.get("dfns_case")
    return getattr(case, "variant", None) == AFTER_A_PAUSE


class PausedLast:
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=_after_a_pause)
