"""The one place that decides what the suite talks to: a live URL or the embedded server."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dfns_contract.client.secrets import SECRETS
from dfns_contract.contract.profile import Profile, env_name, load_profile, profile_keys

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


def redact(url: str) -> str:
    """The URL with its user info masked: what a header, an error or a report may show."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, "<masked:userinfo>@" + host, parts.path, parts.query, parts.fragment))


def check_base_url(url: str) -> str:
    """Normalise a --base-url, or say in one sentence why it cannot be one (never echoing its user info)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        SECRETS.add(userinfo, "userinfo")
        SECRETS.add(parts.password, "password")
    shown = redact(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError("--base-url %r is not an http(s) URL with a host (e.g. http://127.0.0.1:8000)" % shown)
    try:
        parts.port  # noqa: B018 - reading it raises ValueError for an invalid port
    except ValueError:
        raise TargetError("--base-url %r has an invalid port" % shown) from None
    if parts.query or parts.fragment:
        raise TargetError("--base-url %r must not carry a query or fragment" % shown)
    return url.rstrip("/")


def resolve_target(base_url: str | None, profile_path: str | None, environ: Mapping[str, str]) -> tuple[str | None, Profile | None]:
    """The live target and its profile, or ``(None, None)`` for the embedded reference server.

    Fails closed: the embedded server is used only when nothing names a target
    (no base URL, no profile, no ``DFNS_*`` profile variable). A blank URL
    (``--base-url "$UNSET"``), or a profile or variables without one, is a
    ``TargetError`` saying where a URL was expected, never a green run against
    the wrong server. ``DFNS_*`` variables work without a profile file.
    """
    variables = sorted(name for name in (env_name(key) for key in profile_keys()) if name in environ)
    named_by = (["--base-url"] if base_url is not None else []) + (["--dfns-profile"] if profile_path else []) + variables
    if not named_by:
        return None, None
    if base_url is not None and not base_url.strip():
        raise TargetError("the base URL is empty (--base-url, PYTEST_BASE_URL or the base_url ini key): a target URL "
                          "was expected there, is the variable it comes from unset? Without any target named, the "
                          "suite runs against its embedded reference server")
    profile = load_profile(profile_path, environ)
    url = (base_url or "").strip() or profile.get("baseUrl")
    if not url:
        raise TargetError("%s name%s a target but no URL: pass --base-url URL, or set baseUrl in the profile or "
                          "DFNS_BASE_URL" % (", ".join(named_by), "s" if len(named_by) == 1 else ""))
    return check_base_url(url), profile


def check_reachable(url: str, timeout: float, retries: int = 0) -> None:
    """One request at start, so an unreachable target is one clear error, not one per test.

    ``retries``: failed connections retried as the suite's requests are (``--dfns-retry-transport``).
    """
    import requests

    from dfns_contract.client.transport import mount_adapter

    shown = redact(url)
    try:
        with requests.Session() as session:
            mount_adapter(session, url, retries)
            session.get(url + "/", timeout=timeout, allow_redirects=False)
    except requests.exceptions.ConnectionError as exc:
        raise TargetError("cannot reach %s: %s" % (shown, _reason(exc))) from None
    except requests.exceptions.Timeout:
        raise TargetError("cannot reach %s: no answer within %.1f s (--dfns-timeout)" % (shown, timeout)) from None
    except requests.exceptions.RequestException as exc:
        raise TargetError("cannot talk to %s: %s" % (shown, exc.__class__.__name__)) from None


def check_sensitive_url(pattern: str) -> str:
    """A ``--dfns-sensitive-url`` that compiles, or one sentence saying why not."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise TargetError("--dfns-sensitive-url %r is not a regular expression: %s" % (pattern, exc)) from None
    return pattern


def normalised(url: str) -> str:
    """The URL as the host it reaches: no user info, host lower-cased and IDNA-encoded, no trailing dot, no default port.

    ``https://x@API.dfns.io.:443/`` and ``https://api.dfns.io/`` reach the same
    host, so a sensitivity pattern must judge them alike.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    if ":" in host:  # IPv6
        host = "[%s]" % host
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host + (":%d" % port if port is not None and port != default else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def is_sensitive(url: str, pattern: str) -> bool:
    """Whether ``url`` (judged on the host it reaches, see ``normalised``) matches the sensitivity pattern."""
    return bool(re.search(pattern, normalised(url), re.IGNORECASE))


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if known.lower() in text.lower():
            return known.lower()
    return exc.__class__.__name__
