"""``--dfns-contract auto``: which published version a target implements, from a few read-only requests.

An environment claims a contract; a team that inherits one often does not know
which. Three requests that change nothing tell the versions apart, each by
what the versions document differently:

1. ``GET /auth/apps`` without a token (with a fresh nonce and the app id, as a
   2024 client sends them): every version answers 401. Its body is the 2026
   reference's (``error.id`` and ``error.status``) or the pages' (``error.message``
   only), and its message is ``Not Authorized.`` (2024) or ``user token is
   missing or invalid`` (2025-02-07).
2. ``GET /auth/apps`` with the token and without ``X-DFNS-NONCE``: the 2024 and
   2025 pages refuse it (400), the 2026 reference has no nonce and serves it.
3. Only to tell the two edits of 2024-08-19 apart: ``POST /auth/login/init`` for
   a username no org has (a login challenge is not created for it): the later
   edit documents 401 ``User not found``; the first documents nothing for it.

A target whose answers fit no version is a set-up error naming what it
answered: certifying it against a guess would say nothing true.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient, Exchange
    from dfns_contract.contract.profile import Profile

#: What ``--dfns-contract`` takes to detect the version instead of naming it.
AUTO = "auto"
APPS = "/auth/apps"
LOGIN_INIT = "/auth/login/init"
#: The 401 messages of the pages, by the versions that document them.
FIRST_401, LATEST_401 = "Not Authorized.", "user token is missing or invalid"
USER_NOT_FOUND = "User not found"
#: The versions of the errors page (one body form, with a nonce), and the 2026 reference (another form, no nonce).
PAGE_VERSIONS = ("2024-08-19", "2024-08-19-extended", "2025-02-07")
REFERENCE = "2026"


class DetectionError(ValueError):
    """The target's answers fit no published version (or the profile lacks what the requests need)."""


@dataclass(frozen=True)
class Detected:
    """The version chosen, and why, in one line for the header and the report."""

    version: str
    why: str


def detect_contract(base_url: str, profile: Profile, *, timeout: float, retries: int = 0) -> Detected:
    """Ask the target three read-only questions; the version its answers fit, or ``DetectionError``."""
    missing = [key for key in ("authToken",) if not profile.get(key)]
    if missing:
        raise DetectionError("--dfns-contract auto needs the profile's %s (its requests are those of an authenticated "
                             "client); set it, or name the version with --dfns-contract" % ", ".join(missing))
    from dfns_contract.client import DfnsClient

    client = DfnsClient(base_url, profile.get("appId"), auth_token=profile.get("authToken"), timeout=timeout,
                        retry_transport=retries)
    try:
        return _decide(client, profile)
    finally:
        client.session.close()


def _decide(client: DfnsClient, profile: Profile) -> Detected:
    anonymous = client.request("GET", APPS, auth=False)
    inner = error_object(anonymous)
    without_nonce = client.request("GET", APPS, headers={"X-DFNS-NONCE": None, "X-DFNS-APPID": None})
    served = 200 <= without_nonce.status < 300
    seen = "a request without a token got %s; one with the token and without X-DFNS-NONCE got HTTP %d" % (
        shown(anonymous), without_nonce.status)
    if anonymous.status != 401 or inner is None:
        raise _fits_none(client, seen)
    if "id" in inner and isinstance(inner.get("status"), int):
        if served:
            return Detected("2026", "the 401's body has error.id and error.status, and a request without "
                                    "X-DFNS-NONCE is served (%s)" % seen)
        raise _fits_none(client, seen)
    if served or without_nonce.status != 400:
        raise _fits_none(client, seen)
    message = inner.get("message")
    if message == LATEST_401:
        return Detected("2025-02-07", "the 401's message is %r, and a request without X-DFNS-NONCE is refused (%s)"
                        % (LATEST_401, seen))
    if message != FIRST_401:
        raise _fits_none(client, seen)
    return _which_edit(client, profile, seen)


def _which_edit(client: DfnsClient, profile: Profile, seen: str) -> Detected:
    """The first or the later edit of 2024-08-19: how a login for an unknown user is refused."""
    if not profile.get("orgId"):
        raise DetectionError("--dfns-contract auto: the target answers as the 2024-08-19 page (%s); telling its first "
                             "edit from the later one needs the profile's orgId. Set it, or name the version with "
                             "--dfns-contract" % seen)
    nobody = "dfns-contract-auto-%s@users.invalid" % secrets.token_hex(6)
    login = client.request("POST", LOGIN_INIT, {"username": nobody, "orgId": profile["orgId"]}, auth=False)
    message = (error_object(login) or {}).get("message")
    why = "the 401's message is %r, a request without X-DFNS-NONCE is refused, and a login for an unknown user got " \
          "%s" % (FIRST_401, shown(login))
    if login.status == 401 and message == USER_NOT_FOUND:
        return Detected("2024-08-19-extended", why + " (the later edit documents it)")
    return Detected("2024-08-19", why + " (the first edit documents no error of its own for it)")


def error_object(exchange: Exchange) -> dict[str, Any] | None:
    """The answer's ``error`` object, or None when the body is not JSON or has none."""
    from dfns_contract.client import NotJSON

    try:
        body = exchange.json
    except NotJSON:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def shown(exchange: Exchange) -> str:
    """What a target answered, in one line: its status and its error's fields and message."""
    inner = error_object(exchange)
    if inner is None:
        return "HTTP %d, no error object (%s)" % (exchange.status, exchange.text[:80].strip() or "empty body")
    return "HTTP %d with error fields %s, message %r" % (exchange.status, ", ".join(sorted(inner)), inner.get("message"))


def _fits_none(client: DfnsClient, seen: str) -> DetectionError:
    return DetectionError("--dfns-contract auto: %s answers as no published version of the Dfns error contract: %s. "
                          "Name the version with --dfns-contract (see the README's versions table)"
                          % (client.base_url, seen))
