"""A slow or dead target ends the run in bounded time, and each transport failure is one clear *error*.

The suite runs against the reference server through the loopback fault proxy
(``helpers/proxy.py``), which delays, hangs, resets or cuts the requests its
policy picks and counts what it did: "no case waits for another timeout" is
the count of requests it held, not a guess from the clock. Every faulty run
has its control, the same run through the same proxy forwarding everything.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfns_contract.contract.strategies import BATCH
from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.proxy import (
    FORWARD,
    HANG,
    RESET,
    Action,
    Cut,
    Delay,
    FaultProxy,
    Policy,
    Request,
    after_request,
    forward_all,
)
from selftests.helpers.suite_runner import SuiteRun, run_suite

USAGE_ERROR, TESTS_FAILED = 4, 1
#: Requests before the first case: the reachability check and the preflight's 4.
START_UP = 5
ONE_CASE = ("tests/test_documented_errors.py", "-k", "nonce-reused-immediately")


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


@pytest.fixture
def profile(tmp_path: Path, server: RunningServer) -> str:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(server.profile))
    return str(path)


class Through:
    """One run of the suite through a fault proxy: its output and what the proxy did (no wall time: a loaded
    machine stretches it; the proxy counts the timeouts waited one after another instead)."""

    def __init__(self, server: RunningServer, profile: str, tmp_path: Path) -> None:
        self.server, self.profile, self.report = server, profile, tmp_path / "r.json"

    def __call__(self, policy: Policy, *args: str) -> tuple[SuiteRun, FaultProxy]:
        with FaultProxy(self.server.url, policy) as proxy:
            run = run_suite("--base-url", proxy.url, "--dfns-profile", self.profile, "--dfns-hypothesis-profile", "dev",
                            "--dfns-contract-report", str(self.report), *args, timeout=300)
            return run, proxy

    def verdicts(self) -> set[str]:
        return {error["verdict"] for error in json.loads(self.report.read_text())["errors"]}


@pytest.fixture
def through(server: RunningServer, profile: str, tmp_path: Path) -> Through:
    return Through(server, profile, tmp_path)


#: A row of the documented-errors table whose verdict is FAILED.
FAILED_ROW = re.compile(r"^  FAILED +\d{3} ", re.MULTILINE)


def assert_environment_errors_only(run: SuiteRun, through: Through) -> None:
    """Exit 1, INCOMPLETE, *error* and never *failed*; the summary, cleanup and report written; no traceback."""
    assert run.returncode == TESTS_FAILED, run.output[-3000:]
    assert "dfns verdict: INCOMPLETE" in run.stdout and not FAILED_ROW.search(run.stdout), run.stdout[-3000:]
    verdicts = through.verdicts()
    assert "error" in verdicts and "failed" not in verdicts, verdicts
    assert "dfns cleanup (state the run changed on the target)" in run.stdout, run.stdout[-3000:]
    for noise in ("Traceback", "urllib3", "ExceptionGroup", "Flaky", "@seed("):
        assert noise not in run.output, run.output[-3000:]


def examples_run(run: SuiteRun) -> dict[str, int]:
    """The examples each property ran, from the run's fuzzing section."""
    return {name: int(count) for count, name in re.findall(r"^ +(\d+) examples +\S+::(\w+)$", run.stdout, re.M)}


# -- the proxy itself ------------------------------------------------------------------------------------


def test_the_proxy_calls_back_counts_and_leaves_no_thread(server):
    import requests

    before = threading.active_count()
    seen: list[tuple[int, str, str, int]] = []
    policy = {1: FORWARD, 2: HANG, 3: RESET}
    with FaultProxy(server.url, lambda request: policy.get(request.number, FORWARD),
                    on_forwarded=lambda *args: seen.append(args)) as proxy:
        with requests.Session() as session:
            assert session.get(proxy.url + "/auth/apps", timeout=5).status_code == 400  # no nonce
            with pytest.raises(requests.Timeout):
                session.get(proxy.url + "/auth/apps", timeout=0.3)
            with pytest.raises(requests.ConnectionError):
                session.put(proxy.url + "/auth/apps/x/activate", timeout=5)
    assert seen == [(1, "GET", "/auth/apps", 400)]
    assert dict(proxy.counts) == {"forwarded": 1, "hung": 1, "reset": 1}
    assert threading.active_count() == before  # the hung handler was released and joined


def test_the_proxy_counts_timeouts_waited_in_sequence_not_those_waited_together(server):
    """The control of ``timeouts_in_sequence``: two hung requests one after another count 2, two at once 1."""
    import requests

    def two(at_once: bool) -> int:
        with FaultProxy(server.url, lambda request: HANG) as proxy:
            def one() -> None:
                with pytest.raises(requests.Timeout):
                    requests.get(proxy.url + "/auth/apps", timeout=0.3)
            threads = [threading.Thread(target=one) for _ in range(2)]
            for thread in threads:
                thread.start()
                if not at_once:
                    thread.join()
            for thread in threads:
                thread.join()
        assert len(proxy.holds) == 2, proxy.holds
        return proxy.timeouts_in_sequence()

    assert two(at_once=False) == 2
    assert two(at_once=True) == 1


# -- 3. bounded time -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target, policy, held", [
    ("stops-answering", after_request(60, HANG), "hung"),
    ("2s-per-request", after_request(START_UP, Delay(2.0)), "delayed"),
], ids=["stops-answering", "2s-per-request"])
@pytest.mark.slow  # a whole run waiting on timeouts; the one-case transport failures below stay in the fast tier
def test_a_dead_or_slow_target_costs_one_timeout_and_every_output_is_written(through, target, policy, held):
    """The whole suite one request at a time, ``--dfns-timeout 1``: one case waits a timeout, the cleanup another."""
    run, proxy = through(policy, "--dfns-timeout", "1", "--dfns-concurrency", "1")
    assert_environment_errors_only(run, through)
    assert proxy.counts[held] <= 2, dict(proxy.counts)  # one request of the cases, one of the cleanup
    assert "not sent: the target already failed earlier in this run" in run.output
    assert examples_run(run), run.stdout[-3000:]  # the fuzzing section was written; what went on is counted above
    assert proxy.timeouts_in_sequence() <= 2, proxy.holds  # the case's, then the cleanup's


#: The requests on their way when the first one fails, at most: --dfns-concurrency's, each race's burst
#: (its senders take no slot), and the cleanup's one.
ON_THEIR_WAY = 8 + 2 * 20 + 1


@pytest.mark.parametrize("target, policy, held", [
    ("stops-answering", after_request(60, HANG), "hung"),
    ("2s-per-request", after_request(START_UP, Delay(2.0)), "delayed"),
], ids=["stops-answering", "2s-per-request"])
@pytest.mark.slow
def test_at_once_a_dead_target_still_costs_one_timeout(through, target, policy, held):
    """The default concurrency (8): the requests already on their way wait the one timeout together; nothing
    is sent after the first failure (the proxy counts every request that reached it)."""
    run, proxy = through(policy, "--dfns-timeout", "1")
    assert_environment_errors_only(run, through)
    assert proxy.counts[held] <= ON_THEIR_WAY, dict(proxy.counts)
    assert "not sent: the target already failed earlier in this run" in run.output
    assert examples_run(run), run.stdout[-3000:]
    # Waited together: the batch on its way (a sender may leave just as the first gives up), then the cleanup's.
    assert proxy.timeouts_in_sequence() <= 3, proxy.holds


#: The suite without its races, whose 20 senders would all wait the one timeout together.
SEQUENTIAL = ("tests/test_documented_errors.py", "tests/test_fuzz_headers.py", "tests/test_fuzz_replay_model.py")


@pytest.mark.slow
def test_under_xdist_each_worker_waits_one_timeout_at_most(through):
    run, proxy = through(after_request(60, HANG), *SEQUENTIAL, "--dfns-timeout", "1", "-n", "2")
    assert_environment_errors_only(run, through)
    # Per worker its share of --dfns-concurrency (8 / 2) and one cleanup request; the controller retries each
    # change its workers left (2).
    assert proxy.counts["hung"] <= 2 * (4 + 1) + 2, dict(proxy.counts)
    assert proxy.timeouts_in_sequence() <= 6, proxy.holds  # each worker's as above, then the controller's 2


@pytest.mark.slow  # in the tier of the runs it is the control of
def test_the_whole_suite_through_the_proxy_passes(through):
    """The control of the runs above: the same proxy, forwarding everything."""
    run, proxy = through(forward_all, "--dfns-timeout", "1", "--dfns-require-all")
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]
    # A default run sends about 390 to 435 requests (the replay model's random walks vary in length; 395
    # was seen): well over 300 shows the whole suite went through the proxy.
    assert proxy.forwarded > 300 and set(proxy.counts) == {"forwarded"}, dict(proxy.counts)


#: A state-changing error's cases (about 1 s at 20 ms a request), then two properties (about 3 s), one request
#: at a time (at once, they would fit in the deadline).
SLOW_CASES = ("tests/test_documented_errors.py", "tests/test_fuzz_headers.py", "-k",
              "useraction-missing-or-invalid or fuzz_invalid_nonce or fuzz_valid_nonce", "--dfns-skip-preflight",
              "--dfns-concurrency", "1")


def test_past_the_deadline_the_remaining_cases_are_errors_and_the_cleanup_still_runs(through):
    run, proxy = through(lambda request: Delay(0.02), *SLOW_CASES, "--dfns-deadline", "1")
    assert_environment_errors_only(run, through)
    assert re.search(r"not sent: the run's deadline passed \(1 s after its first case, --dfns-deadline\)", run.output)
    # The cleanup was not stopped by the deadline: whether the deadline passed before or inside the case that
    # deactivates the app (then its own rescue was not sent), the change is checked and put back.
    assert re.search(r"otherAppId \S+: (already active|re-activated)", run.stdout), run.stdout[-2000:]
    assert "0 not restored" in run.stdout, run.stdout[-2000:]


def test_a_deadline_the_run_fits_in_changes_nothing(through):
    """The control: the same slow target, with time enough."""
    run, _ = through(lambda request: Delay(0.02), *SLOW_CASES, "--dfns-deadline", "120")
    assert run.returncode == 0, run.output[-3000:]
    assert "deadline passed" not in run.stdout and "error" not in through.verdicts()


def test_a_bad_deadline_is_a_usage_error():
    """End to end, one bad value: exit 4 and one line. Every spelling is checked in-process (unit/test_options.py)."""
    args, message = ("--dfns-deadline", "0"), "--dfns-deadline: must be more than 0"
    run = run_suite(*ONE_CASE, *args, timeout=120)
    assert run.returncode == USAGE_ERROR and message in run.output, run.output[-3000:]
    assert "Traceback" not in run.output


# -- 4. one clear failure per case ------------------------------------------------------------------------------


CUTS = {
    # With --dfns-skip-preflight: 1 the reachability check, 2 the case's first use of a nonce, 3 its reuse.
    "inside-the-headers": (lambda request: Cut(40) if request.number == 3 else FORWARD,
                           r"the connection was cut after 40 bytes of the answer, inside its status line or headers"),
    "inside-the-body": (lambda request: Cut(12, in_body=True) if request.number == 3 else FORWARD,
                        r"HTTP 400 arrived, then the connection was cut after 12 bytes of its body "
                        r"\(Content-Length: \d+\)"),
    "reset": (lambda request: RESET if request.number == 3 else FORWARD,
              r"the connection was reset by the target \(or something before it\) before an answer came"),
    "timeout": (lambda request: HANG if request.number == 3 else FORWARD,
                r"timed out after 1\.\d s without an answer \(--dfns-timeout\)"),
}


@pytest.mark.parametrize("fault", CUTS, ids=list(CUTS))
def test_a_transport_failure_is_one_error_saying_what_was_sent_and_what_happened(through, fault):
    policy, what = CUTS[fault]
    run, proxy = through(policy, *ONE_CASE, "--dfns-skip-preflight", "--dfns-timeout", "1")
    assert_environment_errors_only(run, through)
    assert re.search(r"environment error, the contract was not checked: GET %s/auth/apps: %s\n  request:\n    "
                     r"curl -sS -i -X GET %s/auth/apps -H .*'(?i:X-DFNS-NONCE): "
                     % (re.escape(proxy.url), what, re.escape(proxy.url)), run.output), run.output[-3000:]
    assert run.output.count("environment error") == 1 and "envelope" not in run.output
    assert re.search(r"ERROR +400 +nonce-reused ", run.stdout)
    assert "<masked:authToken>" in run.output and through.server.profile["authToken"] not in run.output


def test_the_same_case_through_the_proxy_is_verified(through):
    """The control of the four above."""
    run, proxy = through(forward_all, *ONE_CASE, "--dfns-skip-preflight", "--dfns-timeout", "1")
    assert run.returncode == 0 and re.search(r"verified +400 +nonce-reused ", run.stdout), run.output[-3000:]
    assert proxy.forwarded == 3


#: One request at a time: which request of a batch the proxy breaks is then the same every run.
PROPERTY = ("tests/test_fuzz_headers.py", "-k", "fuzz_invalid_nonce", "--dfns-skip-preflight", "--dfns-concurrency", "1")


class ResetChosenNonce:
    """RESET the first request from the ``first``-th on that carries an X-DFNS-NONCE (a value the property
    chose: never sent again), FORWARD the others. A drawn value may be the header's absence, and such a
    request is sent again after a reset and passes (docs/environment-answers.md): resetting it would prove
    nothing about a property's transport failure."""

    def __init__(self, first: int) -> None:
        self.first, self.reset_at = first, 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Action:
        with self._lock:
            if not self.reset_at and request.number >= self.first and "x-dfns-nonce" in request.header_names:
                self.reset_at = request.number
                return RESET
        return FORWARD


def test_a_transport_failure_inside_a_property_stops_it_and_is_one_error(through):
    reset = ResetChosenNonce(10)
    run, proxy = through(reset, *PROPERTY)
    assert_environment_errors_only(run, through)
    assert run.output.count("environment error, the contract was not checked") == 1, run.output[-3000:]
    # Request 1 is the reachability check; each example one request; the one reset ends the property.
    assert reset.reset_at >= 10 and examples_run(run) == {"test_fuzz_invalid_nonce": reset.reset_at - 1}
    assert proxy.requests == reset.reset_at and re.search(r"ERROR +400 +nonce-missing-or-invalid ", run.stdout)


def test_the_same_property_through_the_proxy_runs_its_budget(through):
    """The control: every example runs (the dev budget, 32 values)."""
    run, _ = through(forward_all, *PROPERTY)
    assert run.returncode == 0 and examples_run(run) == {"test_fuzz_invalid_nonce": 32}, run.output[-3000:]


def test_at_once_a_transport_failure_inside_a_property_is_one_error_too(through):
    """The default concurrency: the batch with the broken request ends, and nothing is sent after it."""
    run, proxy = through(ResetChosenNonce(10), *PROPERTY[:-2])
    assert_environment_errors_only(run, through)
    assert run.output.count("environment error, the contract was not checked") == 1, run.output[-3000:]
    assert examples_run(run)["test_fuzz_invalid_nonce"] <= 2 * BATCH and proxy.requests <= 1 + 2 * BATCH
