"""What the suite costs: its wall time and memory, its start-up, its client's throughput.

The suite runs as a subprocess from the repo root, as a developer runs it;
the client is measured against a ``dfns-mock`` process, next to a bare
``http.client`` loop, so that what the client itself costs stands apart.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from http.client import HTTPConnection
from typing import TYPE_CHECKING, Any

from clients import auth_headers, connect, expect_status, get_apps, raw_client, suite_client
from mock import Mock
from project import BENCH, REPO

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient

SUITE_TIMEOUT = 300.0
SUITE = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"]
PARALLEL = ["-n", "2"]
CLIENT_ROUNDS = 3


# -- the suite as a subprocess: wall time, memory, start-up --------------------------


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run to completion (killed after SUITE_TIMEOUT); wall time, exit code, max RSS of the tree.

    ``wait4`` rather than ``wait``: its ``ru_maxrss`` is the largest single
    process of the tree that was waited for (KiB), without polling.
    """
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
        watchdog = threading.Timer(SUITE_TIMEOUT, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        tail = out.read().decode("utf-8", "replace").strip().splitlines()[-3:]
    return {"wall_s": wall, "exit": proc.returncode, "maxrss_kib": usage.ru_maxrss, "tail": tail}


def cached_env(prefix: str) -> dict[str, str]:
    """This environment with a bytecode cache under ``prefix``, as tox.ini sets it up."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = ""
    env["PYTHONPYCACHEPREFIX"] = prefix
    return env


def bench_suite(runs: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Serial and ``-n 2`` wall times and peak RSS; ``env`` None: this environment, as it is.

    With an ``env``, one run first fills its bytecode cache. The runs go in
    pairs, serial then ``-n 2``, so that a slow spell of this shared machine
    hits both alike; the paired ratio is the number to trust.
    """
    if env is not None:
        run_child(SUITE, env=env)
    serial, parallel = [], []
    for _ in range(runs):
        serial.append(run_child(SUITE, env=env))
        parallel.append(run_child(SUITE + PARALLEL, env=env))
    _report_failures({"serial": serial, "-n 2": parallel})
    return {
        "serial_s": _median_wall(serial),
        "serial_runs_s": [r["wall_s"] for r in serial],
        "parallel_s": _median_wall(parallel),
        "parallel_runs_s": [r["wall_s"] for r in parallel],
        "paired_ratio": statistics.median(
            p["wall_s"] / s["wall_s"] for s, p in zip(serial, parallel, strict=True)
        ),
        "serial_exit": [r["exit"] for r in serial],
        "parallel_exit": [r["exit"] for r in parallel],
        "serial_maxrss_mib": max(r["maxrss_kib"] for r in serial) / 1024,
        "parallel_maxrss_mib": max(r["maxrss_kib"] for r in parallel) / 1024,
    }


def _median_wall(results: list[dict[str, Any]]) -> float:
    return statistics.median(r["wall_s"] for r in results)


def _report_failures(by_mode: dict[str, list[dict[str, Any]]]) -> None:
    """A failed suite run's exit and last lines on stderr: its time would mislead unexplained."""
    for name, results in by_mode.items():
        failed = [r for r in results if r["exit"] != 0]
        if failed:
            print(
                "bench: suite (%s) exited %d: %s" % (name, failed[0]["exit"], failed[0]["tail"]),
                file=sys.stderr,
            )


def bench_startup(runs: int, base_env: dict[str, str] | None = None) -> dict[str, float]:
    """Median seconds from launching pytest to each moment ``startup_probe`` records.

    The probe is a plugin loaded with ``-p`` from bench/ (on PYTHONPATH), so
    the project needs no change to be timed.
    """
    with tempfile.TemporaryDirectory(prefix="dfns-bench-") as tmp:
        out = os.path.join(tmp, "startup.json")
        env = dict(base_env or os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")]))
        env["DFNS_BENCH_STARTUP_OUT"] = out
        samples = [_startup_sample(env, out) for _ in range(runs)]
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def _startup_sample(env: dict[str, str], out: str) -> dict[str, float]:
    """One suite run with the probe: its moments, in seconds since the launch."""
    if os.path.exists(out):
        os.unlink(out)
    launched = time.time()
    result = run_child(SUITE + ["-p", "startup_probe"], env=env)
    if not os.path.exists(out):
        raise RuntimeError("start-up probe wrote nothing: %s" % result["tail"])
    with open(out) as handle:
        times = json.load(handle)
    if "first_request" not in times:
        raise RuntimeError("the suite sent no request through requests.Session.send")
    return {k: v - launched for k, v in times.items()}


# -- client throughput ----------------------------------------------------------------


def bench_client(seconds: float) -> dict[str, Any]:
    """Requests per second and client CPU per request: raw, DfnsClient, DfnsClient over http.client.

    The thin client is for comparison only: it shows how much of the cost is
    ``requests`` rather than the suite's own code.
    """
    import requests

    from dfns_contract.contract.expectations import audit

    with Mock() as mock, requests.Session() as session, closing(connect(mock.url)) as conn:
        client = suite_client(mock, session)
        thin = raw_client(mock.url, mock.profile, observers=[audit])
        with closing(thin.conn):
            tallies = _alternate(_client_sides(mock.profile, conn, client, thin), seconds)
    return _client_summary(tallies)


def _client_sides(
    profile: dict[str, Any], conn: HTTPConnection, client: DfnsClient, thin: DfnsClient
) -> dict[str, Callable[[], None]]:
    """One checked ``GET /auth/apps`` per call of each side: a failure must not count as speed."""
    from dfns_contract.wire.nonce import make_nonce

    def raw() -> None:
        get_apps(conn, auth_headers(profile, make_nonce()), 200, "raw loop")

    def suite() -> None:
        expect_status(client.request("GET", "/auth/apps"), 200, "DfnsClient")

    def over_http_client() -> None:
        expect_status(thin.request("GET", "/auth/apps"), 200, "DfnsClient over http.client")

    return {"raw": raw, "client": suite, "thin": over_http_client}


@dataclass
class _Tally:
    """What one side of the client comparison did over all its slices."""

    requests: int = 0
    wall: float = 0.0
    cpu: float = 0.0


def _alternate(sides: dict[str, Callable[[], None]], seconds: float) -> dict[str, _Tally]:
    """Every side for ``seconds`` in all, in CLIENT_ROUNDS short slices taken in turn.

    Alternating slices, so that noise of the machine hits every side alike;
    each side first runs once to connect and warm up.
    """
    for step in sides.values():
        step()
    tallies = {name: _Tally() for name in sides}
    for _ in range(CLIENT_ROUNDS):
        for name, step in sides.items():
            tally, cpu0 = tallies[name], time.process_time()
            count, elapsed = _loop(step, seconds / CLIENT_ROUNDS)
            tally.requests += count
            tally.wall += elapsed
            tally.cpu += time.process_time() - cpu0
    return tallies


def _loop(step: Callable[[], None], duration: float) -> tuple[int, float]:
    """Run ``step`` back to back for ``duration`` seconds: (count, elapsed)."""
    count, started = 0, time.perf_counter()
    until = started + duration
    while time.perf_counter() < until:
        step()
        count += 1
    return count, time.perf_counter() - started


def _client_summary(tallies: dict[str, _Tally]) -> dict[str, Any]:
    """Rates and the ratios to raw that the table judges, CPU per request in microseconds."""
    rate = {name: t.requests / t.wall for name, t in tallies.items()}
    return {
        "raw_rps": rate["raw"],
        "client_rps": rate["client"],
        "ratio": rate["client"] / rate["raw"],
        "thin_client_rps": rate["thin"],
        "thin_ratio": rate["thin"] / rate["raw"],
        "client_cpu_us_per_req": {name: t.cpu / t.requests * 1e6 for name, t in tallies.items()},
    }
