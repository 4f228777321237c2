"""Where the embedded reference server runs: once per run, shared by local pytest-xdist workers.

A serial run starts its own. Under ``-n 2`` the controller starts one and
every local worker tests that one (as workers share a live target); the run
stops it at the end. A server that cannot start is one clear error per case,
never a traceback.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import execnet
import pytest

from dfns_contract.plugin.xdist import is_local_worker

from selftests.helpers.suite_runner import SuiteRun, run_suite

RECORD = ("-p", "selftests.helpers.plugins.record_target")
NONCE_CASES = ("tests/test_documented_errors.py", "-k", "nonce")


def recorded(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_recording(tmp_path: Path, *args: str) -> tuple[SuiteRun, list[dict[str, str]]]:
    targets = tmp_path / "targets.jsonl"
    run = run_suite(*RECORD, *NONCE_CASES, *args, env={"SELFTEST_TARGETS": str(targets)}, timeout=120)
    assert run.returncode == 0, run.output[-3000:]
    return run, recorded(targets)


def refuses_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_xdist_workers_share_the_controllers_server_and_it_stops_with_the_run(tmp_path):
    run, lines = run_recording(tmp_path, "-n", "2")
    workers = {line["worker"] for line in lines}
    assert workers == {"gw0", "gw1"}, lines
    assert len({line["pid"] for line in lines}) == 2, lines
    urls = {line["url"] for line in lines}
    assert len(urls) == 1, "each worker tested a server of its own: %s" % urls
    assert all("shared by the xdist workers" in line["target"] for line in lines), lines
    assert "shared by local xdist workers" in run.output
    assert refuses_connections(urls.pop()), "the shared server still listens after the run"


def test_a_serial_run_starts_its_own_server_and_stops_it(tmp_path):
    _, lines = run_recording(tmp_path)
    assert {line["worker"] for line in lines} == {"master"}, lines
    urls = {line["url"] for line in lines}
    assert len(urls) == 1 and "shared" not in lines[0]["target"], lines
    assert refuses_connections(urls.pop())


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_server_that_cannot_start_fails_each_case_with_the_reason(workers):
    run = run_suite("-p", "selftests.helpers.plugins.fail_server_start", *NONCE_CASES, *workers, timeout=120)
    assert run.returncode == 1, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    assert "selftest: no socket could be bound" in run.output, run.output[-3000:]
    assert "did not start" in run.output, run.output[-3000:]
    assert "another exception occurred" not in run.output, run.output[-3000:]
    summary = run.output.strip().splitlines()[-1]
    assert re.search(r"\b\d+ errors? in", summary) and "passed" not in summary, summary


@pytest.mark.parametrize(
    ("spec", "local"),
    [("popen", True), ("2*popen", True), ("popen//python=python3", True),
     ("ssh=ci@load-1//python=/opt/venv/bin/python", False), ("socket=10.0.0.1:8888", False),
     ("popen//via=gw0", False)],
)
def test_only_local_workers_are_handed_the_controllers_server(spec, local):
    """A worker on another machine cannot reach the controller's loopback address: it starts its own."""
    assert is_local_worker(execnet.XSpec(spec.split("*")[-1])) is local


#: Whole runs under xdist broken mid-way (a stop, an interrupt, a crashed worker): the full tier's.
@pytest.mark.slow
@pytest.mark.parametrize("how", ["error", "interrupt"])
def test_the_shared_server_outlives_every_workers_cleanup(how):
    """A worker stopped early (a failure with -x, a Ctrl-C) must not take the server from the other.

    The run breaks right after its first deactivation; every worker still
    finishes its cases and cleanup against the shared server, which stops only
    when the last of them is done.
    """
    args = ("-x",) if how == "error" else ()
    run = run_suite("-p", "selftests.helpers.plugins.break_after_deactivate", "-n", "2", *args,
                    env={"SELFTEST_BREAK": how}, timeout=120)
    assert run.returncode != 0, run.output[-3000:]
    # Re-activated by the worker that broke, or already by a case of the other worker (they share it).
    assert re.search(r"otherAppId \S+: (re-activated|already active)", run.output), run.output[-3000:]
    assert ", 0 not restored" in run.output and "NOT restored" not in run.output, run.output[-3000:]
    for symptom in ("transport error", "cannot reach", "Connection refused", "did not start"):
        assert symptom not in run.output, run.output[-3000:]


@pytest.mark.slow
def test_a_worker_that_replaces_a_crashed_one_is_handed_the_shared_server(tmp_path):
    """``--dist each`` gives the replacement (gw2) the cases gw0 had left, so it must test something."""
    targets = tmp_path / "targets.jsonl"
    crash = "[nonce-missing-or-invalid-missing]"
    run = run_suite(*RECORD, "-p", "selftests.helpers.plugins.crash_worker", *NONCE_CASES, "-n", "2", "--dist", "each",
                    env={"SELFTEST_TARGETS": str(targets), "SELFTEST_CRASH_CASE": crash}, timeout=120)
    assert "replacing crashed worker gw0" in run.output, run.output[-3000:]
    summary = run.output.strip().splitlines()[-1]
    assert re.search(r"^=* 1 failed, \d+ passed in", summary), run.output[-3000:]
    lines = recorded(targets)
    assert {"gw0", "gw1", "gw2"} <= {line["worker"] for line in lines}, lines
    assert len({line["url"] for line in lines}) == 1, lines
