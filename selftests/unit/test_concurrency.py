"""The parts of independent work at once: the in-flight bound, the chains, ``at_once``, the run's order.

Threads here wait on events with deadlines, never on sleeps: each test ends
within a second or fails.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from dfns_contract.client import TargetDown
from dfns_contract.client.chains import Chains
from dfns_contract.client.pacing import InFlight
from dfns_contract.contract.concurrency import at_once, raise_first_failure
from dfns_contract.contract.pauses import AFTER_A_PAUSE
from dfns_contract.plugin.ordering import turn

DEADLINE = 5.0


class Holders:
    """Threads that take a slot and hold it until released; counts how many hold one at once."""

    def __init__(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight
        self.release = threading.Event()
        self.holding = 0
        self.most = 0
        self.lock = threading.Lock()
        self.entered = threading.Semaphore(0)

    def hold(self, burst: bool = False) -> None:
        with self.in_flight.slot(burst=burst):
            with self.lock:
                self.holding += 1
                self.most = max(self.most, self.holding)
            self.entered.release()
            assert self.release.wait(DEADLINE)
            with self.lock:
                self.holding -= 1

    def start(self, count: int, burst: bool = False) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.hold, kwargs={"burst": burst}) for _ in range(count)]
        for thread in threads:
            thread.start()
        return threads

    def wait_entered(self, count: int) -> bool:
        return all(self.entered.acquire(timeout=DEADLINE) for _ in range(count))


def test_in_flight_lets_limit_requests_through_and_holds_the_rest() -> None:
    holders = Holders(InFlight(3))
    threads = holders.start(5)
    assert holders.wait_entered(3)
    assert not holders.entered.acquire(timeout=0.2)  # a fourth is held back while three are on their way
    assert holders.holding == 3
    holders.release.set()
    assert holders.wait_entered(2)
    for thread in threads:
        thread.join(DEADLINE)
    assert holders.most == 3


def test_a_burst_takes_no_slot() -> None:
    """A race's senders are sent at once even when the slots are taken."""
    holders = Holders(InFlight(1))
    threads = holders.start(1) + holders.start(4, burst=True)
    assert holders.wait_entered(5)
    holders.release.set()
    for thread in threads:
        thread.join(DEADLINE)
    assert holders.most == 5


def test_alone_waits_for_the_requests_on_their_way_and_holds_back_new_ones() -> None:
    in_flight = InFlight(4)
    holders = Holders(in_flight)
    first = holders.start(2)
    assert holders.wait_entered(2)
    inside = threading.Event()
    seen_at_entry: list[int] = []

    def alone() -> None:
        with in_flight.alone():
            seen_at_entry.append(holders.holding)
            with in_flight.slot():  # the thread in the block sends as it likes
                inside.set()

    lonely = threading.Thread(target=alone)
    lonely.start()
    assert not inside.wait(0.2)  # two requests are on their way: it waits
    later = holders.start(1)
    holders.release.set()
    assert inside.wait(DEADLINE)
    lonely.join(DEADLINE)
    for thread in first + later:
        thread.join(DEADLINE)
    assert seen_at_entry == [0]


def test_in_flight_needs_one_slot_at_least() -> None:
    with pytest.raises(ValueError):
        InFlight(0)


def test_the_longest_chain_is_the_innermost_one_and_counts_only_its_thread() -> None:
    chains = Chains()
    with chains.chain("outer"):
        chains.sent()
        with chains.chain("walk"):
            for _ in range(3):
                chains.sent()
        other = threading.Thread(target=lambda: [chains.sent() for _ in range(5)])  # not in a chain
        other.start()
        other.join(DEADLINE)
    assert chains.requests == 9
    assert (chains.longest.requests, chains.longest.label) == (3, "walk")


class Client:
    def __init__(self, lanes: int | None) -> None:
        self.in_flight = InFlight(lanes) if lanes else None


@pytest.mark.parametrize("lanes", [None, 1, 4])
def test_at_once_returns_results_in_the_items_order(lanes) -> None:
    assert at_once(Client(lanes), lambda n: n * n, [3, 1, 2]) == [9, 1, 4]


def test_at_once_runs_items_together_up_to_the_lanes() -> None:
    both = threading.Barrier(2, timeout=DEADLINE)  # breaks unless two items run at the same time
    assert at_once(Client(2), lambda n: both.wait() * 0 + n, [1, 2]) == [1, 2]


def test_at_once_raises_the_first_failure_in_the_items_order() -> None:
    def work(n: int) -> int:
        if n in (2, 3):
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match="3"):  # 3 comes before 2 among the items, whichever failed first
        at_once(Client(4), work, [1, 3, 2])


def test_an_environment_failure_comes_before_a_broken_contract() -> None:
    """A target that stopped answering means nothing was checked: the run must say error, not failed."""
    def work(n: int) -> int:
        if n == 1:
            raise AssertionError("contract")
        raise TargetDown("GET", "http://t/", {}, None, "down")

    with pytest.raises(TargetDown):
        at_once(Client(2), work, [1, 2])


def test_one_lane_stops_at_the_first_failure_as_a_loop_does() -> None:
    done: list[int] = []

    def work(n: int) -> None:
        done.append(n)
        if n == 1:
            raise ValueError(n)

    with pytest.raises(ValueError):
        at_once(Client(1), work, [0, 1, 2])
    assert done == [0, 1]


def test_raise_first_failure_with_nothing_failed_returns() -> None:
    from concurrent.futures import Future

    future: Future = Future()
    future.set_result(1)
    raise_first_failure([future])


def _item(variant: str | None = None, *, case: bool = True) -> SimpleNamespace:
    params = {"dfns_case": SimpleNamespace(variant=variant)} if case else {}
    return SimpleNamespace(callspec=SimpleNamespace(params=params))


def test_the_heavy_tests_go_first_and_the_replays_after_a_pause_last() -> None:
    items = [_item("immediately"), _item(AFTER_A_PAUSE), _item(case=False), _item(None)]
    assert [turn(item) for item in sorted(items, key=turn)] == [0, 1, 1, 2]
