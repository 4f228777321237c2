"""A slow or dead target, measured: the suite's wall time through the loopback fault proxy, next to its bound.

    python bench/run.py --faults [--json PATH]      (or: python bench/faults.py)

The whole suite runs against the reference server through
``selftests/helpers/proxy.py`` (put on ``sys.path`` from the repo root), as a
user runs it against a live target, in five scenarios:

* ``2s-per-request-from-start``: every request takes 2 s, ``--dfns-timeout 1``
  (the start-up check meets the slow target: a set-up error, exit 4);
* ``2s-per-request``: the same from the first case on (the start-up passed);
* ``stops-answering``: after the 150th request (inside the fuzzing), no request
  is ever answered; the default timeout (10 s); serial, and
* ``stops-answering -n 2``: the same under pytest-xdist;
* ``100ms-per-request``: a slow but healthy remote network at ``--dfns-timeout 1``:
  the run must pass, well within its deadline.

For each: the wall time, the exit status, what the proxy did, the run's
deadline and the bound docs/live-targets.md states (``documented_bound``). Every run is killed
after ``RUN_LIMIT`` seconds, so the benchmark ends even if the bound does not hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from project import REPO

#: Kills a run that would not end: far above every bound below.
RUN_LIMIT = 900.0
#: pytest's own start-up and reports, on a loaded 2-core machine (docs/live-targets.md: "a few seconds").
STARTUP_ALLOWANCE = 10.0
#: The requests before the first case: the reachability check and the preflight.
START_UP_REQUESTS = 5
#: The cleanup's requests at most, on a target that answers: per app it restores (2), GET then a signed
#: activation (3 requests), as the profile's app and again as the other one.
CLEANUP_REQUESTS = 16
DEFAULT_TIMEOUT = 10.0
BUDGET = "dev"


def documented_bound(timeout: float, deadline: float) -> float:
    """The bound of docs/live-targets.md: start-up (pytest's own, 5 requests) + deadline + requests in flight + cleanup."""
    return STARTUP_ALLOWANCE + START_UP_REQUESTS * timeout + deadline + timeout + CLEANUP_REQUESTS * timeout


def dead_target_bound(timeout: float, retried: int = 0) -> float:
    """The bound of docs/live-targets.md once the target fails: start-up, one timeout for the cases and one for the cleanup of each
    process (in parallel), one per change a pytest-xdist controller retries."""
    return STARTUP_ALLOWANCE + START_UP_REQUESTS * timeout + 2 * timeout + retried * timeout


@dataclass(frozen=True)
class Scenario:
    name: str
    policy: Callable[[Any], Any]
    timeout: float
    args: tuple[str, ...] = ()
    expect: str = "ends"  # "ends": in bounded time, any verdict; "passes": exit 0
    dead: bool = True  # the target fails: the dead-target bound applies
    retried: int = 0  # changes the xdist controller retries on a dead target


def scenarios() -> list[Scenario]:
    from selftests.helpers.proxy import HANG, Delay, after_request

    return [
        Scenario("2s-per-request-from-start", lambda request: Delay(2.0), 1.0),
        Scenario("2s-per-request", after_request(START_UP_REQUESTS, Delay(2.0)), 1.0),
        Scenario("stops-answering", after_request(150, HANG), DEFAULT_TIMEOUT),
        Scenario("stops-answering -n 2", after_request(150, HANG), DEFAULT_TIMEOUT, ("-n", "2"), retried=2),
        Scenario("100ms-per-request", lambda request: Delay(0.1), 1.0, expect="passes", dead=False),
    ]


def count_cases() -> tuple[int, int]:
    """The suite's selected cases and the heavy ones among them, as the run's deadline counts them."""
    def collected(*args: str) -> int:
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
                              cwd=REPO, capture_output=True, text=True, timeout=120, env=clean_env())
        return sum("::" in line for line in done.stdout.splitlines())

    return collected(), collected("-m", "heavy")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DFNS_", "PYTEST_"))}


def run_through(scenario: Scenario, upstream: str, profile: Path) -> dict[str, Any]:
    """One run of the whole suite through the proxy: wall time, exit status, what the proxy did, the verdict."""
    from selftests.helpers.proxy import FaultProxy

    with FaultProxy(upstream, scenario.policy) as proxy:
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--base-url", proxy.url,
               "--dfns-profile", str(profile), "--dfns-hypothesis-profile", BUDGET,
               "--dfns-timeout", "%g" % scenario.timeout, *scenario.args]
        started = time.perf_counter()
        try:
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=RUN_LIMIT, env=clean_env())
            status, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:  # the bound did not hold: report it, do not hang
            status, output = None, _text(exc.stdout)
        wall = time.perf_counter() - started
        counts, requests = dict(proxy.counts), proxy.requests
    lines = output.strip().splitlines()
    return {"wall_s": round(wall, 1), "exit": status, "proxy": counts, "requests": requests,
            "verdict": next((line for line in lines if line.startswith("dfns verdict:")), lines[-1] if lines else ""),
            "tail": lines[-2:]}


def _text(captured: bytes | str | None) -> str:
    """What a killed run had written (``TimeoutExpired`` holds bytes even for a text-mode run)."""
    if isinstance(captured, bytes):
        return captured.decode("utf-8", "replace")
    return captured or ""


def bench_faults() -> dict[str, Any]:
    """Every scenario, one after the other, against one reference server."""
    from dfns_contract.client.guard import run_deadline
    from dfns_contract.contract.fuzzing import VALUES
    from dfns_contract.server.runner import start_server

    cases, heavy = count_cases()
    examples = VALUES[BUDGET]
    results: dict[str, Any] = {"cases": cases, "heavy": heavy, "examples": examples, "scenarios": {}}
    with start_server() as server:
        profile = Path(os.environ.get("TMPDIR", "/tmp")) / ("dfns-bench-faults-%d.json" % os.getpid())
        profile.write_text(json.dumps(server.profile))
        try:
            for scenario in scenarios():
                print("bench: faults: %s ..." % scenario.name, file=sys.stderr, flush=True)
                deadline = run_deadline(scenario.timeout, cases, heavy, examples)
                measured = run_through(scenario, server.url, profile)
                measured.update(timeout_s=scenario.timeout, deadline_s=round(deadline, 1),
                                bound_s=round(documented_bound(scenario.timeout, deadline), 1))
                if scenario.dead:
                    measured["dead_target_bound_s"] = round(dead_target_bound(scenario.timeout, scenario.retried), 1)
                tightest = measured.get("dead_target_bound_s", measured["bound_s"])
                measured["ok"] = (measured["exit"] is not None and measured["wall_s"] <= tightest
                                  and (scenario.expect != "passes" or measured["exit"] == 0))
                results["scenarios"][scenario.name] = measured
        finally:
            profile.unlink(missing_ok=True)
    return results


def print_faults(results: dict[str, Any]) -> None:
    print("slow or dead target: the whole suite through the fault proxy (%d cases, %d heavy, %d examples)"
          % (results["cases"], results["heavy"], results["examples"]))
    print("%-27s %7s %5s %9s %9s %11s  %s" % ("scenario", "timeout", "exit", "wall", "deadline", "bound", "result"))
    for name, row in results["scenarios"].items():
        bound = row.get("dead_target_bound_s", row["bound_s"])
        print("%-27s %6gs %5s %8.1fs %8.0fs %10.0fs  %s" % (
            name, row["timeout_s"], row["exit"], row["wall_s"], row["deadline_s"], bound,
            ("PASS" if row["ok"] else "MISS") + "  " + row["verdict"][:70]))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the numbers here as JSON")
    args = parser.parse_args(argv)
    results = bench_faults()
    print_faults(results)
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(row["ok"] for row in results["scenarios"].values()) else 1


def _importable_repo() -> None:
    """bench/ is not a package: the repo root on sys.path makes ``selftests.helpers.proxy`` importable."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


_importable_repo()

if __name__ == "__main__":
    from project import ensure_project_python

    ensure_project_python()
    sys.exit(main())
