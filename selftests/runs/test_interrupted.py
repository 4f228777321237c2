"""An interrupted run says so: INTERRUPTED (exit 2, pytest's), its unfinished cases "not run (interrupted)".

A process group is sent SIGINT as a terminal's Ctrl-C does, at a moment the
test controls: a loopback stand-in holds a request open (``Hang``), the test
polls until that request arrived (with a deadline), then interrupts. Once
during the start-up check, once mid-run. The controls: the same runs not
interrupted end with their own word, never INTERRUPTED.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.proxy import FORWARD, HANG, FaultProxy
from selftests.helpers.suite_runner import start_suite

INTERRUPTED = 2
#: How long a request may take to reach the stand-in, and the interrupted run to end.
DEADLINE = 60.0


@pytest.fixture(scope="module")
def server() -> RunningServer:
    with start_server() as running:
        yield running


def _profile(tmp_path: Path, server: RunningServer) -> str:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(server.profile))
    return str(path)


def _interrupt_when(proxy: FaultProxy, requests: int, process: subprocess.Popen) -> tuple[int, str]:
    """Poll until ``requests`` requests reached the stand-in, SIGINT the run's process group, and collect it."""
    deadline = time.monotonic() + DEADLINE
    while proxy.requests < requests or proxy.in_flight < 1:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never sent request %d" % requests
        time.sleep(0.02)  # polling the stand-in's count, not waiting for time to pass
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=DEADLINE)
    return process.returncode, out + err


def test_ctrl_c_during_the_start_up_check_says_what_it_was_doing(tmp_path, server):
    with FaultProxy(server.url, lambda request: HANG) as proxy:
        run = start_suite("--base-url", proxy.url, "--dfns-profile", _profile(tmp_path, server),
                          "tests/test_documented_errors.py")
        status, output = _interrupt_when(proxy, 1, run)
    assert status == INTERRUPTED, output[-3000:]
    assert "INTERRUPTED while the start-up check" in output and "nothing was changed on the target" in output, output
    assert "Traceback" not in output and "passed" not in output, output[-3000:]


def test_the_start_up_check_not_interrupted_is_no_interruption(tmp_path, server):
    """The control: the same stand-in forwarding, the same run ends with its word (INCOMPLETE: one file)."""
    with FaultProxy(server.url, lambda request: FORWARD) as proxy:
        run = start_suite("--base-url", proxy.url, "--dfns-profile", _profile(tmp_path, server),
                          "tests/test_documented_errors.py", "-k", "unknown-app")
        out, err = run.communicate(timeout=DEADLINE)
    assert run.returncode == 0 and "INTERRUPTED" not in out + err and "dfns verdict: INCOMPLETE" in out, out + err


def _hang_one(n: int):
    """Hold request ``n`` open and forward every other: the cleanup after the interruption still reaches the target."""
    return lambda request: HANG if request.number == n else FORWARD


def test_ctrl_c_mid_run_is_interrupted_and_the_rest_not_run(tmp_path, server):
    report = tmp_path / "r.json"
    with FaultProxy(server.url, _hang_one(21)) as proxy:
        run = start_suite("--base-url", proxy.url, "--dfns-profile", _profile(tmp_path, server),
                          "--dfns-contract-report", str(report), "--dfns-contract-report-html", str(tmp_path / "r.html"))
        status, output = _interrupt_when(proxy, 21, run)
    assert status == INTERRUPTED, output[-3000:]
    assert "dfns verdict: INTERRUPTED" in output and "not run (interrupted)" in output, output[-4000:]
    table = output.split("documented errors of")[-1].split("dfns verdict")[0]
    assert "deselected" not in table and "NOT restored" not in output, output[-4000:]
    data = json.loads(report.read_text())
    assert data["result"] == "INTERRUPTED" and data["exitStatus"] == INTERRUPTED
    assert any("not run (interrupted)" in error["detail"] for error in data["errors"])
    assert "Dfns error contract: INTERRUPTED" in (tmp_path / "r.html").read_text()
