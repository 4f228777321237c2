"""The one place that decides what the suite talks to: a live URL or the embedded server."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dfns_contract.contract.profile import Profile

#: Production API hosts: state-changing cases are skipped there unless --dfns-allow-destructive.
DEFAULT_SENSITIVE_URL = r"^https?://([a-z0-9-]+\.)*dfns\.(io|co)(:\d+)?(/|$)"


class TargetError(Exception):
    """The target cannot be used: a bad URL or nothing answering there."""


@dataclass
class Target:
    base_url: str
    profile: Profile
    embedded: Any = None  # the RunningServer when this process started it
    shared: bool = False  # the reference server the xdist controller started for all workers

    @property
    def description(self) -> str:
        kind = "live"
        if self.embedded is not None or self.shared:
            kind = "embedded reference server" + (", shared by the xdist workers" if self.shared else "")
        return "%s (%s)" % (self.base_url, kind)


def check_base_url(url: str) -> str:
    """Normalise a --base-url, or say in one sentence why it cannot be one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError("--base-url %r is not an http(s) URL with a host (e.g. http://127.0.0.1:8000)" % url)
    try:
        parts.port  # noqa: B018 - reading it raises ValueError for an invalid port
    except ValueError:
        raise TargetError("--base-url %r has an invalid port" % url) from None
    if parts.query or parts.fragment:
        raise TargetError("--base-url %r must not carry a query or fragment" % url)
    return url.rstrip("/")


def check_reachable(url: str, timeout: float, retries: int = 0) -> None:
    """One request at start, so an unreachable target is one clear error, not one per test.

    ``retries``: failed connections retried as the suite's requests are (``--dfns-retry-transport``).
    """
    import requests

    from dfns_contract.client.transport import mount_adapter

    try:
        with requests.Session() as session:
            mount_adapter(session, url, retries)
            session.get(url + "/", timeout=timeout, allow_redirects=False)
    except requests.exceptions.ConnectionError as exc:
        raise TargetError("cannot reach %s: %s" % (url, _reason(exc))) from None
    except requests.exceptions.Timeout:
        raise TargetError("cannot reach %s: no answer within %.1f s (--dfns-timeout)" % (url, timeout)) from None
    except requests.exceptions.RequestException as exc:
        raise TargetError("cannot talk to %s: %s" % (url, exc.__class__.__name__)) from None


def check_sensitive_url(pattern: str) -> str:
    """A ``--dfns-sensitive-url`` that compiles, or one sentence saying why not."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise TargetError("--dfns-sensitive-url %r is not a regular expression: %s" % (pattern, exc)) from None
    return pattern


def is_sensitive(url: str, pattern: str) -> bool:
    return bool(re.search(pattern, url, re.IGNORECASE))


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if known.lower() in text.lower():
            return known.lower()
    return exc.__class__.__name__
