"""Before the first case: is the target a Dfns API, and does the profile work on it?

A target that is not a Dfns API (another server, a URL with a wrong path
prefix), a token it refuses, a private key that does not load or sign: each
would otherwise fail every case of the run, hundreds of lines of "contract
failures" for what is a set-up problem. A few requests settle it first, and a
problem is one ``PreflightError`` naming what failed and what to check.

The checks, each only where the profile has what it needs:

1. the target refuses a request without a token (with a fresh nonce where the
   contract's requests carry one) with a 4xx and a JSON body: it is a JSON API
   at this URL (whether the body is the documented envelope, and the documented
   message, is for the cases to judge: that is the contract). The same answer
   says which version it speaks (``version_mismatch``): the body's form tells
   the errors page's versions from the 2026 reference, and the 401's message
   2024-08-19 (``Not Authorized.``) from 2025-02-07 (``user token is missing or
   invalid``). The two edits of 2024-08-19 are not told apart here: the later
   one only adds errors, so a server of the later edit certifies against the
   first, and a server of the first fails the later edit's suite on exactly
   the eleven errors it lacks, each named (a guess from one more request would
   hide a regression of one of them behind a version);
2. the token is accepted (``GET /auth/apps`` answers 2xx);
3. the private key loads, and a user action it signs is accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from collections.abc import Collection

from dfns_contract.client import DfnsClient, EnvironmentFailure, Exchange, FlowError, KeySigner, NotJSON, RateLimited
from dfns_contract.client.pacing import Pacing
from dfns_contract.client.retries import Retries
from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.catalog import DEFAULT_REQUEST_HEADERS
from dfns_contract.contract.detection import PAGE_VERSIONS, REFERENCE, error_object, shown
from dfns_contract.contract.expectations import is_json_content_type
from dfns_contract.contract.profile import Profile

APPS = "/auth/apps"


class PreflightError(RuntimeError):
    """The target or the profile cannot run the suite: one sentence saying which and what to check."""


@dataclass
class Preflight:
    """What the preflight checked, and how many requests it sent (the report counts them)."""

    requests: int = 0
    checks: list[str] = field(default_factory=list)
    #: The admin's ``GET /auth/apps`` that the target accepted: the same request as the control the cases of this
    #: process share (``recipes.RecipeContext.admin_control``), which need not be sent again.
    token_accepted: Exchange | None = None


def preflight(base_url: str, profile: Profile, *, timeout: float, retries: int = 0, rate_limit_budget: float = 0.0,
              pause: Callable[[float], None] = time.sleep,
              request_headers: Collection[str] = DEFAULT_REQUEST_HEADERS, pacer: Pacing | None = None,
              contract: str | None = None) -> Preflight:
    """Run the checks that the profile allows; raise ``PreflightError`` at the first that fails.

    ``request_headers``: the contract's (``Catalog.request_headers``): its requests are sent as its cases' are;
    ``contract``: its version, named when the target answers as another one (``version_mismatch``).

    A rate limiter's answer is waited out and that request sent again (``client/retries.py``) within
    ``rate_limit_budget`` seconds.
    """
    try:
        return _checks(base_url, profile, timeout=timeout, retries=retries,
                       headers={name.lower() for name in request_headers},
                       rate_limits=Retries(rate_limit_budget, pause=pause), pacer=pacer, contract=contract)
    except RateLimited as exc:
        raise PreflightError("preflight: %s, past the rate-limit budget of %.0f s (the target, not its contract: try "
                             "again later, raise --dfns-rate-limit-budget, or set --dfns-rate-limit)"
                             % (str(exc).split("; waiting again")[0], rate_limit_budget)) from None


def _checks(base_url: str, profile: Profile, *, timeout: float, retries: int, headers: set[str],
            rate_limits: Retries, pacer: Pacing | None = None, contract: str | None = None) -> Preflight:
    done = Preflight()

    def count(exchange: Exchange) -> None:
        done.requests += 1

    needs_app = "x-dfns-appid" in headers
    client = DfnsClient(base_url, profile.get("appId") if needs_app else None, auth_token=profile.get("authToken"),
                        timeout=timeout, retry_transport=retries, observers=[count], app_origin=profile.get("appOrigin"),
                        sends_nonce="x-dfns-nonce" in headers, retries=rate_limits, pacer=pacer)
    try:
        _speaks_the_contract(client, done, contract, sends_nonce="x-dfns-nonce" in headers)
        if (profile.get("appId") or not needs_app) and profile.get("authToken"):
            _token_accepted(client, done)
        if profile.get("credId") and profile.get("privateKey"):
            _key_signs(client, profile, done)
    except RateLimited:
        raise
    except EnvironmentFailure as exc:
        raise PreflightError("preflight: %s (the target, not its contract: try again later, or --dfns-skip-preflight)"
                             % str(exc).splitlines()[0]) from None
    finally:
        client.session.close()
    return done


def _speaks_the_contract(client: DfnsClient, done: Preflight, contract: str | None = None, *,
                         sends_nonce: bool = True) -> None:
    # Without a token (and with a fresh nonce where the contract sends one): every version refuses it, each in
    # its own words, so this one read-only request also tells which version the target answers as.
    exchange = client.request("GET", APPS, auth=False)
    sent = ("a request with a fresh X-DFNS-NONCE and without Authorization" if sends_nonce
            else "a request without X-DFNS-NONCE and Authorization")
    mismatch = version_mismatch(exchange, sends_nonce=sends_nonce, contract=contract)
    if mismatch is not None:
        raise PreflightError(
            "preflight: %s answers as another version of the Dfns error contract than %s: %s got %s. It looks like "
            "%s. Run with --dfns-contract auto to certify the version it implements, or name that version with "
            "--dfns-contract" % (client.base_url, contract or "the one named", sent, shown(exchange), mismatch))
    problems = _not_a_json_error(exchange)
    if not 400 <= exchange.status < 500 or problems:
        raise PreflightError(
            "preflight: %s does not answer as a Dfns API: %s got HTTP %d%s, expected a "
            "4xx with a JSON error body. Check the base URL (scheme, host, port and path prefix: the "
            "suite appends paths such as %s to it)" % (client.base_url, sent, exchange.status,
                                                      " (%s)" % "; ".join(problems) if problems else "", APPS))
    done.checks.append("answers as a Dfns API")


def version_mismatch(exchange: Exchange, *, sends_nonce: bool, contract: str | None = None) -> str | None:
    """Which other version the answer to a request without a token looks like (``detection.py``'s rules), or None
    when it fits the contract's form. ``sends_nonce``: the contract's requests carry ``X-DFNS-NONCE`` (the errors
    page's versions), else it is the 2026 reference's (no nonce; ``error.id`` and ``error.status``); ``contract``:
    the published version named, whose 401 message is compared with the other pages' (None: a catalog of one's
    own, compared by form only)."""
    inner = error_object(exchange)
    if inner is None or not 400 <= exchange.status < 500:
        return None  # not a JSON error at all: the check below says the target is no Dfns API
    reference_body = "id" in inner and isinstance(inner.get("status"), int)
    if sends_nonce and reference_body:
        return ("contract %s (the reference's): its error body has error.id and error.status, where the errors "
                "page's versions have error.message only" % REFERENCE)
    if not sends_nonce and not reference_body:
        return ("a version of the errors page (%s): its error body has no error.id nor error.status%s" % (
            ", ".join(PAGE_VERSIONS), ", and it asks for a nonce (X-DFNS-NONCE), which the 2026 reference does not "
            "have" if "nonce" in str(inner.get("message", "")).lower() else ""))
    if sends_nonce and exchange.status == 401 and contract in PAGE_VERSIONS:
        return _another_pages_401(inner.get("message"), contract)
    return None


def _another_pages_401(message: object, contract: str) -> str | None:
    """The page versions whose documented 401 message (``no-jwt``) is the one seen, when the contract's is not.

    Only the other page's exact words count: a message neither page documents is the case's failure to judge,
    not a version to guess."""
    messages = {version: load_contract(version).by_id("no-jwt").message for version in PAGE_VERSIONS}
    if message == messages[contract]:
        return None
    others = [version for version, documented in messages.items() if documented == message]
    if not others:
        return None
    return ("%s: its 401 without a token says %r, as %s, where %s documents %r" % (
        " or ".join(others), message, "that page documents" if len(others) == 1 else "those pages document",
        contract, messages[contract]))


def _not_a_json_error(exchange: Exchange) -> list[str]:
    if not is_json_content_type(exchange.content_type):
        return ["Content-Type %r" % exchange.content_type]
    try:
        body = exchange.json
    except NotJSON:
        return ["the body is not JSON"]
    return [] if isinstance(body, dict) else ["the body is not a JSON object"]


def _token_accepted(client: DfnsClient, done: Preflight) -> None:
    exchange = client.request("GET", APPS)
    if exchange.status == 404:
        raise PreflightError(
            "preflight: GET %s answered HTTP 404 at %s: check the base URL's path prefix (the suite appends the API's "
            "paths to it)" % (APPS, client.base_url))
    if not 200 <= exchange.status < 300:
        raise PreflightError(
            "preflight: the profile's token and app were refused: GET %s answered HTTP %d. Check authToken (expired? "
            "for this environment?) and appId (active, of the token's organisation)" % (APPS, exchange.status))
    done.checks.append("token accepted")
    done.token_accepted = exchange


def _key_signs(client: DfnsClient, profile: Profile, done: Preflight) -> None:
    try:
        signer = KeySigner(profile["credId"], profile["privateKey"])
        signer.sign(b"preflight")
    except Exception as exc:  # noqa: BLE001 - whatever the crypto library raises for a bad key: one sentence
        raise PreflightError("preflight: privateKey does not load as a PEM private key (Ed25519, P-256 or RSA) or "
                             "cannot sign: %s" % type(exc).__name__) from None
    signing = client.with_identity(client.auth_token, signer)
    try:
        signing.user_action("PUT", APPS + "/" + (profile.get("otherAppId") or profile["appId"]) + "/activate", b"{}")
    except (FlowError, ValueError) as exc:
        raise PreflightError("preflight: a user action signed with credId and privateKey was refused: %s. Check that "
                             "credId is the id of that key's credential, registered for the token's principal"
                             % str(exc).splitlines()[0]) from None
    done.checks.append("user action signed")
