"""One request and its response, and the ways a request can fail without checking the contract."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from dfns_contract.client.curl import curl_command, excerpt
from dfns_contract.client.secrets import mask
from dfns_contract.client.transport import HeadersCut


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
    """The target did not answer, or its answer did not arrive whole: no contract was checked.

    Raised instead of the ``requests`` exception so that the failure is one
    line saying what happened (``kind``: refused, reset, closed, timeout,
    truncated, …; ``what``: in words, with the seconds waited or the bytes
    received), then the request as curl, not a traceback through urllib3.
    ``cause`` is what ``requests`` raised.
    """

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, cause: Exception,
                 *, waited: float | None = None, answer: requests.Response | None = None) -> None:
        self.cause = cause
        self.method, self.url = method, url
        self.kind, self.what = describe_transport_failure(cause, waited=waited, answer=answer)
        self.curl = curl_command(method, url, headers, body)
        #: What the client did about it, a line each (``add_note_line``).
        self.notes: list[str] = []
        super().__init__("%s %s: %s\n  request:\n    %s" % (method, url, self.what, self.curl))

    def add_note_line(self, note: str) -> None:
        """Add a line after the request (what the client did about it: sent again, or why not)."""
        self.notes.append(note)
        self.args = ("%s\n  %s" % (self.args[0], note),)

    @property
    def line(self) -> str:
        """The failure in one line: the request line and what happened to it."""
        return "%s %s: %s" % (self.method, self.url, self.what)


class NotSent(EnvironmentFailure):
    """A request the client did not send, because the run already knows it would be wasted (``guard.py``).

    ``reason`` says why, in one line; the message adds the request as curl, so
    that whoever reads it can send it by hand once the target is back.
    """

    def __init__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, reason: str) -> None:
        self.reason = reason
        #: The failure in one line, and the request as curl (the reporters' record holds both).
        self.line = "%s %s: not sent: %s" % (method, url, reason)
        self.curl = curl_command(method, url, headers, body)
        super().__init__("%s\n  request (not sent):\n    %s" % (self.line, self.curl))


class TargetDown(NotSent):
    """Not sent: an earlier request of this process failed at transport level (the circuit breaker is open)."""


class DeadlinePassed(NotSent):
    """Not sent: the run's deadline (``--dfns-deadline``) has passed."""


class RunStopped(NotSent):
    """Not sent: the run is ending (Ctrl-C, ``-x``) while work started ahead was still on its way."""


def describe_transport_failure(cause: BaseException, *, waited: float | None = None,
                               answer: requests.Response | None = None) -> tuple[str, str]:
    """What happened to a request, as (kind, one line): refused, reset, timed out after S s, cut after N bytes…"""
    chain = list(_causes(cause))

    def has(*kinds: type) -> BaseException | None:
        return next((error for error in chain if isinstance(error, kinds)), None)

    seconds = "%.1f s" % waited if waited is not None else "the timeout"
    if answer is not None:  # the status line and headers came; the body did not come whole
        return _cut_body(answer, has, seconds)
    cut = has(HeadersCut)
    if cut is not None:
        return "truncated", "the connection was cut after %d bytes of the answer, inside its status line or headers" % (
            cut.received)  # type: ignore[attr-defined]
    if has(ConnectionRefusedError):
        return "refused", "connection refused (nothing listens there, or a firewall rejects it)"
    if has(urllib3.exceptions.NameResolutionError):
        return "dns", "the host name does not resolve"
    if has(requests.ConnectTimeout) or any(isinstance(error, urllib3.exceptions.ConnectTimeoutError) and not
                                           isinstance(error, urllib3.exceptions.NewConnectionError) for error in chain):
        return "timeout", "could not connect within %s (timed out; --dfns-timeout)" % seconds
    if has(requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return "timeout", "timed out after %s without an answer (--dfns-timeout)" % seconds
    if has(http.client.RemoteDisconnected):  # a ConnectionResetError too: asked first
        return "closed", "the target closed the connection without answering"
    if has(ConnectionResetError):
        return "reset", "the connection was reset by the target (or something before it) before an answer came"
    bad = has(http.client.BadStatusLine)
    if bad is not None:
        return "not-http", "the answer is not HTTP: its first line is %r" % str(bad)[:80]
    if has(requests.exceptions.SSLError, urllib3.exceptions.SSLError):
        return "tls", "TLS failed: %s" % _first_line(has(urllib3.exceptions.SSLError, requests.exceptions.SSLError))
    if has(requests.exceptions.ProxyError, urllib3.exceptions.ProxyError):
        return "proxy", "the HTTP proxy failed: %s" % _first_line(cause)
    if has(BrokenPipeError):
        return "reset", "the target closed the connection while the request was being sent"
    deepest = chain[-1] if chain else cause
    return "other", "no answer: %s: %s" % (type(deepest).__name__, _first_line(deepest))


def _cut_body(answer: requests.Response, has: Callable[..., BaseException | None], seconds: str) -> tuple[str, str]:
    """A body that did not arrive whole, after its status line and headers did."""
    got = _bytes_read(answer)
    announced = answer.headers.get("Content-Length")
    of = " (Content-Length: %s)" % announced if announced and announced.isdigit() else ""
    head = "HTTP %d arrived" % answer.status_code
    if has(requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return "timeout", "%s, then its body stopped: timed out after %s with %d bytes of it (--dfns-timeout)" % (
            head, seconds, got)
    return "truncated", "%s, then the connection was cut after %d bytes of its body%s" % (head, got, of)


def _bytes_read(answer: requests.Response) -> int:
    """Bytes of the body read from the connection before it failed (urllib3 counts them)."""
    try:
        return int(answer.raw.tell())
    except (AttributeError, TypeError, ValueError):
        return 0


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it wraps: causes, contexts, ``reason`` (urllib3), exceptions among ``args``."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [getattr(current, "reason", None), current.__cause__, current.__context__,
                 *(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))]
        pending.extend(found for found in inner if isinstance(found, BaseException))


def _first_line(error: BaseException | None) -> str:
    text = str(error) if error is not None else ""
    return (text.strip().splitlines() or [type(error).__name__])[0][:200]


class RateLimited(EnvironmentFailure):
    """The target (or a gateway before it) said to slow down: 429.

    Raised before the response is audited or checked: a rate limiter's answer
    says nothing about the error contract. The client waits it out and sends
    that request again (``client/retries.py``); this is raised only when the
    wait would not fit the run's budget or deadline, or by a race's sender,
    whose burst cannot be sent again one request at a time. ``retry_after`` is
    its advice in seconds (``Retry-After``, else ``X-RateLimit-Reset``; None
    when it gave none); ``concurrent`` is set by a race, whose burst is what a
    rate limiter is for.
    """

    def __init__(self, exchange: "Exchange", concurrent: bool = False, why: str = "") -> None:
        self.exchange = exchange
        headers = exchange.response.headers
        self.retry_after = retry_after(headers.get("Retry-After"))
        if self.retry_after is None:
            self.retry_after = rate_limit_reset(headers.get("X-RateLimit-Reset"))
        self.concurrent = concurrent
        advice = "retry after %.0f s" % self.retry_after if self.retry_after is not None else "no Retry-After"
        super().__init__("rate limited: %s %s answered HTTP %d (%s)%s" % (
            exchange.method, exchange.url, exchange.status, advice, "; " + why if why else ""))


#: Statuses a gateway, load balancer or proxy answers for a target it could not reach or that failed it.
GATEWAY_STATUSES = frozenset({502, 503, 504})
#: Bytes of a gateway's answer shown: enough to recognise the gateway's page, short enough for one line.
HEAD_BYTES = 200


class EnvironmentAnswer(EnvironmentFailure):
    """A gateway's answer (502, 503, 504, of any shape) on any request: the environment's, never the contract's.

    Raised before any observer or check, so that an HTML 502 on a control is
    not read as that control's broken contract, nor audited against the
    documented 500. The fields are plain attributes for the reporters:
    ``status``, ``content_type``, ``head`` (the first ``HEAD_BYTES`` bytes of
    the body, decoded, with the run's secrets masked), ``method``, ``url`` and
    ``exchange``.
    """

    def __init__(self, exchange: "Exchange") -> None:
        self.exchange = exchange
        self.method, self.url = exchange.method, exchange.url
        self.status = exchange.status
        self.content_type = exchange.content_type
        self.head = mask(exchange.response.content[:HEAD_BYTES].decode("utf-8", "replace"))
        self.length = len(exchange.response.content)
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.head if self.head.strip() else "(empty)"
        more = " … (%d bytes in all)" % self.length if self.length > HEAD_BYTES else ""
        return ("%s %s: HTTP %d %s from the environment (a gateway or proxy before the API, or the API's own "
                "outage), not the contract's answer: Content-Type %s, body %r%s" % (
                    self.method, self.url, self.status, _reason(self.status), self.content_type or "(none)",
                    shown, more))


def _reason(status: int) -> str:
    return http.client.responses.get(status, "")


class NotProvided(EnvironmentFailure):
    """The target answered a status its version documents for what the environment does not provide (402:
    the feature is not in the caller's plan): the case could not be checked there, and nothing is broken."""

    def __init__(self, exchange: "Exchange", meaning: str) -> None:
        self.exchange = exchange
        super().__init__("%s %s answered HTTP %d (%s): the case cannot be checked on this environment, which is "
                         "not a broken contract" % (exchange.method, exchange.url, exchange.status, meaning))


class PolicyPending(EnvironmentFailure):
    """A state-changing request answered 202: a policy of the organisation holds it for approval (the API Errors
    page: "Not an error"). Nothing happened yet, so the case cannot be checked; what waits is named so that a
    person can approve or reject it (``what``, listed by the cleanup)."""

    def __init__(self, exchange: "Exchange", meaning: str) -> None:
        self.exchange = exchange
        body = _json_object(exchange)
        pending = body.get("pendingChangeRequest") if isinstance(body.get("pendingChangeRequest"), dict) else body
        approval = pending.get("approvalId") or body.get("approvalId")
        request = pending.get("id") or body.get("id")
        waits = ", ".join("%s %s" % (label, value) for label, value in (
            ("approval", approval), ("change request", request)) if isinstance(value, str) and value)
        #: The held operation and what it waits on, as the cleanup lists it.
        self.what = "%s %s held for approval by a policy (%s)" % (
            exchange.method, urlsplit(exchange.url).path, waits or "the 202 named no approval")
        super().__init__("%s: HTTP 202, %s; the case cannot be checked until it is approved or rejected, "
                         "which is not a broken contract" % (self.what, meaning))


def _json_object(exchange: "Exchange") -> dict[str, Any]:
    """The body as a JSON object; empty when it is none (a 202 need not have one)."""
    try:
        body = exchange.json
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class ServerFailure(EnvironmentFailure):
    """A request that must succeed (a control) got a 5xx in the documented shape: the environment failed, not the contract."""

    def __init__(self, exchange: "Exchange", what: str) -> None:
        self.exchange = exchange
        super().__init__("%s got HTTP %d: the environment failed, the contract was not checked\n%s" % (
            what, exchange.status, exchange.describe()))


def is_rate_limit(status: int, headers: Mapping[str, str] | None = None) -> bool:
    """A rate limiter's answer: 429 (a 503 is a gateway's answer, ``EnvironmentAnswer``, whatever it carries)."""
    return status == 429


def is_gateway_answer(status: int) -> bool:
    """502, 503 or 504: what stands before the API answered for it."""
    return status in GATEWAY_STATUSES


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


def rate_limit_reset(value: str | None, *, now: Callable[[], float] | None = None) -> float | None:
    """``X-RateLimit-Reset`` (Unix seconds, as Dfns documents it) as seconds from now; None when absent or unreadable."""
    if not value or not value.strip().isdigit():
        return None
    return max(0.0, float(value.strip()) - (now or time.time)())


class FlowError(RuntimeError):
    """A preparatory step (sign a user action, log in, register) did not succeed.

    This is not the assertion under test, so it is reported as the step that
    broke, with its exchange, rather than as a contract violation.
    """

    def __init__(self, step: str, exchange: "Exchange", detail: str = "") -> None:
        self.step, self.exchange, self.detail = step, exchange, detail
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
        return "  request:\n    %s\n%s" % (self.curl(), self.described_response())

    def described_response(self) -> str:
        """The response's status, headers and body excerpt, as ``describe`` shows them after the request."""
        headers = "\n".join("    %s: %s" % item for item in self.response.headers.items())
        return "  response: HTTP %s\n%s\n  body: %s" % (self.status, headers, excerpt(self.text))
