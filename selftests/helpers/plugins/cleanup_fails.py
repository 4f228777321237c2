"""A pytest plugin for the cleanup selftests (``-p selftests.helpers.plugins.cleanup_fails``).

Every restore of the session cleanup fails, as it would if the target refused
to re-activate an app: the run must not end green.
"""

from __future__ import annotations

from dfns_contract.contract import cleanup


def _refuse(*args: object, **kwargs: object) -> str:
    raise cleanup.CleanupFailed("selftest: the target refuses to re-activate the app")


cleanup._ensure_active = _refuse  # type: ignore[assignment]
