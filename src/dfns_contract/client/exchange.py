"""One request and its response, and the ways a request can fail without checking the contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from dfns_contract.client.curl import curl_command, excerpt


class NotJSON(ValueError):
    """The response body is not JSON; the message shows what came back."""


class EnvironmentFailure(BaseException):
    """The environment, not the contract, stopped a request: reported as an *error*, never as a broken contract.

    A ``BaseException``, not an ``Exception``, on purpose: Hypothesis replays and
    shrinks a failing example (an ``Exception``), and a transport failure or a
    rate limit would then cost one timeout or one 429 per replay, and the replay
    of a half-spent nonce would look like a contract failure. An
    ``EnvironmentFailure`` stops the property at once, as it stops a case.
    """


class TransportError(EnvironmentFailure):
    """The target did not answer (refused, reset, timed out): no contract was checked.

    Raised instead of the ``requests`` exception so that the failure is one
    paragraph naming the request as curl, not a traceback through urllib3.
    """

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, cause: Exception) -> None:
        self.cause = cause
        what = ("no answer within the timeout (--dfns-timeout)" if isinstance(cause, requests.Timeout)
                else "no answer: %s" % type(cause).__name__)
        super().__init__("%s %s: %s: %s\n  request:\n    %s" % (
            method, url, what, cause, curl_command(method, url, headers, body)))


class RateLimited(EnvironmentFailure):
    """The target (or a gateway before it) said to slow down: 429, or 503 with ``Retry-After``.

    Raised before the response is audited or checked: a rate limiter's answer
    says nothing about the error contract. ``retry_after`` is its advice in
    seconds (None when it gave none); ``concurrent`` is set by a race, whose
    burst is what a rate limiter is for.
    """

    def __init__(self, exchange: "Exchange", concurrent: bool = False) -> None:
        self.exchange = exchange
        self.retry_after = retry_after(exchange.response.headers.get("Retry-After"))
        self.concurrent = concurrent
        advice = "retry after %.0f s" % self.retry_after if self.retry_after is not None else "no Retry-After"
        super().__init__("rate limited: %s %s answered HTTP %d (%s)" % (
            exchange.method, exchange.url, exchange.status, advice))


class ServerFailure(EnvironmentFailure):
    """A request that must succeed (a control) got a 5xx in the documented shape: the environment failed, not the contract."""

    def __init__(self, exchange: "Exchange", what: str) -> None:
        self.exchange = exchange
        super().__init__("%s got HTTP %d: the environment failed, the contract was not checked\n%s" % (
            what, exchange.status, exchange.describe()))


def is_rate_limit(status: int, headers: Mapping[str, str]) -> bool:
    return status == 429 or (status == 503 and "Retry-After" in headers)


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


class FlowError(RuntimeError):
    """A preparatory step (sign a user action, log in, register) did not succeed.

    This is not the assertion under test, so it is reported as the step that
    broke, with its exchange, rather than as a contract violation.
    """

    def __init__(self, step: str, exchange: "Exchange", detail: str = "") -> None:
        self.step, self.exchange = step, exchange
        text = "%s failed: HTTP %s%s\n%s" % (
            step,
            exchange.status,
            " (%s)" % detail if detail else "",
            exchange.describe(),
        )
        super().__init__(text)


@dataclass
class Exchange:
    """One request and the response it got, kept for failure messages."""

    method: str
    url: str
    # Not in the repr: a traceback prints it, truncated past what masking by value can recognise.
    request_headers: dict[str, str] = field(repr=False)
    request_body: bytes | None = field(repr=False)
    response: requests.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    @property
    def content_type(self) -> str:
        return self.response.headers.get("Content-Type", "")

    @property
    def json(self) -> Any:
        try:
            return self.response.json()
        except ValueError as exc:
            raise NotJSON(
                "response is not JSON (HTTP %s, Content-Type %r): %s"
                % (self.status, self.content_type, excerpt(self.text))
            ) from exc

    def curl(self) -> str:
        """The request as a command a person can paste."""
        return curl_command(self.method, self.url, self.request_headers, self.request_body)

    def describe(self) -> str:
        """Request as curl and the response received, for a person reading a failure."""
        headers = "\n".join("    %s: %s" % item for item in self.response.headers.items())
        return "  request:\n    %s\n  response: HTTP %s\n%s\n  body: %s" % (
            self.curl(), self.status, headers, excerpt(self.text))
