"""Whole runs through a loopback proxy that answers as the environment does: a gateway's 502, a reset, 429s.

What the environment did is never the contract's: a gateway's answer is an
*error* naming it, one reset is sent again, a 429 is waited out and that
request sent again (``docs/environment-answers.md``). Each run is counted at
the proxy (what it did, how many requests reached it), never timed, and each
has its control: the same run through the proxy forwarding everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.gateway import gateway
from selftests.helpers.proxy import FORWARD, HTML_502, RESET, Action, Answer, FaultProxy, Request, after_request
from selftests.helpers.suite_runner import SuiteRun, run_suite

TESTS_FAILED = 1
#: Requests before the first case: the reachability check and the preflight's 4.
START_UP = 5
#: The case whose control the issue saw blamed for a gateway's 502.
UNKNOWN_APP = ("tests/test_documented_errors.py", "-k", "unknown-app-get", "--dfns-skip-preflight")
FAILED_ROW = re.compile(r"^  FAILED +\d{3} ", re.MULTILINE)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


class Through:
    """Runs of the suite through a proxy with a policy; the JSON report's verdicts."""

    def __init__(self, server: RunningServer, tmp_path: Path) -> None:
        self.server, self.report = server, tmp_path / "r.json"
        self.profile = tmp_path / "profile.json"
        self.profile.write_text(json.dumps(server.profile))

    def run(self, url: str, *args: str) -> SuiteRun:
        return run_suite("--base-url", url, "--dfns-profile", str(self.profile), "--dfns-hypothesis-profile", "dev",
                         "--dfns-contract-report", str(self.report), *args, timeout=300)

    def __call__(self, policy: Callable[[Request], Action], *args: str) -> tuple[SuiteRun, FaultProxy]:
        with FaultProxy(self.server.url, policy) as proxy:
            return self.run(proxy.url, *args), proxy

    def verdict(self, error_id: str) -> str:
        return next(row["verdict"] for row in json.loads(self.report.read_text())["errors"] if row["id"] == error_id)


@pytest.fixture
def through(server: RunningServer, tmp_path: Path) -> Through:
    return Through(server, tmp_path)


def first_to(path: str, action: Action) -> Callable[[Request], Action]:
    """``action`` for the first request to ``path``, forward everything else."""
    done: list[int] = []

    def policy(request: Request) -> Action:
        if request.path == path and not done:
            done.append(request.number)
            return action
        return FORWARD

    return policy


def no_noise(run: SuiteRun) -> None:
    for noise in ("Traceback", "urllib3", "ExceptionGroup", "@seed("):
        assert noise not in run.output, run.output[-3000:]


# -- a gateway's answer ------------------------------------------------------------------------------------------


def test_a_gateway_s_html_502_on_a_control_is_an_error_naming_it_not_a_broken_contract(through):
    control = "/auth/apps/" + through.server.profile["otherAppId"]
    run, proxy = through(first_to(control, HTML_502), *UNKNOWN_APP)
    assert proxy.counts["answered"] == 1, dict(proxy.counts)
    assert run.returncode == TESTS_FAILED and "dfns verdict: INCOMPLETE" in run.stdout, run.output[-3000:]
    assert not FAILED_ROW.search(run.stdout) and re.search(r"ERROR +404 +unknown-app ", run.stdout), run.stdout[-3000:]
    assert re.search(r"environment error, the contract was not checked: GET \S+%s: HTTP 502 Bad Gateway from the "
                     r"environment .*Content-Type text/html, body '<html><head><title>502 Bad Gateway</title>"
                     % re.escape(control), run.output), run.output[-3000:]
    # No audit quoting the documented 500's body as what the 502 should have been.
    assert '"message": "Internal Server Error"' not in run.output and "broke the documented" not in run.output
    assert through.verdict("unknown-app") == "error"
    no_noise(run)


def test_a_500_where_the_case_expected_its_404_stays_that_case_s_failure(through):
    """The honest side of the rule: the API's own 5xx is the contract's to judge."""
    body = b'{"error": {"message": "Internal Server Error"}}'
    unknown = re.compile(r"^/auth/apps/ap-")
    other = "/auth/apps/" + through.server.profile["otherAppId"]
    answered: list[int] = []

    def policy(request: Request) -> Action:
        if unknown.match(request.path) and request.path != other and not answered:
            answered.append(request.number)
            return Answer(500, (("Content-Type", "application/json"),), body)
        return FORWARD

    run, _ = through(policy, *UNKNOWN_APP)
    assert answered and run.returncode == TESTS_FAILED, run.output[-3000:]
    assert FAILED_ROW.search(run.stdout) and through.verdict("unknown-app") == "failed", run.stdout[-3000:]


def test_the_same_case_through_the_proxy_is_verified(through):
    """The control of the two above."""
    run, proxy = through(lambda request: FORWARD, *UNKNOWN_APP)
    assert run.returncode == 0 and re.search(r"verified +404 +unknown-app ", run.stdout), run.output[-3000:]
    assert set(proxy.counts) == {"forwarded"} and "dfns retries" not in run.stdout


# -- one reset, every reset -------------------------------------------------------------------------------------


def test_one_reset_connection_is_sent_again_and_the_run_passes(through):
    control = "/auth/apps/" + through.server.profile["otherAppId"]
    run, proxy = through(first_to(control, RESET), "--dfns-require-all")
    assert proxy.counts["reset"] == 1, dict(proxy.counts)
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]
    assert "dfns retries: 1 request sent again after its connection failed before any answer" in run.stdout
    no_noise(run)


def test_the_whole_suite_through_the_proxy_passes_without_retries(through):
    """The control of the reset and the 429 runs: no reset, no 429, nothing sent again."""
    run, proxy = through(lambda request: FORWARD, "--dfns-require-all")
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]
    assert set(proxy.counts) == {"forwarded"} and "dfns retries" not in run.stdout


def test_a_target_resetting_every_connection_opens_the_breaker_and_ends_as_an_error(through):
    """One request at a time: the first request the client may send again and its second sending, then the
    breaker; the cleanup likewise. A request with its case's own one-time value is not sent again and does not
    open the breaker (it is its case's error), so one or two of those may come first. Counted at the proxy (a
    whole run sends about 460 requests), not timed."""
    run, proxy = through(after_request(START_UP, RESET), "--dfns-concurrency", "1")
    assert run.returncode == TESTS_FAILED and "dfns verdict: INCOMPLETE" in run.stdout, run.output[-3000:]
    assert not FAILED_ROW.search(run.stdout)
    assert "not sent: the target already failed earlier in this run" in run.output
    assert "sent again once, on a new connection with fresh one-time values: it failed too" in run.output
    assert proxy.counts["reset"] <= 2 + 2 + 2 and proxy.requests <= START_UP + 2 + 2 + 2, dict(proxy.counts)
    no_noise(run)


# -- 429 on one request in 25 -----------------------------------------------------------------------------------


def test_a_429_on_one_request_in_25_is_waited_out_request_by_request_and_the_run_passes(through):
    with gateway(through.server.url, limit=lambda n: n % 25 == 0, retry_after="0") as front:
        run = through.run(front.url, "--dfns-require-all")
        hits = front.limited
    assert hits >= 10, hits
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]
    assert "dfns retries: %d answers 429 met, %d requests sent again" % (hits, hits) in run.stdout, run.stdout[-2000:]
    no_noise(run)
