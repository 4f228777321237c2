"""The quota pacer (``client/quota.py``) and the reference server's window quota (``server/quota.py``), on fake clocks.

Every bound has its control: the pacer that holds a request back is shown to
let one go when the quota allows it, so a pacer that always waits fails too.
"""

from __future__ import annotations

import threading
from email.utils import formatdate

import pytest

from dfns_contract.client.quota import QuotaPacer, reported
from dfns_contract.server.quota import WindowQuota, quota_headers

T0 = 1_800_000_000.0


class FakeTime:
    """A clock that only the pauses move: a wait is counted, never slept."""

    def __init__(self) -> None:
        self.now = T0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def headers(limit: int, remaining: int, reset: float, now: float, **more: str) -> dict[str, str]:
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(reset)), "date": formatdate(now, usegmt=True), **more}


def pacer(tmp_path=None) -> tuple[QuotaPacer, FakeTime]:
    fake = FakeTime()
    return QuotaPacer(tmp_path, clock=fake.clock, pause=fake.pause), fake


def test_without_headers_nothing_waits() -> None:
    paced, fake = pacer()
    for _ in range(50):
        assert paced.before_send() == 0.0
        paced.observe(200, {})
    assert fake.pauses == []


def test_the_remaining_requests_are_spread_over_the_window() -> None:
    """10 left, 10 s to the reset: one request a second, never faster."""
    paced, fake = pacer()
    paced.before_send()
    paced.observe(200, headers(100, 10, T0 + 10, T0))
    sent = []
    for _ in range(10):
        paced.before_send()
        sent.append(fake.now)
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= 0.99, gaps
    assert sent[-1] <= T0 + 10  # the control: the ten left fit in the window, none had to wait for the reset


def test_a_burst_is_counted_at_once_and_the_window_still_holds() -> None:
    """10 left, 10 s to the reset: a race's 5 senders leave together (no pause), then the 5 left are spread
    over what remains of the window; the control is the spread above (a request a second)."""
    paced, fake = pacer()
    paced.before_send()
    paced.observe(200, headers(100, 10, T0 + 10, T0))
    assert paced.before_burst(5) == 0.0 and fake.pauses == []
    sent = []
    for _ in range(5):
        paced.before_send()
        sent.append(fake.now)
    assert sent[0] >= T0 + 5 - 0.01 and sent[-1] <= T0 + 10  # the burst spent half the window's share
    assert paced.snapshot().remaining == 0


def test_a_burst_waits_for_a_window_that_holds_all_of_it() -> None:
    """3 left and a race of 5: the race waits for the reset rather than leave 3 now and 2 later."""
    paced, fake = pacer()
    paced.before_send()
    paced.observe(200, headers(100, 3, T0 + 30, T0))
    paced.before_burst(5)
    assert fake.now >= T0 + 30 and paced.snapshot().remaining == 95


def test_never_sends_at_remaining_zero_before_the_reset() -> None:
    paced, fake = pacer()
    paced.before_send()
    paced.observe(200, headers(5, 0, T0 + 30, T0))
    paced.before_send()
    assert fake.now >= T0 + 30


def test_the_headers_are_read_whatever_their_case() -> None:
    seen = reported({"X-RateLimit-Limit": "100", "X-RATELIMIT-REMAINING": "7", "x-ratelimit-reset": str(int(T0 + 20)),
                     "Retry-After": "3"}, T0)
    assert (seen.limit, seen.remaining, seen.retry_after, seen.seconds_left) == (100, 7, 3.0, 20.0)


def test_the_reset_is_counted_on_the_servers_clock() -> None:
    """A server clock 100 s ahead of ours: the 20 s it reports are 20 s for us too, not 120."""
    seen = reported(headers(100, 0, T0 + 120, T0 + 100), T0)
    assert seen.seconds_left == 20.0


def test_a_429_holds_every_request_for_its_retry_after() -> None:
    paced, fake = pacer()
    paced.before_send()
    paced.observe(429, {"Retry-After": "7"})
    paced.before_send()
    assert fake.now >= T0 + 7
    assert paced.snapshot().refused == 1


def test_a_429_without_headers_holds_then_guesses_no_rate() -> None:
    """One 429 in 25 from a target without headers: a backoff hold, then requests go at once again (a rate
    guessed from what got through would slow the rest of the run to it)."""
    paced, fake = pacer()
    for _ in range(24):
        paced.before_send()
    assert fake.now == T0  # the control: nothing known, nothing paced
    paced.observe(429, {})
    paced.before_send()
    held = fake.now
    assert held > T0 and paced.snapshot().limit is None
    for _ in range(24):
        paced.before_send()
    assert fake.now == held

def test_processes_share_one_quota_through_the_folder(tmp_path) -> None:
    """Two pacers on one folder (two pytest-xdist workers): the requests of both are counted against one window."""
    fake = FakeTime()
    first = QuotaPacer(tmp_path, clock=fake.clock, pause=fake.pause)
    second = QuotaPacer(tmp_path, clock=fake.clock, pause=fake.pause)
    first.before_send()
    first.observe(200, headers(4, 3, T0 + 60, T0))
    for _ in range(3):
        (second if fake.now % 2 else first).before_send()
    assert fake.now < T0 + 60  # the three left went in the window
    second.before_send()  # the fifth: only after the reset
    assert fake.now >= T0 + 60


def test_separate_folders_do_not_share(tmp_path) -> None:
    """The control: a pacer on another folder knows nothing of the first's quota."""
    fake = FakeTime()
    first = QuotaPacer(tmp_path / "a", clock=fake.clock, pause=fake.pause)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first.before_send()
    first.observe(200, headers(4, 0, T0 + 60, T0))
    assert QuotaPacer(tmp_path / "b", clock=fake.clock, pause=fake.pause).before_send() == 0.0


def test_threads_never_overspend(tmp_path) -> None:
    """8 threads, 5 requests each, 29 left in the window: at most 29 leave before the reset (40 would, unpaced)."""
    fake = FakeTime()
    lock = threading.Lock()

    def pause(seconds: float) -> None:
        with lock:
            fake.now += seconds

    paced = QuotaPacer(tmp_path, clock=fake.clock, pause=pause)
    paced.before_send()
    paced.observe(200, headers(30, 29, T0 + 60, T0))
    sent_at: list[float] = []

    def send() -> None:
        for _ in range(5):
            paced.before_send()
            sent_at.append(fake.now)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(sent_at) == 40
    assert sum(1 for t in sent_at if t < T0 + 60) <= 29


def test_the_server_quota_refuses_once_spent_and_resets() -> None:
    now = [T0]
    quota = WindowQuota(3, 2.0, clock=lambda: now[0])
    charges = [quota.charge() for _ in range(4)]
    assert [c.allowed for c in charges] == [True, True, True, False]
    assert [c.remaining for c in charges] == [2, 1, 0, 0]
    assert dict(quota_headers(charges[0]))[b"x-ratelimit-reset"] == str(int(T0 + 2)).encode()
    assert quota.retry_after(charges[3]) == 2
    now[0] += 2.0
    assert quota.charge().allowed  # the control: the next window serves again
    assert (quota.served, quota.refused) == (4, 1)


def test_a_quota_needs_a_request_and_a_window() -> None:
    with pytest.raises(ValueError):
        WindowQuota(0, 60)
