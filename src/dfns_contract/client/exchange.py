"""One request and its response, and the ways a request can fail without checking the contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from dfns_contract.client.curl import curl_command, excerpt


class NotJSON(ValueError):
    """The response body is not JSON; the message shows what came back."""


class TransportError(RuntimeError):
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
