"""A loopback API gateway in front of a target: forwards every request, and answers 429 when its policy says so.

What a real environment puts before its API: the selftests use it to prove
that a rate limiter's answers are never reported as a broken contract. A thin
use of the fault proxy (``proxy.py``), which can do more to a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from selftests.helpers.proxy import FORWARD, Action, FaultProxy, RateLimit, Request


def rate_limit_when(limit: Callable[[int], bool], retry_after: str | None = "0") -> Callable[[Request], Action]:
    """The proxy policy of a gateway: 429 for the request numbers ``limit`` picks, forward the rest."""
    return lambda request: RateLimit(retry_after) if limit(request.number) else FORWARD


class Gateway(FaultProxy):
    """``limit(n)`` is called with the number of each request (1, 2, …): True answers 429 instead of forwarding."""

    def __init__(self, upstream: str, limit: Callable[[int], bool], retry_after: str | None = "0") -> None:
        super().__init__(upstream, rate_limit_when(limit, retry_after))


@contextmanager
def gateway(upstream: str, limit: Callable[[int], bool], retry_after: str | None = "0") -> Iterator[Gateway]:
    with Gateway(upstream, limit, retry_after) as running:
        yield running
