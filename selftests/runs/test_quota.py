"""A default run behind the organisation's quota (issue 28 item 4): paced by the headers, never a 429.

The reference server runs a window quota sending the documented headers
(``server/quota.py``). Paced: 40 requests a window of 2 s (a small quota, so
the trial request plan, and a short window so that a run spans several and
the pacer is tested; it reads the window's length from the headers, as it
would read 60 s). The 429s are counted on the server's side. The control: the
same run with the pacer off meets 429s, so a quota that refuses nothing
cannot pass the check.

In one window: 100 requests a 60 s window, a trial organisation's, which
does not reset during the run; the default run fits in it (the trial request
plan: ``contract/request_plan.py``), counted by the server. The control: the
same run against a server without a quota sends more than 100, so it is the
plan that kept the first under.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.settings import Settings
from selftests.helpers.suite_runner import SuiteRun, run_suite

#: A small quota (the trial plan's) in a window shortened for the test: a run spans several windows.
TRIAL = Settings(rate_limit=40, rate_window=2.0)
#: A trial organisation's quota (rate-limits.md, earlier version), its window as documented.
ONE_WINDOW = Settings(rate_limit=100, rate_window=60.0)
#: A quota no run reaches (a non-trial organisation's, and more): counted, never refused or small.
UNREACHED = Settings(rate_limit=10**9, rate_window=60.0)


@pytest.fixture
def quota_server() -> Iterator[RunningServer]:
    with start_server(settings=TRIAL, contract="2026") as running:
        yield running


def run_behind(server: RunningServer, tmp_path: Path, *args: str) -> SuiteRun:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(server.profile))
    return run_suite("--dfns-contract", "2026", "--base-url", server.url, "--dfns-profile", str(profile), *args,
                     allow_incomplete=False)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_default_run_behind_a_trial_quota_passes_without_a_429(quota_server, tmp_path, workers) -> None:
    run = run_behind(quota_server, tmp_path, *workers)
    quota = quota_server.state.quota
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns verdict: PASSED" in run.stdout, run.stdout[-3000:]
    assert quota.refused == 0, "%d requests met a 429\n%s" % (quota.refused, run.stdout[-3000:])
    assert quota.served > TRIAL.rate_limit, "the run fits in one window: the quota was never tested (%d)" % quota.served
    assert "dfns quota: 40 requests a" in run.stdout


@pytest.mark.slow  # paced: the quota's 100 requests are spread over its 60 s window
def test_a_default_run_fits_in_one_trial_window(tmp_path) -> None:
    with start_server(settings=ONE_WINDOW, contract="2026") as server:
        run = run_behind(server, tmp_path)
        served, refused = server.state.quota.served, server.state.quota.refused
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]
    assert refused == 0, "%d requests met a 429\n%s" % (refused, run.stdout[-3000:])
    assert served <= ONE_WINDOW.rate_limit, "a default run sent %d requests, more than one trial window" % served


def test_without_a_small_quota_the_same_run_sends_more_than_one_window(tmp_path) -> None:
    """The control: no small quota, no trial plan; counted the same way (a quota no run reaches)."""
    with start_server(settings=UNREACHED, contract="2026") as server:
        run = run_behind(server, tmp_path)
        served = server.state.quota.served
    assert run.returncode == 0, run.output[-3000:]
    assert served > ONE_WINDOW.rate_limit, "a run without a quota sent only %d requests" % served


def test_the_same_run_unpaced_meets_429s(quota_server, tmp_path) -> None:
    """The control: --dfns-rate-limit off spends the window at once and meets the limiter (no budget to wait it out)."""
    run_behind(quota_server, tmp_path, "--dfns-rate-limit", "off", "--dfns-rate-limit-budget", "0")
    assert quota_server.state.quota.refused > 0
