"""A pytest plugin for the cleanup selftests (``-p selftests.helpers.plugins.break_after_deactivate``).

Breaks the suite right after its first successful deactivation, the worst
moment: ``SELFTEST_BREAK=interrupt`` raises KeyboardInterrupt (Ctrl-C),
``crash`` ends the process at once (``os._exit``, as a segfault or the OOM
killer would), anything else a RuntimeError (a case that fails after it
changed state).
Once per process; the session cleanup's own requests go through untouched.
"""

from __future__ import annotations

import os

from dfns_contract.client import DfnsClient, Exchange

_send = DfnsClient.send
_broken: list[str] = []


def _send_then_break(self: DfnsClient, method: str, path: str, headers: dict[str, str], body: bytes | None,
                     **how: object) -> Exchange:
    exchange = _send(self, method, path, headers, body, **how)  # how: the client's own (rebuild, chosen…)
    if not _broken and method == "PUT" and path.endswith("/deactivate") and 200 <= exchange.status < 300:
        _broken.append(path)
        if os.environ.get("SELFTEST_BREAK") == "interrupt":
            raise KeyboardInterrupt
        if os.environ.get("SELFTEST_BREAK") == "crash":
            os._exit(70)
        raise RuntimeError("selftest: the case breaks right after %s %s succeeded" % (method, path))
    return exchange


DfnsClient.send = _send_then_break  # type: ignore[method-assign]
