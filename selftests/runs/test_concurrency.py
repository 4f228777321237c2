"""Independent work at once (issue 18): bounded by --dfns-concurrency and the rate, the same verdicts as one at a time.

Each run goes through the loopback fault proxy (``selftests/helpers/proxy.py``),
which counts the requests on their way at once and when each arrived: what the
target sees, whatever the suite believes it sent. Every bound has its control:
the same run with more allowed uses more, so the check can fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.mutation import failed_cases
from selftests.helpers.proxy import Delay, FaultProxy
from selftests.helpers.suite_runner import SuiteRun, run_suite

#: Every test but the races, whose 20 senders are a burst by design (they take no --dfns-concurrency slot).
WITHOUT_RACES = ("-k", "not at_once")
#: Each request held this long by the proxy: long enough that requests sent at once overlap there.
HELD = Delay(0.02)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


def through(server: RunningServer, tmp_path: Path, *args: str, faults: tuple[str, ...] = ()) -> tuple[SuiteRun, FaultProxy]:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(server.profile))
    with FaultProxy(server.url, lambda request: HELD) as proxy:
        # The smallest fuzzing budget: what is counted is requests at once, which its two batches already show.
        run = run_suite("--base-url", proxy.url, "--dfns-profile", str(profile), "--dfns-hypothesis-profile", "trial",
                        *args)
    return run, proxy


#: One at a time is the full tier's (the longest run here); 3 stays in the fast one, with the control below.
@pytest.mark.parametrize("limit", [pytest.param(1, marks=pytest.mark.slow), 3])
def test_never_more_requests_at_once_than_the_concurrency(server, tmp_path, limit: int) -> None:
    run, proxy = through(server, tmp_path, "--dfns-concurrency", str(limit), *WITHOUT_RACES)
    assert run.returncode == 0, run.output[-3000:]
    assert proxy.most_in_flight <= limit, "%d requests at once through the proxy, --dfns-concurrency %d" % (
        proxy.most_in_flight, limit)
    assert "at most %d at once (--dfns-concurrency)" % limit in run.stdout


def test_the_default_concurrency_sends_independent_work_at_once(server, tmp_path) -> None:
    """The control for the bound: by default (8) the run does overlap its requests, or the bound proves nothing."""
    run, proxy = through(server, tmp_path, *WITHOUT_RACES)
    assert run.returncode == 0, run.output[-3000:]
    assert 3 < proxy.most_in_flight <= 8, proxy.most_in_flight


def test_the_rate_limit_holds_at_any_concurrency(server, tmp_path) -> None:
    """--dfns-rate-limit 40 with 8 at once: no second of the run sees more than 40 requests (+1: a window's edge)."""
    run, proxy = through(server, tmp_path, "--dfns-rate-limit", "40", "-k", "test_documented_error")
    assert run.returncode == 0, run.output[-3000:]
    assert len(proxy.arrivals) > 60, "too few requests to see a rate: %d" % len(proxy.arrivals)
    assert proxy.most_in_any_second() <= 41, proxy.most_in_any_second()


def test_without_a_rate_limit_the_same_run_goes_faster_than_it(server, tmp_path) -> None:
    """The control for the rate: unpaced, the same requests arrive faster than 40 a second."""
    run, proxy = through(server, tmp_path, "-k", "test_documented_error")
    assert run.returncode == 0, run.output[-3000:]
    assert proxy.most_in_any_second() > 41, proxy.most_in_any_second()


def failing_at_each_concurrency(tmp_path: Path, fault: str, *selection: str) -> dict[str, list[str]]:
    """The failing cases of the same run at once (8) and one at a time (1), against a server with ``fault``."""
    failing = {}
    for limit in ("1", "8"):
        junit = tmp_path / ("junit-%s.xml" % limit)
        run = run_suite("--dfns-mock-fault", fault, "--dfns-concurrency", limit, "--junitxml", str(junit),
                        "--dfns-hypothesis-profile", "ci", *selection)
        assert run.returncode == 1, run.output[-3000:]
        failing[limit] = failed_cases(junit)
    return failing


#: The whole suite twice per fault: the full tier's sweep (the fast tier keeps the representative below).
@pytest.mark.slow
@pytest.mark.parametrize("fault", ["useraction-unbound", "nonce-replay-off", "nonce-short-uuid", "html-500-on-odd-bytes"])
def test_the_verdicts_do_not_depend_on_the_concurrency(tmp_path, fault: str) -> None:
    """Against a broken server, the same cases fail at once (8) and one at a time (1), and in every report."""
    failing = failing_at_each_concurrency(tmp_path, fault)
    assert failing["1"] == failing["8"] and failing["8"], failing


def test_the_documented_error_verdicts_do_not_depend_on_the_concurrency(tmp_path) -> None:
    """The fast tier's representative of the sweep above: the documented-error cases alone, one fault."""
    failing = failing_at_each_concurrency(tmp_path, "useraction-unbound", "tests/test_documented_errors.py")
    assert failing["1"] == failing["8"] and failing["8"], failing


#: The nonce race alone (20 senders), as a selection: its verdict is read, not the run's (INCOMPLETE).
NONCE_RACE = ("-k", "one_nonce_sent_at_once", "--dfns-allow-incomplete")


def test_a_race_behind_a_rate_limit_still_arrives_at_once(server, tmp_path) -> None:
    """Paced at 10 a second, the race's 20 senders are counted together and leave together: spread 100 ms
    apart, they would reach the proxy one at a time (a race no server can lose)."""
    run, proxy = through(server, tmp_path, "--dfns-rate-limit", "10", *NONCE_RACE)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.output[-3000:]
    assert proxy.most_in_flight >= 10, "the race's 20 senders reached the proxy %d at a time" % proxy.most_in_flight


@pytest.mark.parametrize("fault", ["nonce-replay-racy", None], ids=["racy-server", "control"])
def test_a_racy_server_behind_a_rate_limit_is_still_caught(tmp_path, fault: str | None) -> None:
    """The racy store (check, 50 ms, record) lets two senders through only if they arrive within 50 ms of each
    other: under --dfns-rate-limit 10 a paced race would never show it. The control: a faithful server passes."""
    junit = tmp_path / "junit.xml"
    run = run_suite("--dfns-rate-limit", "10", "--junitxml", str(junit), *NONCE_RACE,
                    *(("--dfns-mock-fault", fault) if fault else ()))
    expected = ["one_nonce_sent_at_once_passes_once"] if fault else []
    assert (run.returncode, failed_cases(junit)) == (1 if fault else 0, expected), run.output[-3000:]
