"""The progress line's parts, in-process: when it is shown, what it says, and the waits the client marks."""

from __future__ import annotations

import time

import pytest

from dfns_contract.client.activity import ACTIVITY, QUOTA, RETRY_AFTER, Snapshot
from dfns_contract.client.quota import QuotaPacer
from dfns_contract.client.retries import Retries
from dfns_contract.plugin.progress import combined, enabled, line


@pytest.mark.parametrize(("mode", "verbosity", "isatty", "shown"), [
    ("auto", 0, True, True), ("auto", -1, True, True), ("auto", 0, False, False),
    ("on", 0, False, True), ("on", -1, False, True), ("off", 0, True, False),
    ("on", -2, True, False), ("auto", -2, True, False),
])
def test_when_lines_are_shown(mode, verbosity, isatty, shown) -> None:
    assert enabled(mode, verbosity, isatty) is shown


def test_the_line_says_cases_requests_and_until_when() -> None:
    assert line(3, 40, 1, None, "") == "dfns progress: 3/40 cases done, 1 request sent"
    until = time.mktime((2026, 1, 2, 14, 3, 5, 0, 0, -1))
    assert line(12, 40, 311, until, QUOTA) == ("dfns progress: 12/40 cases done, 311 requests sent; waiting on a "
                                              "rate limit until 14:03:05 (the target's quota)")


def test_processes_add_up_and_only_a_wait_under_way_counts() -> None:
    now = 1000.0
    merged = combined([Snapshot(5), Snapshot(7, now + 3, RETRY_AFTER), Snapshot(1, now - 1, QUOTA)], now)
    assert merged == Snapshot(13, now + 3, RETRY_AFTER)
    assert combined([Snapshot(2, now - 1, QUOTA)], now) == Snapshot(2, None, "")


def test_the_client_marks_its_waits_while_they_last() -> None:
    seen: list[Snapshot] = []
    Retries(60.0, pause=lambda seconds: seen.append(ACTIVITY.snapshot())).wait(30.0)
    assert seen[0].waiting_for == RETRY_AFTER and seen[0].waiting_until > time.time() + 20
    assert ACTIVITY.snapshot().waiting_until is None  # over when the wait is

    clock = [time.time()]

    def pause(seconds: float) -> None:  # the pacer's clock moves on as its pause passes, at once
        seen.append(ACTIVITY.snapshot())
        clock[0] += seconds

    pacer = QuotaPacer(clock=lambda: clock[0], pause=pause)
    pacer.observe(429, {"Retry-After": "30"})
    pacer.before_send()
    assert seen[-1].waiting_for == QUOTA and ACTIVITY.snapshot().waiting_until is None
