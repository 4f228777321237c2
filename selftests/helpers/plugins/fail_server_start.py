"""A pytest plugin for the embedded-server selftests (``-p selftests.helpers.plugins.fail_server_start``).

The reference server cannot start in this process (as if binding its socket
failed): whoever starts it, a serial run or the pytest-xdist controller, gets
``ServerStartError``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from dfns_contract.server import runner


def _cannot_start(**_: Any) -> NoReturn:
    raise runner.ServerStartError("selftest: no socket could be bound")


runner.prepare_server = _cannot_start  # type: ignore[assignment]
