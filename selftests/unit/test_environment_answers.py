"""The environment's answers (``client/retries.py``, ``EnvironmentAnswer``): one request at a time.

Each test sends through the loopback fault proxy in front of the reference
server and counts what reached the proxy and what it carried (``received``),
so "sent again with a fresh nonce" is seen on the wire. Nothing waits: the
429 waits go to a pause the test records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest

from dfns_contract.client import DfnsClient, EnvironmentAnswer, KeySigner, RateLimited, TargetGuard, TransportError
from dfns_contract.client.retries import MIN_CHARGE, Retries, reset_counts, retry_counts
from dfns_contract.client.secrets import SECRETS
from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.proxy import FORWARD, HTML_502, RESET, Action, Answer, Cut, FaultProxy, RateLimit, Request

TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


class Paused:
    """The pause a ``Retries`` is given: records what it was asked to wait, waits nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def paused() -> Paused:
    return Paused()


@pytest.fixture
def principal(server: RunningServer, paused: Paused) -> Callable[..., DfnsClient]:
    """The reference server's main principal through ``url``, with a guard whose 429 budget pauses nothing."""
    def make(url: str, *, budget: float = 60.0, deadline: float | None = None,
             observers: list | None = None) -> DfnsClient:
        profile = server.profile
        guard = TargetGuard(deadline, retries=Retries(budget, pause=paused, jitter=lambda: 0.0))
        return DfnsClient(url, profile["appId"], auth_token=profile["authToken"], timeout=TIMEOUT, guard=guard,
                          signer=KeySigner(profile["credId"], profile["privateKey"]),
                          app_origin=profile.get("appOrigin"), observers=observers or [])

    reset_counts()
    return make


def on(numbers: set[int], action: Action) -> Callable[[Request], Action]:
    return lambda request: action if request.number in numbers else FORWARD


def nonces(proxy: FaultProxy) -> list[str]:
    return [next(v for k, v in headers.items() if k.lower() == "x-dfns-nonce") for _, _, _, headers in proxy.received]


# -- a reset: sent again once, fresh ------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [RESET, Cut(0)], ids=["reset", "closed-after-forwarding"])
def test_one_reset_is_sent_again_once_with_a_fresh_nonce_and_the_breaker_stays_closed(server, principal, fault):
    with FaultProxy(server.url, on({1}, fault)) as proxy:
        client = principal(proxy.url)
        assert client.request("GET", "/auth/apps").status == 200
        assert client.request("GET", "/auth/apps").status == 200  # the run goes on
    assert proxy.requests == 3 and len(set(nonces(proxy))) == 3
    assert not client.guard.tripped and retry_counts()["resets"] == 1


def test_the_control_without_a_reset_sends_each_request_once(server, principal):
    with FaultProxy(server.url) as proxy:
        client = principal(proxy.url)
        assert client.request("GET", "/auth/apps").status == 200
    assert proxy.requests == 1 and retry_counts()["resets"] == 0


def test_a_signed_request_sent_again_gets_a_new_user_action(server, principal):
    """The user action is signed again (init, complete) for the second sending: a fresh one-time value."""
    path = "/auth/apps/%s/activate" % server.profile["otherAppId"]  # already active: activating it changes nothing
    with FaultProxy(server.url, lambda request: RESET if request.method == "PUT" and request.number < 4
                    else FORWARD) as proxy:
        assert principal(proxy.url).request("PUT", path, sign=True).status == 200
    puts = [headers for _, method, _, headers in proxy.received if method == "PUT"]
    actions = [next(v for k, v in headers.items() if k.lower() == "x-dfns-useraction") for headers in puts]
    assert len(actions) == 2 and actions[0] != actions[1]
    assert [path for _, _, path, _ in proxy.received].count("/auth/action/init") == 2


def test_a_request_whose_nonce_the_case_chose_is_not_sent_again_and_the_breaker_stays_closed(server, principal):
    """A reuse case's requests carry the case's nonce: sent again, the first could be taken as the reuse (a false
    failure), and a fresh one would not be the reuse the case checks. The request is an error of its own."""
    with FaultProxy(server.url, on({1}, RESET)) as proxy:
        client = principal(proxy.url)
        with pytest.raises(TransportError, match=r"not sent again: the case chose its one-time value \(X-DFNS-NONCE\)"):
            client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": "the-case-s-own-nonce"})
        assert not client.guard.tripped and client.request("GET", "/auth/apps").status == 200
    assert proxy.requests == 2 and retry_counts()["resets"] == 0


def test_a_replay_whose_reuse_was_reset_is_not_turned_into_a_pass(server, principal):
    """The reuse itself is reset: it is not sent again (neither with the same nonce nor a fresh one), so the
    case cannot see an answer it did not get: an error, not a verified replay."""
    from dfns_contract.wire.nonce import make_nonce

    nonce = make_nonce()
    with FaultProxy(server.url, on({2}, RESET)) as proxy:
        client = principal(proxy.url)
        assert client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}).status == 200
        with pytest.raises(TransportError, match="not sent again"):
            client.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})
    assert proxy.requests == 2 and proxy.forwarded == 1


def test_a_reset_again_opens_the_breaker(server, principal):
    with FaultProxy(server.url, lambda request: RESET) as proxy:
        client = principal(proxy.url)
        with pytest.raises(TransportError, match="sent again once, on a new connection"):
            client.request("GET", "/auth/apps")
        assert client.guard.tripped
    assert proxy.requests == 2


# -- a 429: waited out, that request sent again -----------------------------------------------------------------


def test_a_429_is_waited_out_as_retry_after_says_and_the_request_sent_again_fresh(server, principal, paused):
    with FaultProxy(server.url, on({1, 2}, RateLimit("3"))) as proxy:
        assert principal(proxy.url).request("GET", "/auth/apps").status == 200
    assert paused.waits == [3.0, 3.0] and proxy.limited == 2 and proxy.forwarded == 1
    assert len(set(nonces(proxy))) == 3
    counts = retry_counts()
    assert counts["rate_limited"] == counts["rate_limit_retries"] == 2 and counts["waited"] == 6.0


def test_retry_after_as_an_http_date_and_x_ratelimit_reset_are_read(server, principal, paused):
    import time

    date = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    reset = str(int(time.time()) + 40)
    answers = {1: Answer(429, (("Retry-After", date),)), 2: Answer(429, (("X-RateLimit-Reset", reset),))}
    with FaultProxy(server.url, lambda request: answers.get(request.number, FORWARD)) as proxy:
        assert principal(proxy.url, budget=1000).request("GET", "/auth/apps").status == 200
    first, second = paused.waits
    assert 15 <= first <= 20 and 35 <= second <= 40, paused.waits


def test_without_advice_the_wait_backs_off_exponentially(server, principal, paused):
    with FaultProxy(server.url, on({1, 2, 3}, RateLimit(None))) as proxy:
        assert principal(proxy.url).request("GET", "/auth/apps").status == 200
    assert paused.waits == [0.5, 1.0, 2.0] and proxy.forwarded == 1  # 1 s doubling, jitter (here 0) halves it


def test_past_the_budget_a_429_is_one_error_and_nothing_more_is_sent_for_it(server, principal, paused):
    with FaultProxy(server.url, lambda request: RateLimit("0")) as proxy:
        client = principal(proxy.url, budget=3)
        with pytest.raises(RateLimited, match=r"rate limited: GET \S+ answered HTTP 429 .*--dfns-rate-limit-budget"):
            client.request("GET", "/auth/apps")
    assert proxy.limited == 1 + 3 / MIN_CHARGE and not client.guard.tripped  # each wait charged a second


def test_a_wait_past_the_run_s_deadline_is_not_waited(server, principal, paused):
    with FaultProxy(server.url, on({1}, RateLimit("30"))) as proxy:
        with pytest.raises(RateLimited):
            principal(proxy.url, deadline=10).request("GET", "/auth/apps")
    assert paused.waits == [] and proxy.requests == 1


def test_a_race_s_sender_is_sent_again_with_the_race_s_one_time_value(server, principal, paused):
    """The 429 kept that sender's request from the server: sent again after the burst, it is one more (late) use
    of the race's value, which a server that consumes it once rejects; the rest of the burst raced as it was."""
    with FaultProxy(server.url, on({1}, RateLimit("0"))) as proxy:
        sender = principal(proxy.url).on_new_connection()
        sender.bursting = True
        assert sender.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": "the-race-s-nonce"}).status != 429
    assert proxy.requests == 2 and set(nonces(proxy)) == {"the-race-s-nonce"}


# -- a gateway's answer: the environment's ------------------------------------------------------------------------


GATEWAYS = {
    "502-html": HTML_502,
    "503-json": Answer(503, (("Content-Type", "application/json"), ("Retry-After", "5")),
                       b'{"error": {"message": "Service Unavailable"}}'),
    "504-empty": Answer(504),
}


@pytest.mark.parametrize("name", GATEWAYS, ids=list(GATEWAYS))
def test_a_gateway_answer_is_an_environment_answer_no_observer_sees(server, principal, name):
    seen: list = []
    answer = GATEWAYS[name]
    with FaultProxy(server.url, on({1}, answer)) as proxy:
        client = principal(proxy.url, observers=[seen.append])
        with pytest.raises(EnvironmentAnswer) as raised:
            client.request("GET", "/auth/apps")
        assert client.request("GET", "/auth/apps").status == 200  # the control: the next request is the API's
    error = raised.value
    assert (error.status, error.content_type, error.method) == (answer.status, dict(answer.headers).get(
        "Content-Type", ""), "GET")
    assert error.head == answer.body.decode()[:200] and error.exchange.status == answer.status
    assert str(error).startswith("GET %s/auth/apps: HTTP %d " % (proxy.url, answer.status))
    assert "from the environment" in str(error) and len(seen) == 1 and seen[0].status == 200
    assert proxy.requests == 2 and not client.guard.tripped


def test_a_gateway_answer_shows_its_first_bytes_masked(server, principal):
    secret = "gateway-echoed-secret-0123456789"
    SECRETS.add(secret, "authToken")
    page = b"<html>" + secret.encode() + b"x" * 400 + b"</html>"
    with FaultProxy(server.url, on({1}, Answer(502, (("Content-Type", "text/html"),), page))) as proxy:
        with pytest.raises(EnvironmentAnswer) as raised:
            principal(proxy.url).request("GET", "/auth/apps")
    text = str(raised.value)
    assert secret not in text and "<masked:authToken>" in raised.value.head
    assert "Content-Type text/html" in text and "(%d bytes in all)" % len(page) in text


def test_a_500_is_not_a_gateway_answer(server, principal):
    """A 500 reaches the observers (the audit, and the case that expected a 4xx): the contract's to judge."""
    seen: list = []
    body = b'{"error": {"message": "Internal Server Error"}}'
    with FaultProxy(server.url, on({1}, Answer(500, (("Content-Type", "application/json"),), body))) as proxy:
        exchange = principal(proxy.url, observers=[seen.append]).request("GET", "/auth/apps")
    assert exchange.status == 500 and seen == [exchange] and proxy.requests == 1
