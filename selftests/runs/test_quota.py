"""A default run behind the organisation's quota (issue 28 item 4): paced by the headers, never a 429.

The reference server runs a window quota sending the documented headers
(``server/quota.py``): 100 requests a window, as a trial organisation has, in
a window of 2 s instead of 60 so that the run does not wait minutes; the
pacer reads the window's length from the headers, as it would read 60 s. The
429s are counted on the server's side. The control: the same run with the
pacer off meets 429s, so a quota that refuses nothing cannot pass the check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.settings import Settings
from selftests.helpers.suite_runner import SuiteRun, run_suite

#: A trial organisation's quota (rate-limits.md, earlier version), in a window shortened for the test.
TRIAL = Settings(rate_limit=100, rate_window=2.0)


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
    assert "dfns quota: 100 requests a" in run.stdout


def test_the_same_run_unpaced_meets_429s(quota_server, tmp_path) -> None:
    """The control: --dfns-rate-limit off spends the window at once and meets the limiter (no budget to wait it out)."""
    run_behind(quota_server, tmp_path, "--dfns-rate-limit", "off", "--dfns-rate-limit-budget", "0")
    assert quota_server.state.quota.refused > 0
