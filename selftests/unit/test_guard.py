"""The run's guard (``client/guard.py``): after a transport failure nothing more is sent; past the deadline neither.

Each test sends through the loopback fault proxy (``helpers/proxy.py``) and
counts what reached it, so "not sent" means not sent. Nothing sleeps: the
deadline runs on a clock the test moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from dfns_contract.client import DeadlinePassed, DfnsClient, EnvironmentFailure, TargetDown, TargetGuard, TransportError
from dfns_contract.client.guard import run_deadline
from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.proxy import FORWARD, HANG, RESET, FaultProxy, after_request

TIMEOUT = 0.5


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guarded(server: RunningServer) -> Callable[[str, TargetGuard | None], DfnsClient]:
    """The reference server's main principal, through ``url`` (the proxy), with ``guard``."""
    def make(url: str, guard: TargetGuard | None) -> DfnsClient:
        return DfnsClient(url, server.profile["appId"], auth_token=server.profile["authToken"], timeout=TIMEOUT,
                          guard=guard)

    return make


def test_after_a_transport_failure_nothing_more_is_sent(server, guarded):
    with FaultProxy(server.url, after_request(1, HANG)) as proxy:
        client = guarded(proxy.url, TargetGuard())
        client.request("GET", "/auth/apps")
        with pytest.raises(TransportError, match="timed out after"):
            client.request("GET", "/auth/apps")
        for send in (client, client.with_identity(None), client.on_new_connection()):  # one guard per process
            with pytest.raises(TargetDown) as refused:
                send.request("GET", "/auth/apps")
        assert proxy.requests == 2 and proxy.counts["hung"] == 1
    first = str(refused.value).splitlines()[0]
    assert re.fullmatch(r"GET \S+/auth/apps: not sent: the target already failed earlier in this run "
                        r"\(GET \S+/auth/apps: timed out after 0\.\d s without an answer \(--dfns-timeout\)\); "
                        r"after a transport failure no "
                        r"request is sent, so that a dead target costs one timeout, not one per case", first), first
    assert str(refused.value).splitlines()[1] == "  request (not sent):"


def test_a_healthy_target_is_never_refused(server, guarded):
    """The control: answers of any status, errors included, leave the breaker closed."""
    guard = TargetGuard(deadline=60)
    with FaultProxy(server.url) as proxy:
        client = guarded(proxy.url, guard)
        statuses = [client.request("GET", "/auth/apps", headers=headers).status
                    for headers in ({}, {"X-DFNS-NONCE": None}, {"Authorization": None})]
    assert statuses == [200, 400, 401] and proxy.forwarded == 3
    assert not guard.tripped and guard.refused == {"target down": 0, "deadline": 0}


def test_past_the_deadline_nothing_is_sent(server, guarded):
    clock = Clock()
    guard = TargetGuard(deadline=30, clock=clock)
    with FaultProxy(server.url) as proxy:
        client = guarded(proxy.url, guard)
        clock.now += 29.9
        assert client.request("GET", "/auth/apps").status == 200
        clock.now += 0.1
        with pytest.raises(DeadlinePassed, match=r"not sent: the run's deadline passed \(30 s after its first case, "
                                                 r"--dfns-deadline\)"):
            client.request("GET", "/auth/apps")
        assert proxy.requests == 1 and guard.refused["deadline"] == 1


def test_the_cleanup_still_sends_after_the_breaker_tripped_and_the_deadline_passed(server, guarded):
    clock = Clock()
    run = TargetGuard(deadline=10, clock=clock)
    # The request and its one sending again are reset: the target is taken as unreachable.
    with FaultProxy(server.url, lambda request: RESET if request.number <= 2 else FORWARD) as proxy:
        client = guarded(proxy.url, run)
        with pytest.raises(TransportError, match="reset"):
            client.request("GET", "/auth/apps")
        clock.now += 60
        cleanup = client.for_cleanup()
        assert cleanup.guard is not run and cleanup.request("GET", "/auth/apps").status == 200
        with pytest.raises(TargetDown):
            client.request("GET", "/auth/apps")  # the run's own requests stay stopped
        assert proxy.forwarded == 1


def test_the_cleanup_stops_after_its_own_first_transport_failure(server, guarded):
    """A dead target costs the cleanup one timeout, not one per request."""
    with FaultProxy(server.url, lambda request: HANG) as proxy:
        cleanup = guarded(proxy.url, TargetGuard()).for_cleanup()
        with pytest.raises(TransportError):
            cleanup.request("GET", "/auth/apps/ap-1")
        with pytest.raises(TargetDown, match="already failed earlier in the cleanup"):
            cleanup.request("PUT", "/auth/apps/ap-1/activate")
        assert proxy.counts["hung"] == 1


def test_not_sent_is_an_environment_failure_not_a_contract_failure():
    assert issubclass(TargetDown, EnvironmentFailure) and issubclass(DeadlinePassed, EnvironmentFailure)
    assert not issubclass(TargetDown, Exception)  # stops a Hypothesis property at once, as a transport failure does


def test_an_unguarded_client_is_never_refused(server, guarded):
    with FaultProxy(server.url, lambda request: RESET) as proxy:
        client = guarded(proxy.url, None)  # the preflight's client has none
        for _ in range(2):
            with pytest.raises(TransportError):
                client.request("GET", "/auth/apps")
        assert proxy.counts["reset"] == 2 * 2  # each request sent again once


# -- the default deadline ----------------------------------------------------------------------------------------

#: Requests a whole run of the shipped suite sends (measured through the proxy, dev and ci budgets).
SUITE_CASES, SUITE_HEAVY, SUITE_REQUESTS = 49, 8, {30: 560, 60: 725}


def test_the_default_deadline_is_the_documented_formula():
    assert run_deadline(10, 49, 8, 30) == 60 + 10 * (49 + 8 * 30 / 4) == 1150
    assert run_deadline(1, 1, 0, 1000) == 61


@pytest.mark.parametrize("examples", sorted(SUITE_REQUESTS))
@pytest.mark.parametrize("timeout", [1.0, 10.0])
def test_a_target_answering_in_100_ms_is_not_cut_short(timeout, examples):
    """A serial run of the whole suite at 100 ms a request takes well under its deadline."""
    serial_run = SUITE_REQUESTS[examples] * 0.1
    assert run_deadline(timeout, SUITE_CASES, SUITE_HEAVY, examples) >= 2 * serial_run


def test_an_error_hypothesis_raises_because_the_target_died_is_the_environments():
    """Hypothesis replays a failing example; if the target died meanwhile the replay stops sooner, and it raises
    FlakyStrategyDefinition while handling the transport failure: still the environment's failure."""
    from hypothesis.errors import FlakyStrategyDefinition

    from dfns_contract.plugin.suite import environment_failure

    transport = TransportError("GET", "http://127.0.0.1:9/auth/apps", {}, None, ConnectionRefusedError("refused"))
    try:
        try:
            raise transport
        except TransportError:
            raise FlakyStrategyDefinition("Inconsistent data generation!")  # noqa: B904 - as Hypothesis raises it
    except FlakyStrategyDefinition as flaky:
        assert environment_failure(flaky) is transport
    try:
        try:
            raise ValueError("a contract check")
        except ValueError:
            raise FlakyStrategyDefinition("Inconsistent data generation!")  # noqa: B904 - as Hypothesis raises it
    except FlakyStrategyDefinition as flaky:
        assert environment_failure(flaky) is None  # the control: not every Hypothesis error is the environment's
