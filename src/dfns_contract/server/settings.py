"""The reference server's tunables; the defaults are what the docs say or imply.

The limits (the second half) are what a production API has and the docs do
not state: how large a request and how slow a client may be. Their defaults
keep one client from holding the server and leave the suite far inside them
(measured over ``pytest`` and ``pytest -n 2``: header sections of 1.3 KiB,
9 KiB for the fuzzing's 8 KiB header values). One ``pytest -n 2`` against a
standalone ``dfns-mock`` had at most 26 connections open at once (2024-08-19;
10 under 2026; ``ClientConnections.peak``), so four such suites sharing one
server from one address stay well inside ``max_connections_per_client``, while
it stays below a file limit of 256 (bench/slow_connections.py). The operator's ones are
options of ``dfns-mock`` too (cli.py); docs/reference-server.md
lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..wire.nonce import DEFAULT_MAX_AGE, DEFAULT_MAX_SKEW
from .approvals import check_activities
from .capture import ResponseCapture


@dataclass(frozen=True)
class Settings:
    #: The seeded application's expected origin (written into signed client data) and RP id.
    app_origin: str = "https://app.dfns.local"
    rp_id: str = "dfns.local"
    #: How old a nonce may be, and how far ahead of the server clock (request-headers.md).
    nonce_max_age: timedelta = DEFAULT_MAX_AGE
    nonce_max_skew: timedelta = DEFAULT_MAX_SKEW
    #: How long an emailed registration code stays valid.
    registration_code_ttl: timedelta = timedelta(days=7)
    #: Tokens: the docs call login tokens short-lived; the profile's tokens must last a test run.
    login_token_ttl: timedelta = timedelta(hours=1)
    seeded_token_ttl: timedelta = timedelta(days=1)
    #: Registration, login and user-action challenges, and the user action signature itself.
    challenge_ttl: timedelta = timedelta(minutes=5)
    user_action_ttl: timedelta = timedelta(minutes=5)
    #: A login code (Send Login Code) and a recovery verification code (Send Recovery Code Email).
    login_code_ttl: timedelta = timedelta(minutes=15)
    recovery_code_ttl: timedelta = timedelta(hours=1)
    #: Service accounts (createServiceAccount.md: "Max is 730").
    service_account_max_days: int = 730
    #: Keep every token and registration code issued (``ServerState.issued_secrets``), so the
    #: suite's own tests can search its output for them. Off by default: it grows with every request.
    record_secrets: bool = False
    #: Activity kinds the seeded org holds for approval, one ``AlwaysTrigger`` / ``RequestApproval``
    #: policy each (approvals.py: ``Permissions:Assign``, ``Permissions:Modify``, ``Wallets:Sign``).
    #: Empty: nothing is held, as in an org without policies ("all transactions are allowed").
    policies: tuple[str, ...] = ()

    # -- Limits (connections.py, request_limits.py, pipeline.py, json_input.py) ---------------

    #: The request line and header fields, CRLFs included, in bytes: 431 above it.
    max_header_bytes: int = 32 * 1024
    #: A request body, in bytes: 413 above it (by Content-Length before it is read, or as it arrives).
    max_body_bytes: int = 1024 * 1024
    #: How deep the JSON of a body, a signed payload or client data may nest: 400 deeper.
    max_json_depth: int = 64
    #: ``X-DFNS-NONCE`` in characters (once trimmed), and its uuid: 400 NonceInvalid above them.
    nonce_max_length: int = 1024
    nonce_uuid_max_length: int = 256
    #: Open connections from one client address: one more is answered 429 with ``Retry-After``
    #: (connections.py). 4 suites with ``-n 2`` open 104 at most (4 x 26): room to spare.
    max_connections_per_client: int = 160
    #: Seconds a request's header section may take, counted from the connection opening or the
    #: previous response: then 408 if part of it came, a quiet close if nothing did.
    header_timeout: float = 10.0
    #: Seconds a request's body may take once its headers are in: 408.
    body_timeout: float = 30.0
    #: Seconds an idle keep-alive connection stays open (uvicorn's ``timeout_keep_alive``).
    keep_alive_timeout: float = 5.0
    #: Seconds between two sweeps of expired one-time values (used nonces, user actions,
    #: challenges, temporary tokens), so they go on time even when no request comes.
    prune_interval: float = 30.0
    #: One line per request on the ``dfns_contract.server.access`` logger (INFO): client, method,
    #: path without the query, status, time. Never a header, a body or a query string.
    access_log: bool = False
    #: Keep every answer (capture.py) for a test that checks their shapes; None: not installed, costs nothing.
    capture: ResponseCapture | None = None
    #: The organisation's request quota (quota.py): at most this many requests per ``rate_window``
    #: seconds, with the documented ``X-RateLimit-*`` headers on every answer and 429 with
    #: ``Retry-After`` once spent. None (the default): no quota and no headers, as before.
    rate_limit: int | None = None
    #: The quota's window in seconds: 60 as documented; shorter for the suite's own tests.
    rate_window: float = 60.0

    def __post_init__(self) -> None:
        # A misspelt activity must not silently hold nothing.
        check_activities(self.policies)
