#!/usr/bin/env python
"""Benchmark of the suite and its reference server (issue 8).

    python bench/run.py [--quick] [--runs N] [--seconds S] [--json PATH] [--no-wrk]
    python bench/run.py --faults [--json PATH]
    python bench/run.py --remote [--json PATH]

Measures, all on loopback, every loop bounded in time or count:

1. wall time of the default suite, serial and ``-n 2`` (median of N runs);
2. client throughput: ``DfnsClient.request("GET", "/auth/apps")`` against a
   ``dfns-mock`` process, next to a raw keep-alive ``http.client`` loop;
3. the reference server under 8 concurrent keep-alive clients: (a) a cheap
   rejection (missing nonce), (b) the full user-action flow, (c) a valid GET;
4. peak memory (max RSS) of a suite run;
5. start-up: from launching pytest to its first request;
6. a slow-connection attack (issue 16): a normal request answered within 1 s
   while 300 slow connections are open (slow_connections.py; in the JSON);
7. requests per default run for each version, and a default 2026 run's wall
   time behind a quota of 100 and of 1,000 requests a minute (quota.py).

Prints a table (target, PASS/MISS) and the same numbers as JSON (``--json``).
``--remote`` measures a remote target (remote.py): the whole suite through a
proxy that delays each request 0, 20 and 100 ms, at the default concurrency,
one request at a time and under ``-n 4``; with requests and the longest chain.
``--faults`` measures instead a slow or dead target (faults.py): the whole
suite through a loopback fault proxy, its wall time next to its bound.
See bench/README.md. This file is the command line only: measure.py (1, 2,
4, 5), load.py (3), mock.py (the server process), table.py (rows and report).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from typing import Any

from load import CLIENTS, bench_load
from measure import bench_client, bench_startup, bench_suite, cached_env
from project import ensure_project_python
from quota import bench_quota
from slow_connections import bench_slow_connections
from table import report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options; ``runs`` and ``seconds`` resolved from ``--quick`` when not given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 suite run each, 1.5 s per load measurement"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="suite runs per median, in serial/-n 2 pairs (default 5; --quick 1)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="seconds per throughput measurement (default 3; --quick 1.5)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the numbers here as JSON")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="measure a slow or dead target instead (faults.py: the suite through a fault proxy, ~2 min)",
    )
    parser.add_argument(
        "--remote",
        action="store_true",
        help="measure a remote target instead (remote.py: the suite through a delaying proxy, ~2 min)",
    )
    parser.add_argument(
        "--no-wrk",
        action="store_true",
        help="use the Python load generator even if wrk is installed",
    )
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 5)
    args.seconds = args.seconds or (1.5 if args.quick else 3.0)
    args.use_wrk = not args.no_wrk and shutil.which("wrk") is not None
    return args


def progress(message: str) -> None:
    """On stderr, so that stdout stays the table and the JSON."""
    print("bench: " + message, file=sys.stderr, flush=True)


def measure_all(runs: int, seconds: float, use_wrk: bool) -> dict[str, Any]:
    """Every measurement, one after the other (in parallel they would disturb each other)."""
    results: dict[str, Any] = {}
    progress("suite x%d serial, x%d -n 2 ..." % (runs, runs))
    results["suite"] = bench_suite(runs)
    with tempfile.TemporaryDirectory(prefix="dfns-bench-pycache-") as pycache:
        progress("the same with a bytecode cache (as tox runs it) ...")
        results["suite_cached"] = bench_suite(runs, cached_env(pycache))
        results["startup_cached"] = bench_startup(runs, cached_env(pycache))
    progress("start-up x%d ..." % runs)
    results["startup"] = bench_startup(runs)
    progress("client throughput (%.1f s each side) ..." % seconds)
    results["client"] = bench_client(seconds)
    progress("server under load (%.1f s each, wrk: %s) ..." % (seconds, "yes" if use_wrk else "no"))
    results["load"] = bench_load(seconds, use_wrk)
    progress("slow-connection attack, 300 connections (about 15 s) ...")
    results["slow_connections"] = bench_slow_connections()
    progress("requests per run and the wall time behind a quota (quota.py, about 40 s) ...")
    results["quota"] = bench_quota(progress)
    return results


def main(argv: list[str] | None = None) -> int:
    """1 if a suite run failed: its times would not be the suite's."""
    args = parse_args(argv)
    if args.remote:
        from remote import main as remote_main

        return remote_main(["--json", args.json] if args.json else [])
    if args.faults:
        from faults import main as faults_main

        return faults_main(["--json", args.json] if args.json else [])
    started = time.perf_counter()
    results = measure_all(args.runs, args.seconds, args.use_wrk)
    config = {
        "runs": args.runs,
        "seconds": args.seconds,
        "clients": CLIENTS,
        "wrk": args.use_wrk,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "bench_wall_s": round(time.perf_counter() - started, 1),
    }
    report(config, results, args.runs, args.json)
    suite = results["suite"]
    quota_runs = [*results["quota"]["requests"].values(), *results["quota"]["paced"].values()]
    return 0 if all(e == 0 for e in suite["serial_exit"] + suite["parallel_exit"] + [r["exit"] for r in quota_runs]) else 1


if __name__ == "__main__":
    ensure_project_python()
    sys.exit(main())
