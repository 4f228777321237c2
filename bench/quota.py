"""What a quota costs a run (issue 28): requests per run for each version, and the wall time behind a quota.

A quota charges requests, so the first number is how many a default run sends
(``pytest --dfns-contract VERSION`` by ``--base-url``), counted on the
reference server's side: its window quota (``server/quota.py``) set so high
that it never refuses, so the run sees the headers and is not slowed. The
second is the wall time of a default 2026 run behind a quota of 100 and of
1,000 requests a minute (a trial organisation's and the others', the earlier
rate-limits page), paced by ``--dfns-rate-limit auto``. Measured with the
window shortened ten times (100 requests per 6 s, not per 60 s): the same
quota per window, at ten times the rate, so that the benchmark takes seconds.
What a 60 s window costs is estimated, not measured: the pacer spreads the
requests over the window, so a run takes about ``requests x 60 / quota``
seconds, or its unthrottled time when that is longer (``at_60s_s``). The
server's 429s are counted too: 0 is the pacer's promise. Behind 100 a minute
the run takes the trial request plan (``contract/request_plan.py``), so that
row's ``requests`` is what a trial organisation's run sends: at most one
window (100), where the unthrottled rows show the default plan's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from project import REPO

VERSIONS = ("2024-08-19", "2024-08-19-extended", "2025-02-07", "2026")
#: The window shortened from 60 s by this factor (see the docstring).
SCALE = 10.0
#: Quotas a minute: a trial organisation's, and the others' (rate-limits.md, earlier version).
QUOTAS = (100, 1000)
RUN_TIMEOUT = 600.0
#: A quota no run reaches: the headers are sent, nothing is refused or slowed.
UNREACHED = 10**9


def run_behind(version: str, limit: int, window: float) -> dict[str, Any]:
    """A default run of ``version`` against a fresh reference server with this quota: requests, 429s, wall time."""
    from dfns_contract.server.runner import start_server
    from dfns_contract.server.settings import Settings

    with start_server(settings=Settings(rate_limit=limit, rate_window=window), contract=version) as server, \
            tempfile.TemporaryDirectory(prefix="dfns-bench-quota-") as folder:
        profile = Path(folder) / "profile.json"
        profile.write_text(json.dumps(server.profile))
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--dfns-contract",
             version, "--base-url", server.url, "--dfns-profile", str(profile)],
            cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        wall = time.perf_counter() - started
        quota = server.state.quota
        return {"version": version, "exit": done.returncode, "requests": quota.served + quota.refused,
                "refused_429": quota.refused, "wall_s": round(wall, 2)}


def bench_quota(progress: Any = None) -> dict[str, Any]:
    """Requests per default run for each version, then 2026's wall time behind 100 and 1,000 requests a minute."""
    results: dict[str, Any] = {"requests": {}, "paced": {}}
    for version in VERSIONS:
        if progress:
            progress("requests of a default %s run ..." % version)
        results["requests"][version] = run_behind(version, UNREACHED, 60.0)
    for per_minute in QUOTAS:
        if progress:
            progress("a default 2026 run behind %d requests a minute (window / %g) ..." % (per_minute, SCALE))
        run = run_behind("2026", per_minute, 60.0 / SCALE)
        run["per_minute"] = per_minute
        unthrottled = results["requests"]["2026"]["wall_s"]
        run["at_60s_s"] = round(max(run["requests"] * 60.0 / per_minute, unthrottled), 1)
        results["paced"][str(per_minute)] = run
    return results


if __name__ == "__main__":
    from project import ensure_project_python

    ensure_project_python()
    print(json.dumps(bench_quota(lambda m: print("bench: " + m, file=sys.stderr)), indent=2))
