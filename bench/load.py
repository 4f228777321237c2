"""Load on the reference server: Python generator processes, and wrk when installed.

8 concurrent keep-alive clients in every scenario: (a) ``reject``, a cheap
rejection (missing nonce); (b) ``flow``, the full user-action flow; (c)
``valid``, an authenticated GET. Every generator reports the same numbers,
so the table can name the one that produced the most load: a generator that
saturates first measures itself, not the server.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clients import auth_headers, connect, expect_status, get_apps, raw_client
from mock import READY_TIMEOUT, CpuMeter, Mock

CLIENTS = 8
WRK_THREADS = 2
# (b) is init, sign, complete, mutate: 3 HTTP requests (init, complete, the PUT) per flow.
REQUESTS_PER_OP = {"reject": 1, "valid": 1, "flow": 3}

Step = Callable[[], None]


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of already sorted values (nan when there are none)."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def _measured(
    generator: str,
    ops: int,
    span: float,
    scenario: str,
    p50_ms: float,
    p99_ms: float,
    server: CpuMeter,
) -> dict[str, Any]:
    """What every generator reports, so that the table can compare them."""
    return {
        "generator": generator,
        "ops": ops,
        "ops_per_s": ops / span,
        "req_per_s": ops * REQUESTS_PER_OP[scenario] / span,
        "p50_ms": p50_ms,
        "p99_ms": p99_ms,
        "server_cpu_share": server.share,
    }


# -- the server under all generators --------------------------------------------------


def bench_load(seconds: float, use_wrk: bool) -> dict[str, Any]:
    """Every scenario against one ``dfns-mock``; ``reject`` is the best of its generators.

    (a) runs under every generator, so it is visible which one limits; (c)
    under wrk when it may; (b) needs a client that signs, so only the Python
    generator can run it.
    """
    out: dict[str, Any] = {}
    with Mock() as mock:
        out["reject_py_1x8"] = load_python(mock, "reject", 1, 8, seconds)
        out["reject_py_2x4"] = load_python(mock, "reject", 2, 4, seconds)
        if use_wrk:
            out["reject_wrk"] = load_wrk(mock, "reject", seconds)
        out["valid"] = (
            load_wrk(mock, "valid", seconds)
            if use_wrk
            else load_python(mock, "valid", 2, 4, seconds)
        )
        out["flow"] = load_python(mock, "flow", 2, 4, seconds)
        out["server_peak_rss_mib"] = mock.peak_rss_mib()
    candidates = [k for k in ("reject_wrk", "reject_py_2x4", "reject_py_1x8") if k in out]
    out["reject"] = max((out[k] for k in candidates), key=lambda r: r["req_per_s"])
    return out


# -- the Python generator -------------------------------------------------------------


def _reject_step(url: str, profile: dict[str, Any]) -> Step:
    """(a) ``GET /auth/apps`` without a nonce: the server must refuse it (400)."""
    conn, headers = connect(url), auth_headers(profile, None)
    return lambda: get_apps(conn, headers, 400, "missing nonce")


def _valid_step(url: str, profile: dict[str, Any]) -> Step:
    """(c) an authenticated ``GET /auth/apps`` with a fresh nonce each time."""
    from dfns_contract.wire.nonce import make_nonce

    conn = connect(url)
    return lambda: get_apps(conn, auth_headers(profile, make_nonce()), 200, "valid GET")


def _flow_step(url: str, profile: dict[str, Any]) -> Step:
    """(b) ``PUT /auth/apps/{otherAppId}/activate`` signed: the suite's own flow code."""
    from dfns_contract.client import KeySigner

    client = raw_client(
        url,
        profile,
        signer=KeySigner(profile["credId"], profile["privateKey"]),
        app_origin=profile.get("appOrigin"),
    )
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    return lambda: expect_status(client.request("PUT", path, sign=True), 200, "activate")


STEPS: dict[str, Callable[[str, dict[str, Any]], Step]] = {
    "reject": _reject_step,
    "valid": _valid_step,
    "flow": _flow_step,
}


@dataclass
class _Thread:
    """What one generator thread did: the latency of each operation, its span, its error."""

    latencies: list[float] = field(default_factory=list)
    span: float = 0.0
    error: str | None = None


def _drive(step: Step, duration: float, go: Any, out: _Thread) -> None:
    """One thread: ``step`` back to back for ``duration`` once the parent says go."""
    if not go.wait(READY_TIMEOUT):
        out.error = "no start signal"
        return
    started = time.perf_counter()
    until = started + duration
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= until:
                break
            step()
            out.latencies.append(time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.error = repr(exc)
    out.span = time.perf_counter() - started


def _load_process(
    scenario: str,
    url: str,
    profile: dict[str, Any],
    threads: int,
    duration: float,
    go: Any,
    results: Any,
    ready: Any,
) -> None:
    """One generator process: ``threads`` threads, each on its own keep-alive connection.

    Every connection is made and used once before ``ready``, so the clock
    measures requests, not connecting.
    """
    steps = [STEPS[scenario](url, profile) for _ in range(threads)]
    for step in steps:
        step()
    done = [_Thread() for _ in steps]
    pool = [
        threading.Thread(target=_drive, args=(step, duration, go, out), daemon=True)
        for step, out in zip(steps, done, strict=True)
    ]
    for thread in pool:
        thread.start()
    cpu0 = time.process_time()
    ready.set()
    for thread in pool:
        thread.join(duration + 30)
    results.put(
        {
            "latencies": [x for out in done for x in out.latencies],
            "errors": [out.error for out in done if out.error],
            "span": max(out.span for out in done),
            "cpu": time.process_time() - cpu0,
        }
    )


def load_python(
    mock: Mock, scenario: str, processes: int, threads: int, duration: float
) -> dict[str, Any]:
    """``processes`` forked processes x ``threads`` threads, started together on one signal.

    Processes as well as threads: one process is bound by its GIL, and its
    own CPU share (``generator_cpu_share``) shows when it is the limit.
    """
    ctx = multiprocessing.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    procs = _start(
        ctx, processes, (scenario, mock.url, mock.profile, threads, duration, go, results)
    )
    with mock.cpu_meter() as server:
        go.set()
        parts = [results.get(timeout=duration + 60) for _ in procs]
    for proc in procs:
        proc.join(10)
    return _python_summary("py %d proc x %d thr" % (processes, threads), scenario, parts, server)


def _python_summary(
    generator: str, scenario: str, parts: list[dict[str, Any]], server: CpuMeter
) -> dict[str, Any]:
    """The processes' reports merged; any error voids the measurement (it would flatter it)."""
    errors = [e for p in parts for e in p["errors"]]
    if errors:
        raise RuntimeError("load generator errors (%s): %s" % (scenario, errors[:3]))
    latencies = sorted(x for p in parts for x in p["latencies"])
    span = max(p["span"] for p in parts)
    p50, p99 = (percentile(latencies, q) * 1000 for q in (0.50, 0.99))
    out = _measured(generator, len(latencies), span, scenario, p50, p99, server)
    out["generator_cpu_share"] = sum(p["cpu"] for p in parts) / server.wall
    return out


def _start(ctx: Any, processes: int, args: tuple[Any, ...]) -> list[Any]:
    """Start the generator processes (``_load_process(*args, ready)``); return once all are warm.

    One deadline for all of them, READY_TIMEOUT: a stuck generator kills them
    all rather than hang the benchmark.
    """
    readies = [ctx.Event() for _ in range(processes)]
    procs = [
        ctx.Process(target=_load_process, args=(*args, ready), daemon=True) for ready in readies
    ]
    for proc in procs:
        proc.start()
    deadline = time.monotonic() + READY_TIMEOUT
    for ready in readies:
        if not ready.wait(max(0.0, deadline - time.monotonic())):
            for proc in procs:
                proc.kill()
            raise RuntimeError("load generator did not get ready")
    return procs


# -- wrk ------------------------------------------------------------------------------


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
    """wrk, 2 threads x 8 connections; (a) no nonce -> every answer must be 4xx; (c) fresh nonce.

    wrk is C: it does not saturate before the server does, as Python may.
    """
    seconds = max(1, round(duration))
    cmd = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % CLIENTS, "-d%ds" % seconds, "--timeout", "5s"]
    cmd += ["--latency", "-s", _wrk_script(mock, scenario), mock.url + "/auth/apps"]
    with mock.cpu_meter() as server:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    data = _wrk_summary(done, scenario)
    generator = "wrk %d thr x %d conn" % (WRK_THREADS, CLIENTS)
    span = data["duration_us"] / 1e6
    p50, p99 = data["p50_us"] / 1000, data["p99_us"] / 1000
    return _measured(generator, data["requests"], span, scenario, p50, p99, server)


def _wrk_script(mock: Mock, scenario: str) -> str:
    """The Lua script for ``scenario`` with this server's app and token, written next to it."""
    script = _WRK_LUA % {
        "app_id": mock.profile["appId"],
        "token": mock.profile["authToken"],
        "with_nonce": "true" if scenario == "valid" else "false",
        "run": "wrk" + secrets.token_hex(6),
    }
    path = os.path.join(mock.dir, "%s.lua" % scenario)
    with open(path, "w") as handle:
        handle.write(script)
    return path


def _wrk_summary(done: subprocess.CompletedProcess[str], scenario: str) -> dict[str, Any]:
    """The script's ``BENCH`` line; a socket error or an unexpected answer voids the run.

    wrk counts any non-2xx/3xx as a status error: under ``reject`` every
    request must be one, under ``valid`` none.
    """
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(
            "wrk failed (%d): %s %s" % (done.returncode, done.stdout[-500:], done.stderr[-500:])
        )
    data: dict[str, Any] = json.loads(line[len("BENCH ") :])
    socket_errors = data["err_connect"] + data["err_read"] + data["err_write"] + data["err_timeout"]
    expected_status_errors = data["requests"] if scenario == "reject" else 0
    if socket_errors or data["err_status"] != expected_status_errors:
        raise RuntimeError("wrk (%s): unexpected answers or socket errors: %s" % (scenario, data))
    return data
