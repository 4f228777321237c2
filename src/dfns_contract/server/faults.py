"""Fault switches: ways to start the reference server wrong, on purpose.

The suite's own tests start the server with one switch on and expect the
suite to notice ("fault": the server breaks the contract) or not to mind
("benign": a legal variation a correct suite must accept). Each switch is
declared once here with a one-line description; how it acts:

* status and message faults carry ``overrides`` of rows of the error table
  (errors.py), applied by ``FaultSet.error_table``;
* check-disabling faults are names the pipeline reads (``name in faults``);
* envelope and transport faults are read by the renderer and the middlewares;
* the faults real deployments have (a header map that cares about case, a
  replay store that forgets too soon or lives on one replica, a gateway
  caching answers by nonce, a token verifier that skips a check) are read
  where they act: the pipeline, the token service, the connection layer.

Message faults change a message subtly, each in a different way (case of the
first letter, a final period added or removed, a trailing space, one word),
because those are the mistakes a lenient comparison would let through.

Which published versions' suites must kill a switch is not said here: each
version's catalog names the switches that break its entries (``server`` of an
entry) and its suite as a whole (``faults``), and ``contracts.judged_by``
reads that link, so a new documented error and the switches that break it are
declared in one place.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from .errors import ERRORS, FORBIDDEN_TEMPLATE, ErrorId, ErrorSpec


class FaultKind(str, enum.Enum):
    FAULT = "fault"
    BENIGN = "benign"


@dataclass(frozen=True)
class Override:
    """A change to one row of the error table; ``None`` keeps that part."""

    status: int | None = None
    message: str | None = None


#: The published versions of the errors page (contracts.py, which builds on this module, has them as data).
FIRST_CONTRACT = "2024-08-19"
#: The later edit of the same day, which documents the flows' errors the switches below break.
EXTENDED_CONTRACT = "2024-08-19-extended"
#: The same 22 entries, with the 401's new message.
MESSAGE_CONTRACT = "2025-02-07"
#: Today's API reference: a new error body, no nonce and no app id (errors-page-versions/README.md).
CONTRACT_2026 = "2026"



@dataclass(frozen=True)
class Fault:
    name: str
    kind: FaultKind
    description: str
    overrides: Mapping[ErrorId, Override] = field(default_factory=dict)


class UnknownFault(ValueError):
    """A fault name that is not in the registry."""


def _fault(name: str, description: str, **overrides: Override) -> Fault:
    return Fault(name, FaultKind.FAULT, description, {ErrorId[k]: v for k, v in overrides.items()})


def _benign(name: str, description: str) -> Fault:
    return Fault(name, FaultKind.BENIGN, description)


_REGISTRY: tuple[Fault, ...] = (
    # -- X-DFNS-NONCE ---------------------------------------------------------
    _fault("nonce-check-off", "requests without a valid X-DFNS-NONCE are served"),
    _fault(
        "nonce-invalid-status",
        "a missing or invalid nonce answers 401 instead of 400",
        NONCE_INVALID=Override(status=401),
    ),
    _fault(
        "nonce-invalid-message",
        "the invalid-nonce message starts with a capital letter",
        NONCE_INVALID=Override(message="Request nonce is missing or invalid"),
    ),
    _fault("nonce-replay-off", "a nonce may be used any number of times"),
    _fault(
        "nonce-replay-status",
        "a reused nonce answers 409 instead of 400",
        NONCE_REUSED=Override(status=409),
    ),
    _fault(
        "nonce-replay-message",
        "the reused-nonce message gains a final period",
        NONCE_REUSED=Override(message="request nonce has already been used."),
    ),
    _fault("nonce-freshness-off", "a nonce dated far in the past or future is accepted"),
    _fault("nonce-short-uuid", "a nonce uuid shorter than 13 characters is accepted"),
    _fault(
        "nonce-replay-by-encoding",
        "the replay store keys a nonce by its header text: the same uuid and date encoded otherwise pass",
    ),
    _fault(
        "nonce-replay-racy", "the replay store checks, waits 50 ms, then records (a slow store)"
    ),
    _fault(
        "nonce-store-forgets-by-date",
        "a used nonce is remembered until its date + 60 s, not its date + the acceptance window",
    ),
    _fault("nonce-store-forgets-after-1s", "a used nonce is forgotten 1 s after its first use"),
    # -- Header names, replays behind a load balancer or a gateway -------------
    _fault(
        "header-names-case-sensitive",
        "X-DFNS-NONCE/-APPID/-USERACTION and Authorization are read only as the docs spell them",
    ),
    _fault(
        "replay-store-per-replica",
        "used nonces and user actions are remembered per connection (a replica per connection)",
    ),
    _fault(
        "replay-answered-from-cache",
        "a reused nonce is answered with the first answer to it (the nonce as an idempotency key)",
    ),
    # -- Authorization --------------------------------------------------------
    _fault("auth-off", "a request without Authorization is served as the admin"),
    _fault(
        "auth-status",
        "an unauthenticated request answers 403 instead of 401",
        NOT_AUTHORIZED=Override(status=403),
    ),
    _fault(
        "auth-message",
        "the not-authorized message loses its final period",
        NOT_AUTHORIZED=Override(message="Not Authorized"),
    ),
    _fault("auth-alg-none", "a bearer token signed with alg 'none' is accepted"),
    _fault("auth-signature-unchecked", "a bearer token's signature is not verified"),
    _fault("token-expiry-unchecked", "an expired authentication token is accepted"),
    _fault(
        "token-trusts-embedded-jwk",
        "a bearer token carrying a jwk header is verified with that key, not the server's",
    ),
    _fault(
        "token-any-org",
        "a token of another organisation's principal is accepted for this organisation's app",
    ),
    # -- Permissions ----------------------------------------------------------
    _fault("forbidden-off", "a principal may call endpoints whose operation it lacks"),
    _fault(
        "forbidden-wrong-operation",
        "the 403 message names an operation the endpoint does not require",
        FORBIDDEN=Override(message=FORBIDDEN_TEMPLATE.replace("{operation}", "Auth:Action:Sign")),
    ),
    _fault(
        "forbidden-wrong-principal",
        "the 403 message names the org instead of the principal",
        FORBIDDEN=Override(message=FORBIDDEN_TEMPLATE.replace("{principal_id}", "{org_id}")),
    ),
    _fault(
        "forbidden-status",
        "a missing permission answers 401 instead of 403",
        FORBIDDEN=Override(status=401),
    ),
    # -- X-DFNS-USERACTION ----------------------------------------------------
    _fault("useraction-check-off", "mutating requests without a valid user action are served"),
    _fault(
        "useraction-status",
        "a missing or invalid user action answers 401 instead of 403",
        USER_ACTION_INVALID=Override(status=401),
    ),
    _fault(
        "useraction-message",
        "the invalid-user-action message says 'expired' for 'invalid'",
        USER_ACTION_INVALID=Override(message="user action signature is missing or expired"),
    ),
    _fault(
        "useraction-unbound",
        "a user action is accepted for any method, path and payload of its principal",
    ),
    _fault(
        "useraction-any-principal",
        "a user action signed for exactly this request is accepted whoever signed it",
    ),
    _fault("useraction-reuse-off", "a user action may be used any number of times"),
    _fault(
        "useraction-reuse-status",
        "a reused user action answers 409 instead of 400",
        USER_ACTION_REUSED=Override(status=409),
    ),
    _fault(
        "useraction-reuse-message",
        "the reused-user-action message gains a trailing space",
        USER_ACTION_REUSED=Override(message="user action has already been used "),
    ),
    _fault(
        "useraction-racy", "the user-action store checks, waits 50 ms, then records (a slow store)"
    ),
    _fault(
        "useraction-store-forgets-after-1s", "a used user action is forgotten 1 s after its first use"
    ),
    # -- Application management -----------------------------------------------
    _fault("selfstate-off", "an application may activate, deactivate or archive itself"),
    _fault(
        "selfstate-status",
        "modifying the calling application answers 403 instead of 400",
        SELF_STATE=Override(status=403),
    ),
    _fault(
        "selfstate-message",
        "the self-state message starts with a capital letter",
        SELF_STATE=Override(message="Application cannot modify its own state"),
    ),
    _fault(
        "unknown-app-status",
        "an unknown application answers 400 instead of 404",
        APP_NOT_FOUND=Override(status=400),
    ),
    _fault(
        "unknown-app-message",
        "the application-not-found message gains a final period",
        APP_NOT_FOUND=Override(message="application not found."),
    ),  # the 2026 reference documents no message for it: its suite rightly lets any one through
    # -- Registration ---------------------------------------------------------
    _fault("regcode-expiry-off", "an expired registration code is accepted"),
    _fault(
        "regcode-status",
        "an expired registration code answers 401 instead of 400",
        REGISTRATION_CODE_EXPIRED=Override(status=401),
    ),
    _fault(
        "regcode-message",
        "the expired-code message says 'token' for 'code'",
        REGISTRATION_CODE_EXPIRED=Override(message="Registration token expired"),
    ),
    _fault(
        "user-exists-off", "registration init does not check whether the user is already registered"
    ),
    _fault(
        "user-exists-status",
        "an already registered user answers 409 instead of 401",
        USER_EXISTS=Override(status=409),
    ),
    _fault(
        "user-exists-message",
        "the user-exists message starts with a lower-case letter",
        USER_EXISTS=Override(message="user already exists."),
    ),
    # -- The flows of the extended edit (delegated auth, login, signing, recovery) --
    _fault(
        "delegated-login-deactivated-allowed",
        "delegated login issues a token for a deactivated user",
    ),
    _fault(
        "login-deactivated-allowed", "login init issues a challenge to a deactivated user"
    ),
    _fault(
        "useraction-deactivated-allowed",
        "a deactivated user's still valid token may start signing a user action",
    ),
    _fault(
        "user-deactivated-status",
        "a deactivated user answers 401 instead of 400",
        USER_DEACTIVATED=Override(status=401),
    ),
    _fault(
        "user-deactivated-message",
        "the deactivated-user message loses its final period",
        USER_DEACTIVATED=Override(message="User account has been deactivated"),
    ),
    _fault(
        "user-not-found-generic",
        "an unknown user answers 401 Not Authorized. (as a server of the first edit does)",
        USER_UNKNOWN=Override(message="Not Authorized."),
    ),
    _fault(
        "user-not-found-status",
        "an unknown user answers 404 instead of 401",
        USER_UNKNOWN=Override(status=404),
    ),
    _fault(
        "useraction-archived-user-allowed",
        "the still valid token of an archived user may start signing a user action",
    ),
    _fault(
        "login-no-credential-allowed",
        "login init issues a challenge to a user without a credential usable for the application",
    ),
    _fault(
        "useraction-no-credential-allowed",
        "a user without a credential usable for the application may start signing a user action",
    ),
    _fault(
        "no-credential-message",
        "the no-credential message starts with a lower-case letter",
        NO_CREDENTIAL_FOR_APP=Override(
            message="user does not have a credential that can be used for the application."
        ),
    ),
    _fault("login-code-unchecked", "login init accepts any loginCode"),
    _fault("login-code-reusable", "a login code may be used any number of times"),
    _fault(
        "invalid-code-status",
        "a wrong login code answers 401 instead of 403",
        INVALID_CODE=Override(status=401),
    ),
    _fault(
        "action-challenge-unverified",
        "a user-action challenge identifier is read without checking its signature",
    ),
    _fault(
        "action-challenge-reusable",
        "a user-action challenge may be completed any number of times",
    ),
    _fault(
        "challenge-invalid-status",
        "an invalid user-action challenge answers 401 instead of 400",
        CHALLENGE_INVALID=Override(status=401),
    ),
    _fault(
        "recovery-any-credential",
        "any credential of the user is accepted as a recovery factor",
    ),
    _fault(
        "recovery-factor-message",
        "the recovery-factor message says 'key' for 'credential'",
        NOT_RECOVERY_FACTOR=Override(message="Key cannot be used as a recovery factor."),
    ),
    # -- Envelope and transport -----------------------------------------------
    _fault("envelope-flat", 'errors are {"message": ...} without the "error" object'),
    _fault("envelope-list", 'errors are [{"message": ...}]'),
    _fault(
        "envelope-non-string",
        'the error message is an object: {"error": {"message": {"text": ...}}}',
    ),
    _fault("envelope-non-json", "errors are the bare message as text/plain"),
    _fault("envelope-content-type", "error bodies are JSON but served as text/plain"),
    _fault(
        "html-500-on-odd-bytes",
        "a header value with a byte outside printable ASCII crashes: 500 with an HTML page",
    ),
    _fault(
        "internal-error-shape",
        'a header value with a byte outside printable ASCII crashes: 500 {"message": ...}',
    ),
    _fault(
        "odd-bytes-500",
        "a header value with a byte outside printable ASCII crashes: the documented 500",
    ),
    _fault("reject-all", "every request answers 401 Not Authorized."),
    _fault("one-error", "every request answers 400 request nonce is missing or invalid"),
    _fault(
        "echo-secrets",
        "every error becomes a 500 quoting the request's Authorization, X-DFNS-USERACTION and body",
    ),
    # -- Today's API reference (2026): its body, its statuses, idempotency ----
    _fault(
        "nonce-required-2026",
        "a request without X-DFNS-NONCE is still refused with the 2024 400 (nonce missing or invalid)",
    ),
    _fault(
        "error-status-disagrees",
        "error.status is 400 on every error whatever the HTTP status (422 where that is 400)",
    ),
    _fault("envelope-missing-id", "errors carry no error.id"),
    _fault("envelope-2024", 'errors are the 2024 body {"error": {"message": ...}}'),
    _fault("details-not-object", "error.details is a string (the message again), not an object"),
    _fault(
        "wallet-404-as-403",
        "an unknown wallet or one of another organisation answers 403 instead of 404",
        WALLET_NOT_FOUND=Override(status=403),
    ),
    _fault("wallet-404-without-details", "the 404 of an unknown wallet has no details (the page's example names "
           "the wallet and the organisation)"),
    _fault(
        "other-org-wallet-readable",
        "GET /wallets/{walletId} serves a wallet of another organisation (no tenant check)",
    ),
    _fault(
        "other-org-transfer-readable",
        "GET /wallets/{walletId}/transfers/{transferId} serves a transfer of another organisation",
    ),
    _fault(
        "other-org-user-readable", "GET /auth/users/{userId} serves a user of another organisation"
    ),
    _fault(
        "other-org-app-readable", "GET /auth/apps/{appId} serves an application of another organisation"
    ),  # the 2024 pages document the unknown app's 404 too: judged by 2026 alone for now
    _fault(
        "unknown-user-status",
        "an unknown user answers 400 instead of 404",
        USER_NOT_FOUND=Override(status=400),
    ),
    _fault(
        "unknown-policy-status",
        "an unknown policy answers 400 instead of 404",
        POLICY_NOT_FOUND=Override(status=400),
    ),
    _fault("malformed-json-500", "a body that is not JSON crashes the request: 500"),
    _fault("field-types-unchecked", "a body field of the wrong type is not refused (the handler fails on it: 500)"),
    _fault("field-choices-unchecked", "a body field's value outside its documented values is accepted"),
    _fault(
        "duplicate-transfer-created-twice",
        "the identical transfer request sent again creates a second transfer (200 with a new id)",
    ),
    _fault("conflict-without-duplicate", "the 409 of a reused externalId has no details.duplicate"),
    _fault(
        "conflict-accepted",
        "an externalId reused with another body or wallet creates a new transfer instead of 409",
    ),
    _fault(
        "conflict-compares-amount-only",
        "an externalId reused with the same amount but another body (another 'to') answers 200 with the "
        "first transfer instead of 409",
    ),
    _fault(
        "external-id-per-wallet",
        "an externalId is unique per wallet, not per org: reused on another wallet it creates a new transfer",
    ),
    _fault(
        "duplicate-transfer-racy",
        "the transfer store checks the externalId, waits 50 ms, then records (two identical requests at once "
        "create two transfers)",
    ),
    _fault(
        "conflict-message",
        "the 409 message gains a final period",
        TRANSFER_CONFLICT=Override(message="Conflicting transfer with same externalId."),
    ),
    _fault(
        "permission-reassign-allowed",
        "assigning a permission its identity already holds creates a second assignment (200, not 409)",
    ),
    _fault(
        "permission-conflict-status",
        "a permission assigned twice answers 400 instead of 409",
        PERMISSION_ALREADY_ASSIGNED=Override(status=400),
    ),
    _fault(
        "useraction-optional-post",
        "a POST without X-DFNS-USERACTION is served (one that carries an invalid one is still 403)",
    ),
    _fault(
        "useraction-optional-put",
        "a PUT without X-DFNS-USERACTION is served (one that carries an invalid one is still 403)",
    ),
    _fault(
        "useraction-optional-delete",
        "a DELETE without X-DFNS-USERACTION is served (one that carries an invalid one is still 403)",
    ),
    # -- Legal variations -----------------------------------------------------
    _benign("extra-fields", "errors carry extra keys: error.code and a top-level requestId"),
    _benign("extra-headers", "responses carry extra headers (X-Request-Id, Cache-Control)"),
    _benign("charset", "JSON is served as application/json; charset=utf-8"),
    _benign("gzip", "bodies are gzip-encoded when the client accepts it"),
    _benign("key-order", "JSON objects are written in reverse key order, indented"),
    _benign("connection-close", "every response says Connection: close"),
    _benign("chunked", "responses are streamed with chunked transfer encoding"),
)

FAULTS: Mapping[str, Fault] = {fault.name: fault for fault in _REGISTRY}

#: nonce-store-forgets-by-date: a used nonce is remembered until its date plus this, shorter
#: than the window the server accepts dates in (Settings.nonce_max_age, 300 s).
FORGETS_BY_DATE_AFTER = timedelta(seconds=60)
#: nonce-store-forgets-after-1s, useraction-store-forgets-after-1s: a used value is remembered
#: this long after its first use.
FORGETS_AFTER_USE = timedelta(seconds=1)

#: useraction-optional-*: the method whose requests may come without a user action, by switch.
USER_ACTION_OPTIONAL = {
    "useraction-optional-post": "POST",
    "useraction-optional-put": "PUT",
    "useraction-optional-delete": "DELETE",
}

#: The faults that make a header value with an odd byte crash the request.
ODD_BYTE_FAULTS = frozenset({"html-500-on-odd-bytes", "internal-error-shape", "odd-bytes-500"})


@dataclass(frozen=True)
class FaultSet:
    """The switches one server runs with; ``"name" in faults`` asks about one."""

    names: frozenset[str] = frozenset()

    def __contains__(self, name: object) -> bool:
        if name not in FAULTS:
            # A typo in the server's own code must not silently read as "off".
            raise KeyError("no fault named %r" % (name,))
        return name in self.names

    def error_table(self, base: Mapping[ErrorId, ErrorSpec] = ERRORS) -> dict[ErrorId, ErrorSpec]:
        """The error table (``base``: a version's, contracts.py) with this set's overrides applied."""
        table = dict(base)
        for name in sorted(self.names):
            for error, override in FAULTS[name].overrides.items():
                row = table[error]
                table[error] = ErrorSpec(
                    override.status if override.status is not None else row.status,
                    override.message if override.message is not None else row.message,
                    row.documented,
                )
        return table


def resolve_faults(names: Iterable[str]) -> FaultSet:
    """Check the names against the registry; raise ``UnknownFault`` naming the first unknown one."""
    names = list(names)
    for name in names:
        if name not in FAULTS:
            raise UnknownFault("unknown fault %r (see dfns-mock --list-faults)" % name)
    return FaultSet(frozenset(names))


def describe_faults() -> list[tuple[str, str, str]]:
    """(name, kind, description) for every switch, in registry order."""
    return [(f.name, f.kind.value, f.description) for f in _REGISTRY]
