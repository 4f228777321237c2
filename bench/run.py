#!/usr/bin/env python
"""Benchmark of the suite and its reference server (issue 8).

    python bench/run.py [--quick] [--runs N] [--seconds S] [--json PATH] [--no-wrk]

Measures, all on loopback, every loop bounded in time or count:

1. wall time of the default suite, serial and ``-n 2`` (median of N runs);
2. client throughput: ``DfnsClient.request("GET", "/auth/apps")`` against a
   ``dfns-mock`` process, next to a raw keep-alive ``http.client`` loop;
3. the reference server under 8 concurrent keep-alive clients: (a) a cheap
   rejection (missing nonce), (b) the full user-action flow, (c) a valid GET;
4. peak memory (max RSS) of a suite run;
5. start-up: from launching pytest to its first request.

Prints a table (target, PASS/MISS) and the same numbers as JSON (``--json``).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
CLIENTS = 8
READY_TIMEOUT = 30.0
SUITE_TIMEOUT = 300.0

# Targets (issue 8). None: informational.
TARGET_CLIENT_RATIO = 0.50
TARGET_SUITE_SERIAL_S = 10.0
TARGET_REJECT_RPS = 2000.0
TARGET_REJECT_P99_MS = 20.0


def _ensure_project_python() -> None:
    """Re-run under the project's venv when started with a Python that lacks the project."""
    try:
        import dfns_contract  # noqa: F401
    except ImportError:
        venv = REPO / ".venv" / "bin" / "python"
        if venv.exists() and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
            os.execv(str(venv), [str(venv), str(Path(__file__).resolve()), *sys.argv[1:]])
        raise SystemExit("bench: dfns_contract is not importable; install the project first") from None


# -- helpers -------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads) so far."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run to completion (killed after SUITE_TIMEOUT); wall time, exit code, max RSS of the tree."""
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
    # ru_maxrss of wait4: the largest single process of the tree that was waited for (KiB).
    return {"wall_s": wall, "exit": proc.returncode, "maxrss_kib": usage.ru_maxrss, "tail": tail}


class Mock:
    """``dfns-mock --port 0`` as a separate process; ready when it prints its URL."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="dfns-bench-")
        profile_path = os.path.join(self.dir, "profile.json")
        script = Path(sys.executable).with_name("dfns-mock")
        cmd = (
            [str(script)] if script.exists() else [sys.executable, "-m", "dfns_contract.server.cli"]
        )
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd + ["--port", "0", "--profile-out", profile_path],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        try:
            self.url = self._wait_ready()
            with open(profile_path) as handle:
                self.profile = json.load(handle)
        except BaseException:
            self.stop()
            raise
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def _wait_ready(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(
                        "dfns-mock did not report ready within %.0f s" % READY_TIMEOUT
                    )
                if selector.select(left):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        raise RuntimeError("dfns-mock exited before it was ready (see its stderr)")
                    buffer += chunk
        line = buffer.split(b"\n", 1)[0].decode()
        prefix = "dfns-mock listening on "
        if not line.startswith(prefix):
            raise RuntimeError("unexpected first line from dfns-mock: %r" % line)
        return line[len(prefix) :].strip()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- 1, 4, 5: the suite as a subprocess -----------------------------------------------


SUITE = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"]


def cached_env(prefix: str) -> dict[str, str]:
    """This environment with a bytecode cache under ``prefix``, as tox.ini sets it up."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = ""
    env["PYTHONPYCACHEPREFIX"] = prefix
    return env


def bench_suite(runs: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``env``: run the suite in it (None: this environment, as it is)."""
    if env is not None:
        run_child(SUITE, env=env)  # fill the bytecode cache
    # In pairs, serial then -n 2, so that a slow spell of this shared machine hits both alike.
    serial, parallel = [], []
    for _ in range(runs):
        serial.append(run_child(SUITE, env=env))
        parallel.append(run_child(SUITE + ["-n", "2"], env=env))
    for name, results in (("serial", serial), ("-n 2", parallel)):
        failed = [r for r in results if r["exit"] != 0]
        if failed:
            print(
                "bench: suite (%s) exited %d: %s" % (name, failed[0]["exit"], failed[0]["tail"]),
                file=sys.stderr,
            )
    return {
        "serial_s": statistics.median(r["wall_s"] for r in serial),
        "serial_runs_s": [r["wall_s"] for r in serial],
        "parallel_s": statistics.median(r["wall_s"] for r in parallel),
        "parallel_runs_s": [r["wall_s"] for r in parallel],
        "paired_ratio": statistics.median(p["wall_s"] / s["wall_s"] for s, p in zip(serial, parallel, strict=True)),
        "serial_exit": [r["exit"] for r in serial],
        "parallel_exit": [r["exit"] for r in parallel],
        "serial_maxrss_mib": max(r["maxrss_kib"] for r in serial) / 1024,
        "parallel_maxrss_mib": max(r["maxrss_kib"] for r in parallel) / 1024,
    }


def bench_startup(runs: int, base_env: dict[str, str] | None = None) -> dict[str, Any]:
    samples = []
    with tempfile.TemporaryDirectory(prefix="dfns-bench-") as tmp:
        out = os.path.join(tmp, "startup.json")
        env = dict(base_env or os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")]))
        env["DFNS_BENCH_STARTUP_OUT"] = out
        for _ in range(runs):
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
            samples.append({k: v - launched for k, v in times.items()})
    keys = samples[0].keys()
    return {k: statistics.median(s[k] for s in samples) for k in keys}


# -- 2: client throughput -------------------------------------------------------------


def bench_client(seconds: float) -> dict[str, Any]:
    import requests

    from dfns_contract.client import DfnsClient
    from dfns_contract.expectations import audit
    from dfns_contract.nonce import make_nonce

    with Mock() as mock:
        profile = mock.profile
        app_id, token = profile["appId"], profile["authToken"]
        session = requests.Session()
        # As the suite's dfns_client fixture builds it (one session, the audit observer).
        client = DfnsClient(mock.url, app_id, auth_token=token, session=session, observers=[audit])
        conn = http.client.HTTPConnection(mock.host, mock.port, timeout=10)

        def one_client() -> None:
            exchange = client.request("GET", "/auth/apps")
            if exchange.status != 200:
                raise RuntimeError("DfnsClient got HTTP %d" % exchange.status)

        def one_raw() -> None:
            headers = {
                "X-DFNS-NONCE": make_nonce(),
                "X-DFNS-APPID": app_id,
                "Authorization": "Bearer " + token,
            }
            conn.request("GET", "/auth/apps", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError("raw loop got HTTP %d" % response.status)

        def loop(step: Callable[[], None], duration: float) -> tuple[int, float]:
            count, started = 0, time.perf_counter()
            until = started + duration
            while time.perf_counter() < until:
                step()
                count += 1
            return count, time.perf_counter() - started

        # For comparison only: the same DfnsClient code over an http.client transport.
        thin = _raw_client_class()(mock.url, app_id, auth_token=token, observers=[audit])
        thin.conn = http.client.HTTPConnection(mock.host, mock.port, timeout=10)

        def one_thin() -> None:
            exchange = thin.request("GET", "/auth/apps")
            if exchange.status != 200:
                raise RuntimeError("DfnsClient over http.client got HTTP %d" % exchange.status)

        sides = (("raw", one_raw), ("client", one_client), ("thin", one_thin))
        for _, step in sides:
            step()  # connect and warm up
        # Alternate short slices so machine noise hits every side alike.
        rounds = 3
        totals = {name: [0, 0.0, 0.0] for name, _ in sides}
        for _ in range(rounds):
            for name, step in sides:
                cpu0 = time.process_time()
                count, elapsed = loop(step, seconds / rounds)
                totals[name][0] += count
                totals[name][1] += elapsed
                totals[name][2] += time.process_time() - cpu0
        conn.close()
        thin.conn.close()
        session.close()
    rate = {name: t[0] / t[1] for name, t in totals.items()}
    cpu_us = {name: t[2] / t[0] * 1e6 for name, t in totals.items()}
    return {
        "raw_rps": rate["raw"],
        "client_rps": rate["client"],
        "ratio": rate["client"] / rate["raw"],
        "thin_client_rps": rate["thin"],
        "thin_ratio": rate["thin"] / rate["raw"],
        "client_cpu_us_per_req": cpu_us,
    }


# -- 3: server under load -------------------------------------------------------------


class _RawResponse:
    """Just enough of ``requests.Response`` for ``Exchange`` (status, headers, text, json)."""

    def __init__(self, status: int, headers: Any, content: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _raw_client_class() -> type:
    """DfnsClient whose transport is one keep-alive http.client connection.

    The flow (init, sign, complete, mutate) is the suite's own code; only the
    HTTP library is swapped, so the load generator stays light.
    """
    from dfns_contract.client import DfnsClient, Exchange

    class RawDfnsClient(DfnsClient):
        conn: http.client.HTTPConnection

        def send(
            self, method: str, path: str, headers: dict[str, str], body: bytes | None
        ) -> Exchange:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            content = response.read()
            return Exchange(
                method,
                self.base_url + path,
                headers,
                body,
                _RawResponse(response.status, response.headers, content),
            )

    return RawDfnsClient


def _make_step(scenario: str, url: str, profile: dict[str, Any]) -> tuple[Callable[[], None], int]:
    """One operation of a scenario on a fresh connection; returns (step, requests per step)."""
    from dfns_contract.client import KeySigner
    from dfns_contract.nonce import make_nonce

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    app_id, token = profile["appId"], profile["authToken"]

    if scenario == "reject":
        headers = {"X-DFNS-APPID": app_id, "Authorization": "Bearer " + token}

        def reject() -> None:
            conn.request("GET", "/auth/apps", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 400:
                raise RuntimeError("missing nonce answered HTTP %d" % response.status)

        return reject, 1

    if scenario == "valid":

        def valid() -> None:
            headers = {
                "X-DFNS-NONCE": make_nonce(),
                "X-DFNS-APPID": app_id,
                "Authorization": "Bearer " + token,
            }
            conn.request("GET", "/auth/apps", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError("valid GET answered HTTP %d" % response.status)

        return valid, 1

    if scenario == "flow":
        client = _raw_client_class()(
            url,
            app_id,
            auth_token=token,
            signer=KeySigner(profile["credId"], profile["privateKey"]),
            app_origin=profile.get("appOrigin"),
        )
        client.conn = conn
        path = "/auth/apps/%s/activate" % profile["otherAppId"]

        def flow() -> None:
            exchange = client.request("PUT", path, sign=True)
            if exchange.status != 200:
                raise RuntimeError(
                    "activate answered HTTP %d: %s" % (exchange.status, exchange.text[:200])
                )

        return flow, 3

    raise ValueError(scenario)


def _load_process(
    scenario: str,
    url: str,
    profile: dict[str, Any],
    threads: int,
    duration: float,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One load-generator process: ``threads`` threads, each on its own keep-alive connection."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    spans: list[float] = [0.0] * threads
    steps = []
    per_step = 1
    for _ in range(threads):
        step, per_step = _make_step(scenario, url, profile)
        step()  # connect and warm up before the clock starts
        steps.append(step)

    def worker(index: int) -> None:
        mine = latencies[index]
        if not go.wait(READY_TIMEOUT):
            errors.append("no start signal")
            return
        started = time.perf_counter()
        until = started + duration
        step = steps[index]
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= until:
                    break
                step()
                mine.append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            errors.append(repr(exc))
        spans[index] = time.perf_counter() - started

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    cpu0 = time.process_time()
    ready.set()
    for thread in pool:
        thread.join(duration + 30)
    results.put(
        {
            "latencies": [x for mine in latencies for x in mine],
            "errors": errors,
            "span": max(spans),
            "cpu": time.process_time() - cpu0,
            "per_step": per_step,
        }
    )


def load_python(
    mock: Mock, scenario: str, processes: int, threads: int, duration: float
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    results = ctx.Queue()
    readies, procs = [], []
    for _ in range(processes):
        ready = ctx.Event()
        proc = ctx.Process(
            target=_load_process,
            args=(scenario, mock.url, mock.profile, threads, duration, ready, go, results),
            daemon=True,
        )
        proc.start()
        readies.append(ready)
        procs.append(proc)
    deadline = time.monotonic() + READY_TIMEOUT
    for ready in readies:
        if not ready.wait(max(0.0, deadline - time.monotonic())):
            for proc in procs:
                proc.kill()
            raise RuntimeError("load generator did not get ready")
    cpu_before = cpu_seconds(mock.pid)
    wall0 = time.perf_counter()
    go.set()
    parts = [results.get(timeout=duration + 60) for _ in procs]
    wall = time.perf_counter() - wall0
    server_cpu = cpu_seconds(mock.pid) - cpu_before
    for proc in procs:
        proc.join(10)
    errors = [e for p in parts for e in p["errors"]]
    if errors:
        raise RuntimeError("load generator errors (%s): %s" % (scenario, errors[:3]))
    latencies = sorted(x for p in parts for x in p["latencies"])
    span = max(p["span"] for p in parts)
    per_step = parts[0]["per_step"]
    return {
        "generator": "py %d proc x %d thr" % (processes, threads),
        "ops": len(latencies),
        "ops_per_s": len(latencies) / span,
        "req_per_s": len(latencies) * per_step / span,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "server_cpu_share": server_cpu / wall,
        "generator_cpu_share": sum(p["cpu"] for p in parts) / wall,
    }


_WRK_LUA = r"""
wrk.method = "GET"
wrk.headers["X-DFNS-APPID"] = "%(app_id)s"
wrk.headers["Authorization"] = "Bearer %(token)s"
local with_nonce = %(with_nonce)s
local run = "%(run)s"
local counter = 0
local nthreads = 0
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function b64url(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = 4
    if not b then k = 2 elseif not c then k = 3 end
    for j = 1, k do
      local idx = math.floor(v / 2 ^ (6 * (4 - j))) %% 64
      out[#out + 1] = alphabet:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

setup = function(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

request = function()
  if with_nonce then
    counter = counter + 1
    local body = string.format('{"uuid":"%%s-%%d-%%d","date":"%%s"}', run, tid, counter,
      os.date("!%%Y-%%m-%%dT%%H:%%M:%%S.000Z"))
    wrk.headers["X-DFNS-NONCE"] = b64url(body)
  end
  return wrk.format()
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%%.0f,"duration_us":%%.0f,"err_connect":%%.0f,' ..
    '"err_read":%%.0f,"err_write":%%.0f,"err_status":%%.0f,"err_timeout":%%.0f,' ..
    '"p50_us":%%.0f,"p99_us":%%.0f,"max_us":%%.0f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def load_wrk(mock: Mock, scenario: str, duration: float) -> dict[str, Any]:
    """wrk, 2 threads x 8 connections; (a) no nonce -> every answer must be 4xx; (c) fresh nonce."""
    script = _WRK_LUA % {
        "app_id": mock.profile["appId"],
        "token": mock.profile["authToken"],
        "with_nonce": "true" if scenario == "valid" else "false",
        "run": "wrk" + secrets.token_hex(6),
    }
    path = os.path.join(mock.dir, "%s.lua" % scenario)
    with open(path, "w") as handle:
        handle.write(script)
    seconds = max(1, round(duration))
    cmd = [
        "wrk",
        "-t2",
        "-c%d" % CLIENTS,
        "-d%ds" % seconds,
        "--timeout",
        "5s",
        "--latency",
        "-s",
        path,
        mock.url + "/auth/apps",
    ]
    cpu_before = cpu_seconds(mock.pid)
    wall0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    wall = time.perf_counter() - wall0
    server_cpu = cpu_seconds(mock.pid) - cpu_before
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(
            "wrk failed (%d): %s %s" % (done.returncode, done.stdout[-500:], done.stderr[-500:])
        )
    data = json.loads(line[len("BENCH ") :])
    socket_errors = data["err_connect"] + data["err_read"] + data["err_write"] + data["err_timeout"]
    expected_status_errors = data["requests"] if scenario == "reject" else 0
    if socket_errors or data["err_status"] != expected_status_errors:
        raise RuntimeError("wrk (%s): unexpected answers or socket errors: %s" % (scenario, data))
    span = data["duration_us"] / 1e6
    return {
        "generator": "wrk 2 thr x %d conn" % CLIENTS,
        "ops": data["requests"],
        "ops_per_s": data["requests"] / span,
        "req_per_s": data["requests"] / span,
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "server_cpu_share": server_cpu / wall,
    }


def bench_load(seconds: float, use_wrk: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with Mock() as mock:
        # (a) cheap rejection: every generator, so it is visible which one limits.
        out["reject_py_1x8"] = load_python(mock, "reject", 1, 8, seconds)
        out["reject_py_2x4"] = load_python(mock, "reject", 2, 4, seconds)
        if use_wrk:
            out["reject_wrk"] = load_wrk(mock, "reject", seconds)
        # (c) a valid authenticated GET (fresh nonce per request).
        out["valid"] = (
            load_wrk(mock, "valid", seconds)
            if use_wrk
            else load_python(mock, "valid", 2, 4, seconds)
        )
        # (b) the full user-action flow: the client signs, so only the Python generator can.
        out["flow"] = load_python(mock, "flow", 2, 4, seconds)
        out["server_peak_rss_mib"] = peak_rss_kib(mock.pid) / 1024
    candidates = [k for k in ("reject_wrk", "reject_py_2x4", "reject_py_1x8") if k in out]
    out["reject"] = max((out[k] for k in candidates), key=lambda r: r["req_per_s"])
    return out


# -- report ---------------------------------------------------------------------------


def _row(
    rows: list,
    key: str,
    label: str,
    value: float | None,
    fmt: str,
    target: str = "—",
    ok: bool | None = None,
) -> None:
    rows.append(
        {
            "key": key,
            "metric": label,
            "value": value,
            "text": "n/a" if value is None else fmt % value,
            "target": target,
            "result": "info" if ok is None else ("PASS" if ok else "MISS"),
        }
    )


def build_rows(r: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    s = r["suite"]
    _row(
        rows,
        "suite_serial_s",
        "suite wall time, serial (median of %d)" % runs,
        s["serial_s"],
        "%.2f s",
        "<= %.0f s" % TARGET_SUITE_SERIAL_S,
        s["serial_s"] <= TARGET_SUITE_SERIAL_S,
    )
    _row(
        rows,
        "suite_n2_s",
        "suite wall time, -n 2 (median of %d)" % runs,
        s["parallel_s"],
        "%.2f s",
        "<= serial",
        s["parallel_s"] <= s["serial_s"],
    )
    _row(rows, "suite_n2_ratio", "    -n 2 / serial (median of the %d pairs)" % runs, s["paired_ratio"] * 100, "%.0f %%")
    c = r["client"]
    _row(rows, "raw_rps", "raw http.client GET /auth/apps", c["raw_rps"], "%.0f req/s")
    _row(rows, "client_rps", "DfnsClient.request GET /auth/apps", c["client_rps"], "%.0f req/s")
    _row(
        rows,
        "client_ratio",
        "    client / raw",
        c["ratio"] * 100,
        "%.0f %%",
        ">= %.0f %%" % (TARGET_CLIENT_RATIO * 100),
        c["ratio"] >= TARGET_CLIENT_RATIO,
    )
    cpu = c["client_cpu_us_per_req"]
    _row(
        rows,
        "client_cpu_us",
        "    client-side CPU per request, DfnsClient / raw",
        cpu["client"],
        "%.0f us",
    )
    rows[-1]["text"] += " / %.0f us" % cpu["raw"]
    _row(
        rows,
        "thin_ratio",
        "    same DfnsClient over http.client (bench-only) / raw",
        c["thin_ratio"] * 100,
        "%.0f %%",
    )
    L = r["load"]
    a = L["reject"]
    _row(
        rows,
        "reject_rps",
        "(a) missing nonce, 8 clients [%s]" % a["generator"],
        a["req_per_s"],
        "%.0f req/s",
        ">= %.0f" % TARGET_REJECT_RPS,
        a["req_per_s"] >= TARGET_REJECT_RPS,
    )
    _row(rows, "reject_p50_ms", "    p50 latency", a["p50_ms"], "%.2f ms")
    _row(
        rows,
        "reject_p99_ms",
        "    p99 latency",
        a["p99_ms"],
        "%.2f ms",
        "<= %.0f ms" % TARGET_REJECT_P99_MS,
        a["p99_ms"] <= TARGET_REJECT_P99_MS,
    )
    _row(
        rows,
        "reject_server_cpu",
        "    server CPU (1 core = 100 %)",
        a["server_cpu_share"] * 100,
        "%.0f %%",
    )
    for key in ("reject_py_1x8", "reject_py_2x4", "reject_wrk"):
        if key in L and L[key] is not a:
            g = L[key]
            extra = (
                ""
                if "generator_cpu_share" not in g
                else ", gen CPU %.0f %%" % (g["generator_cpu_share"] * 100)
            )
            _row(
                rows,
                key + "_rps",
                "    same via %s (p99 %.1f ms%s)" % (g["generator"], g["p99_ms"], extra),
                g["req_per_s"],
                "%.0f req/s",
            )
    b = L["flow"]
    _row(
        rows,
        "flow_rps",
        "(b) user-action flow, 8 clients [%s]" % b["generator"],
        b["ops_per_s"],
        "%.0f flows/s",
    )
    _row(rows, "flow_req_rps", "    HTTP requests (3 per flow)", b["req_per_s"], "%.0f req/s")
    _row(rows, "flow_p50_ms", "    p50 flow latency", b["p50_ms"], "%.1f ms")
    _row(rows, "flow_p99_ms", "    p99 flow latency", b["p99_ms"], "%.1f ms")
    _row(rows, "flow_cpu", "    server CPU / generator CPU", b["server_cpu_share"] * 100, "%.0f %%")
    rows[-1]["text"] += " / %.0f %%" % (b["generator_cpu_share"] * 100)
    v = L["valid"]
    _row(
        rows,
        "valid_rps",
        "(c) valid GET /auth/apps, 8 clients [%s]" % v["generator"],
        v["req_per_s"],
        "%.0f req/s",
    )
    _row(rows, "valid_p99_ms", "    p99 latency", v["p99_ms"], "%.2f ms")
    _row(
        rows,
        "suite_maxrss_mib",
        "peak RSS, serial suite (one process)",
        s["serial_maxrss_mib"],
        "%.0f MiB",
    )
    _row(
        rows,
        "suite_n2_maxrss_mib",
        "peak RSS, -n 2 (largest process)",
        s["parallel_maxrss_mib"],
        "%.0f MiB",
    )
    _row(
        rows,
        "server_rss_mib",
        "peak RSS, dfns-mock after the load",
        L["server_peak_rss_mib"],
        "%.0f MiB",
    )
    sc = r.get("suite_cached")
    if sc:
        _row(rows, "suite_cached_serial_s", "suite wall time, serial, bytecode cache (as tox)", sc["serial_s"], "%.2f s")
        _row(
            rows,
            "suite_cached_n2_s",
            "suite wall time, -n 2, bytecode cache (as tox)",
            sc["parallel_s"],
            "%.2f s",
            "<= serial",
            sc["parallel_s"] <= sc["serial_s"],
        )
        _row(rows, "suite_cached_n2_ratio", "    -n 2 / serial, bytecode cache (median of the pairs)",
             sc["paired_ratio"] * 100, "%.0f %%")
    st = r["startup"]
    _row(
        rows,
        "startup_first_request_s",
        "start-up: launch -> first request (median)",
        st["first_request"],
        "%.3f s",
    )
    _row(
        rows,
        "startup_plugin_import_s",
        "    launch -> pytest loads plugins",
        st["plugin_import"],
        "%.3f s",
    )
    _row(
        rows,
        "startup_collected_s",
        "    launch -> collection finished",
        st["collection_finish"],
        "%.3f s",
    )
    stc = r.get("startup_cached")
    if stc:
        _row(
            rows,
            "startup_cached_first_request_s",
            "start-up with a bytecode cache (as tox): launch -> first request",
            stc["first_request"],
            "%.3f s",
        )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["metric"]) for r in rows)
    vwidth = max(len(r["text"]) for r in rows)
    print("%-*s  %*s  %-10s  %s" % (width, "metric", vwidth, "value", "target", "result"))
    print("-" * (width + vwidth + 26))
    for r in rows:
        print(
            "%-*s  %*s  %-10s  %s"
            % (width, r["metric"], vwidth, r["text"], r["target"], r["result"])
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 suite run each, 1.5 s per load measurement"
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="suite runs per median, in serial/-n 2 pairs (default 5; --quick 1)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="seconds per throughput measurement (default 3; --quick 1.5)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the numbers here as JSON")
    parser.add_argument(
        "--no-wrk",
        action="store_true",
        help="use the Python load generator even if wrk is installed",
    )
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    seconds = args.seconds or (1.5 if args.quick else 3.0)
    use_wrk = not args.no_wrk and shutil.which("wrk") is not None

    started = time.perf_counter()
    results: dict[str, Any] = {}
    print("bench: suite x%d serial, x%d -n 2 ..." % (runs, runs), file=sys.stderr, flush=True)
    results["suite"] = bench_suite(runs)
    with tempfile.TemporaryDirectory(prefix="dfns-bench-pycache-") as pycache:
        print("bench: the same with a bytecode cache (as tox runs it) ...", file=sys.stderr, flush=True)
        results["suite_cached"] = bench_suite(runs, cached_env(pycache))
        results["startup_cached"] = bench_startup(runs, cached_env(pycache))
    print("bench: start-up x%d ..." % runs, file=sys.stderr, flush=True)
    results["startup"] = bench_startup(runs)
    print("bench: client throughput (%.1f s each side) ..." % seconds, file=sys.stderr, flush=True)
    results["client"] = bench_client(seconds)
    print(
        "bench: server under load (%.1f s each, wrk: %s) ..."
        % (seconds, "yes" if use_wrk else "no"),
        file=sys.stderr,
        flush=True,
    )
    results["load"] = bench_load(seconds, use_wrk)

    rows = build_rows(results, runs)
    print_table(rows)
    document = {
        "config": {
            "runs": runs,
            "seconds": seconds,
            "clients": CLIENTS,
            "wrk": use_wrk,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "bench_wall_s": round(time.perf_counter() - started, 1),
        },
        "table": rows,
        "raw": results,
    }
    text = json.dumps(document, indent=2, default=float)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")
    suite_ok = all(
        e == 0 for e in results["suite"]["serial_exit"] + results["suite"]["parallel_exit"]
    )
    return 0 if suite_ok else 1


if __name__ == "__main__":
    _ensure_project_python()
    sys.exit(main())
