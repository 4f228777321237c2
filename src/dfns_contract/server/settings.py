"""The reference server's tunables; the defaults are what the docs say or imply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..wire.nonce import DEFAULT_MAX_AGE, DEFAULT_MAX_SKEW


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
    #: Service accounts (createServiceAccount.md: "Max is 730").
    service_account_max_days: int = 730
    #: Keep every token and registration code issued (``ServerState.issued_secrets``), so the
    #: suite's own tests can search its output for them. Off by default: it grows with every request.
    record_secrets: bool = False
