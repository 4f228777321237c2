#!/usr/bin/env python
"""Profile the hot paths that bench/run.py measures (tools installed by hand, not project deps).

    .venv/bin/pip install py-spy pyinstrument
    python bench/hotpaths.py server [--scenario reject|valid|flow] [--seconds 5] [--native]
    python bench/hotpaths.py client [--seconds 4]

``server``: a ``dfns-mock`` process under 8-client load (wrk when installed,
else the Python generator), sampled by ``py-spy record``; prints the frames
with the most samples, self and inclusive (file:line).
``client``: ``DfnsClient.request("GET", "/auth/apps")`` in a loop against a
``dfns-mock`` process, under pyinstrument; then the client's CPU per request
split by phase of ``DfnsClient.send``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from clients import suite_client  # bench/ modules, next to this file
from load import load_python, load_wrk
from mock import Mock
from project import REPO, ensure_project_python

SITE = re.compile(r"\S*/(site-packages|python3\.\d+)/")


def _short(frame: str) -> str:
    match = re.match(r"^(.*?) \((.*)\)$", frame)
    text = "%s  %s" % (match.group(2), match.group(1)) if match else frame
    return SITE.sub("", text.replace(str(REPO) + "/", ""))


def summarize(path: str, top: int = 25) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as handle:
        for line in handle:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            total += n
            frames = [_short(f) for f in stack.split(";") if "(" in f]
            for frame in set(frames):
                inclusive[frame] += n
            if frames:
                own[frames[-1]] += n
    print("%d samples" % total)
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print("-- %s --" % title)
        for frame, n in counter.most_common(top):
            print("%5.1f%%  %s" % (100.0 * n / total, frame))


def profile_server(scenario: str, seconds: float, native: bool) -> None:
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy):
        raise SystemExit("py-spy is not installed (.venv/bin/pip install py-spy)")
    use_wrk = shutil.which("wrk") is not None and scenario != "flow"
    with Mock() as mock, tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "server.txt")
        # The load runs a little longer than the sampling, so every sample is under load.
        load_seconds = seconds + 2
        result: dict = {}

        def load() -> None:
            if use_wrk:
                result.update(load_wrk(mock, scenario, load_seconds))
            else:
                result.update(load_python(mock, scenario, 2, 4, load_seconds))

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        cmd = [
            spy,
            "record",
            "-p",
            str(mock.pid),
            "-d",
            str(int(seconds)),
            "-r",
            "250",
            "-f",
            "raw",
            "-o",
            out,
        ]
        cmd += ["--native"] if native else ["--nonblocking"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=seconds + 60)
        loader.join(load_seconds + 90)
        print(
            "server, %s, load: %s, %.0f req/s while sampled (sampling slows it)"
            % (scenario, result.get("generator", "?"), result.get("req_per_s", float("nan")))
        )
        summarize(out)


def profile_client(seconds: float) -> None:
    import requests
    from pyinstrument import Profiler

    from dfns_contract import client as C

    with Mock() as mock:
        client = suite_client(mock, requests.Session())
        client.request("GET", "/auth/apps")
        profiler = Profiler(interval=0.0005)
        profiler.start()
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            client.request("GET", "/auth/apps")
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=True))

        # CPU per phase of DfnsClient.send (mirrors its body; wall time would include the server).
        clock = time.process_time
        phases: collections.Counter[str] = collections.Counter()

        class Phased(C.DfnsClient):
            def send(self, method, path, headers, body):  # type: ignore[no-untyped-def]
                t0 = clock()
                url = self.base_url + path
                prepared = self.session.prepare_request(requests.Request(method, url, data=body))
                prepared.headers.update(headers)
                t1 = clock()
                settings = self.session.merge_environment_settings(url, {}, None, None, None)
                t2 = clock()
                response = self.session.send(
                    prepared, timeout=self.timeout, allow_redirects=False, **settings
                )
                t3 = clock()
                exchange = C.Exchange(method, url, dict(headers), body, response)
                for observe in self.observers:
                    observe(exchange)
                t4 = clock()
                phases["Session.prepare_request + headers.update"] += t1 - t0
                phases["Session.merge_environment_settings"] += t2 - t1
                phases["Session.send (requests adapter, urllib3, socket)"] += t3 - t2
                phases["Exchange + audit observer"] += t4 - t3
                return exchange

        phased = suite_client(mock, requests.Session(), cls=Phased)
        phased.request("GET", "/auth/apps")
        n, started = 1000, clock()
        for _ in range(n):
            phased.request("GET", "/auth/apps")
        total = clock() - started
        print("client CPU per request: %.0f us" % (total / n * 1e6))
        phases["rest of DfnsClient.request (headers, make_nonce)"] = total - sum(phases.values())
        for name, spent in phases.most_common():
            print("  %5.0f us  %4.0f%%  %s" % (spent / n * 1e6, 100 * spent / total, name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=("server", "client"))
    parser.add_argument("--scenario", choices=("reject", "valid", "flow"), default="reject")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--native", action="store_true", help="py-spy --native: C frames too (syscalls)"
    )
    args = parser.parse_args()
    if args.target == "server":
        profile_server(args.scenario, args.seconds, args.native)
    else:
        profile_client(args.seconds)


if __name__ == "__main__":
    ensure_project_python()
    main()
