"""Progress on long runs (issue 29 item 4): a line every interval saying cases done, requests sent, and a wait;
before the cases (the start-up check) and after them (the cleanup), which step it is.

A slow stand-in (the reference server behind a loopback proxy that delays
every request) makes the run last many intervals of 0.2 s
(``--dfns-progress-interval``, so that no test waits 10 s); the tests count
lines, never time. The controls: the same runs show none under ``-qq``, and
none when the output is not a terminal (a selftest's pipe) unless
``--dfns-progress`` asks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.proxy import FORWARD, Delay, FaultProxy, Policy, RateLimit, Request
from selftests.helpers.suite_runner import SuiteRun, run_suite

#: A few cases of the 2026 contract: some dozens of requests, each delayed below.
CASES = ("tests/test_documented_errors.py", "-k", "unknown-app or no-jwt or invalid-body")
FAST = ("--dfns-progress-interval", "0.2")
LINE = re.compile(r"^dfns progress: (\d+)/(\d+) cases done, (\d+) requests? sent", re.MULTILINE)
#: The reachability check and the preflight come first: a 429 on a later request meets a case.
AFTER_START_UP = 8


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract="2026") as running:
        yield running


def through(server: RunningServer, tmp_path: Path, policy: Policy, *args: str) -> SuiteRun:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(server.profile))
    with FaultProxy(server.url, policy) as proxy:
        return run_suite("--dfns-contract", "2026", "--base-url", proxy.url, "--dfns-profile", str(profile), *CASES,
                         *args, timeout=300)


def slow(request: Request) -> Delay:
    return Delay(0.1)


def lines(run: SuiteRun) -> list[tuple[int, int, int]]:
    return [(int(done), int(total), int(sent)) for done, total, sent in LINE.findall(run.stdout)]


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_slow_run_says_cases_done_and_requests_sent(server, tmp_path, workers) -> None:
    run = through(server, tmp_path, slow, "-q", "--dfns-progress", *FAST, *workers)
    assert run.returncode == 0, run.output[-3000:]
    shown = lines(run)
    assert shown, run.stdout[-3000:]
    totals = {total for _, total, _ in shown}
    assert len(totals) == 1 and 0 < totals.pop() == int(re.search(r"^(\d+) passed", run.stdout, re.MULTILINE).group(1))
    assert any(sent > 0 for _, _, sent in shown), shown  # the workers' requests reach the controller's line
    assert [done for done, _, _ in shown] == sorted(done for done, _, _ in shown)
    # Each line is a line of its own: never glued to pytest's dots.
    assert not re.search(r"[.sFE]dfns progress", run.stdout) and not re.search(r"sent[.sFE]", run.stdout)


def test_a_rate_limited_run_says_until_when_it_waits(server, tmp_path) -> None:
    def one_429(request: Request):
        return RateLimit("2") if request.number == AFTER_START_UP else FORWARD

    run = through(server, tmp_path, one_429, "-q", "--dfns-progress", *FAST)
    assert run.returncode == 0, run.output[-3000:]
    assert re.search(r"^dfns progress: .*; waiting on a rate limit until \d\d:\d\d:\d\d \((a 429 answer|the target's "
                     r"quota)\)$", run.stdout, re.MULTILINE), run.stdout[-3000:]


@pytest.mark.parametrize("args", [("-qq", "--dfns-progress"), ("-q",), ("-q", "--dfns-progress=off")],
                         ids=["-qq", "not-a-terminal", "off"])
def test_no_lines_under_qq_off_or_without_a_terminal(server, tmp_path, args) -> None:
    """The selftest's output is a pipe, not a terminal: ``auto`` (the default) shows nothing there."""
    run = through(server, tmp_path, slow, *args, *FAST)
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns progress" not in run.output, run.stdout[-3000:]
    # The control: the same run with the flag shows lines (test_a_slow_run_says_cases_done_and_requests_sent).


def step_waits(run: SuiteRun, step: str) -> list[str]:
    """The lines of ``step`` that say the run waits on a 429 (``Retry-After`` below)."""
    return re.findall(r"^dfns progress: %s, \d+ requests? sent; waiting on a rate limit until \d\d:\d\d:\d\d "
                      r"\(a 429 answer\)$" % step, run.stdout, re.MULTILINE)


@pytest.mark.parametrize("limited", [True, False], ids=["a-429", "control"])
def test_the_start_up_check_says_it_waits(server, tmp_path, limited: bool) -> None:
    """A 429 on the preflight's second request holds the start-up check 1 s: its lines name the step, and come
    before the first case's. The control: without it, no start-up line says it waits."""
    def second_limited(request: Request):
        return RateLimit("1") if limited and request.number == 2 else FORWARD

    run = through(server, tmp_path, second_limited, "-q", "--dfns-progress", *FAST)
    assert run.returncode == 0, run.output[-3000:]
    waits = step_waits(run, "the start-up check")
    assert bool(waits) is limited, run.stdout[-3000:]
    first_case_line = run.stdout.find("cases done")
    assert not waits or first_case_line == -1 or run.stdout.index(waits[-1]) < first_case_line, run.stdout[-3000:]


@pytest.mark.parametrize("limited", [True, False], ids=["a-429", "control"])
def test_the_cleanup_says_it_waits(server, tmp_path, limited: bool) -> None:
    """Under pytest-xdist the controller restores the app a case activated once its workers are down (a shared
    undo): a 429 on each first read of that app holds it 1 s, and its lines name the cleanup. The control:
    without the 429s, no cleanup line says it waits."""
    app, reads = server.profile["otherAppId"], []

    def every_other_read_limited(request: Request):
        if limited and request.method == "GET" and request.path.startswith("/auth/apps/" + app):
            reads.append(request.number)
            if len(reads) % 2:
                return RateLimit("1")
        return FORWARD

    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(server.profile))
    with FaultProxy(server.url, every_other_read_limited) as proxy:
        run = run_suite("--dfns-contract", "2026", "--base-url", proxy.url, "--dfns-profile", str(profile),
                        "tests/test_documented_errors.py", "-k", "unknown-app-activate", "--dfns-allow-incomplete",
                        "-n", "2", "-q", "--dfns-progress", *FAST, timeout=300)
    assert run.returncode == 0 and "dfns cleanup: nothing was left changed" in run.stdout, run.output[-3000:]
    assert bool(step_waits(run, "the cleanup")) is limited, run.stdout[-3000:]
