"""Every error the reference server can answer, as one table keyed by error id.

The documented rows are copied from getting-started/errors.md (the rows of its
later edits too: which of them a server of an older edit answers otherwise is
data, contracts.py); the others are
the server's own words for cases the docs leave open (a malformed body, an
unknown route). Faults that change a status or a message override rows of
this table (see faults.py), so the pipeline never spells a message itself: it
raises ``ApiError(ErrorId.X)`` and the renderer looks the row up.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ErrorId(str, enum.Enum):
    # Documented (getting-started/errors.md).
    NONCE_INVALID = "NonceInvalid"
    NONCE_REUSED = "NonceReused"
    USER_ACTION_REUSED = "UserActionReused"
    NOT_AUTHORIZED = "NotAuthorized"
    FORBIDDEN = "Forbidden"
    USER_ACTION_INVALID = "UserActionInvalid"
    INTERNAL = "InternalServerError"
    SELF_STATE = "ApplicationSelfState"
    APP_NOT_FOUND = "ApplicationNotFound"
    REGISTRATION_CODE_EXPIRED = "RegistrationCodeExpired"
    USER_EXISTS = "UserAlreadyExists"
    # Documented by the page's later edit of 2024-08-19 (errors-page-versions/2024-08-19-extended.md):
    # the flows' own errors. A server of the first edit answers them as contracts.py says.
    USER_DEACTIVATED = "UserDeactivated"
    USER_UNKNOWN = "UserUnknown"
    NO_CREDENTIAL_FOR_APP = "NoCredentialForApp"
    INVALID_CODE = "InvalidCode"
    CHALLENGE_INVALID = "ChallengeTokenInvalid"
    NOT_RECOVERY_FACTOR = "NotRecoveryFactor"
    # The server's own (the docs are silent).
    BAD_REQUEST = "BadRequest"
    ROUTE_NOT_FOUND = "RouteNotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    USER_NOT_FOUND = "UserNotFound"
    MAIL_NOT_FOUND = "MailNotFound"
    CREDENTIAL_NOT_FOUND = "CredentialNotFound"
    # The wallet pages (api-docs/wallets) and the API idempotency page (advanced-topics/api-idempotency.md).
    WALLET_NOT_FOUND = "WalletNotFound"
    KEY_NOT_FOUND = "KeyNotFound"
    TRANSFER_NOT_FOUND = "TransferNotFound"
    TRANSFER_CONFLICT = "TransferConflict"
    # The permission pages (api-reference/permissions) and Get Approval: the docs give no message for
    # any of these (the 409 of a permission assigned twice is only listed on the API Errors page).
    PERMISSION_NOT_FOUND = "PermissionNotFound"
    ASSIGNMENT_NOT_FOUND = "AssignmentNotFound"
    PERMISSION_ALREADY_ASSIGNED = "PermissionAlreadyAssigned"
    APPROVAL_NOT_FOUND = "ApprovalNotFound"
    POLICY_NOT_FOUND = "PolicyNotFound"
    # The server's limits (settings.py): what one request may cost.
    MALFORMED_REQUEST = "MalformedRequest"
    REQUEST_TIMEOUT = "RequestTimeout"
    BODY_TOO_LARGE = "BodyTooLarge"
    HEADERS_TOO_LARGE = "HeadersTooLarge"
    TOO_MANY_CONNECTIONS = "TooManyConnections"
    #: The organisation's request quota (quota.py; api-reference/rate-limits.md gives no body or message).
    RATE_LIMITED = "RateLimited"


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    #: A fixed text, or a ``str.format`` template for rows raised with fields.
    message: str
    documented: bool = True


#: The forbidden message names the principal and the operation it lacks; the
#: fields are the ones ``ApiError`` carries (org_id lets a fault name the wrong one).
FORBIDDEN_TEMPLATE = (
    "{principal_kind} {principal_id} is not authorized to perform operation ({operation})"
)

ERRORS: Mapping[ErrorId, ErrorSpec] = {
    ErrorId.NONCE_INVALID: ErrorSpec(400, "request nonce is missing or invalid"),
    ErrorId.NONCE_REUSED: ErrorSpec(400, "request nonce has already been used"),
    ErrorId.USER_ACTION_REUSED: ErrorSpec(400, "user action has already been used"),
    ErrorId.NOT_AUTHORIZED: ErrorSpec(401, "Not Authorized."),
    ErrorId.FORBIDDEN: ErrorSpec(403, FORBIDDEN_TEMPLATE),
    ErrorId.USER_ACTION_INVALID: ErrorSpec(403, "user action signature is missing or invalid"),
    ErrorId.INTERNAL: ErrorSpec(500, "Internal Server Error"),
    ErrorId.SELF_STATE: ErrorSpec(400, "application cannot modify its own state"),
    ErrorId.APP_NOT_FOUND: ErrorSpec(404, "application not found"),
    ErrorId.REGISTRATION_CODE_EXPIRED: ErrorSpec(400, "Registration code expired"),
    ErrorId.USER_EXISTS: ErrorSpec(401, "User already exists."),
    ErrorId.USER_DEACTIVATED: ErrorSpec(400, "User account has been deactivated."),
    ErrorId.USER_UNKNOWN: ErrorSpec(401, "User not found"),
    ErrorId.NO_CREDENTIAL_FOR_APP: ErrorSpec(
        401, "User does not have a credential that can be used for the application."
    ),
    ErrorId.INVALID_CODE: ErrorSpec(403, "Invalid code"),
    ErrorId.CHALLENGE_INVALID: ErrorSpec(400, "Challenge token is not valid."),
    ErrorId.NOT_RECOVERY_FACTOR: ErrorSpec(401, "Credential cannot be used as a recovery factor."),
    ErrorId.BAD_REQUEST: ErrorSpec(400, "bad request", documented=False),
    ErrorId.ROUTE_NOT_FOUND: ErrorSpec(404, "Not Found", documented=False),
    ErrorId.METHOD_NOT_ALLOWED: ErrorSpec(405, "Method Not Allowed", documented=False),
    ErrorId.USER_NOT_FOUND: ErrorSpec(404, "user not found", documented=False),
    ErrorId.MAIL_NOT_FOUND: ErrorSpec(
        404, "no registration email for this username", documented=False
    ),
    ErrorId.CREDENTIAL_NOT_FOUND: ErrorSpec(404, "credential not found", documented=False),
    # Today's API reference gives "wallet not found" as its example 404 (errors-page-versions/README.md).
    ErrorId.WALLET_NOT_FOUND: ErrorSpec(404, "wallet not found", documented=False),
    ErrorId.TRANSFER_NOT_FOUND: ErrorSpec(404, "transfer not found", documented=False),
    # Delete Key (dfns-docs-2026 lifecycle page) documents no error: the words are the server's own.
    ErrorId.KEY_NOT_FOUND: ErrorSpec(404, "key not found", documented=False),
    # The idempotency page's words, to the letter.
    ErrorId.TRANSFER_CONFLICT: ErrorSpec(409, "Conflicting transfer with same externalId"),
    ErrorId.PERMISSION_NOT_FOUND: ErrorSpec(404, "permission not found", documented=False),
    ErrorId.ASSIGNMENT_NOT_FOUND: ErrorSpec(404, "assignment not found", documented=False),
    # Status from the API Errors page's 409 row; the words are the server's own.
    ErrorId.PERMISSION_ALREADY_ASSIGNED: ErrorSpec(
        409, "permission already assigned to this identity", documented=False
    ),
    ErrorId.APPROVAL_NOT_FOUND: ErrorSpec(404, "approval not found", documented=False),
    # Today's page: a 404 for an incorrect "wallet, user, or policy ID"; no message given: the server's words.
    ErrorId.POLICY_NOT_FOUND: ErrorSpec(404, "policy not found", documented=False),
    ErrorId.MALFORMED_REQUEST: ErrorSpec(400, "malformed HTTP request", documented=False),
    ErrorId.REQUEST_TIMEOUT: ErrorSpec(
        408, "the request did not arrive in time", documented=False
    ),
    ErrorId.BODY_TOO_LARGE: ErrorSpec(
        413, "request body is larger than {limit} bytes", documented=False
    ),
    ErrorId.HEADERS_TOO_LARGE: ErrorSpec(
        431, "request headers are larger than {limit} bytes", documented=False
    ),
    # 429, not 503: the client asks too much, the server is not at capacity (it serves others).
    ErrorId.TOO_MANY_CONNECTIONS: ErrorSpec(
        429, "too many open connections from this client (max_connections_per_client is {limit})",
        documented=False,
    ),
    ErrorId.RATE_LIMITED: ErrorSpec(
        429, "rate limit exceeded: {limit} requests per {window} s", documented=False
    ),
}


class ApiError(Exception):
    """Stop the request and answer with a row of the table.

    ``detail`` replaces the message of rows without a fixed text (a body that
    fails validation says which field); ``fields`` fill a template row;
    ``details`` is the structured context a version with ``error.details``
    answers with (the ids a 404 is about, the parameter a 400 is about, the
    duplicate a 409 points at): the older envelopes have no place for it.
    """

    def __init__(
        self,
        error: ErrorId,
        detail: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        **fields: str,
    ) -> None:
        super().__init__(detail or error.value)
        self.error = error
        self.detail = detail
        self.fields = fields
        self.details: Mapping[str, Any] = details or {}

    @property
    def is_fixed(self) -> bool:
        """True when the answer depends on the error id alone (so it can be precompiled)."""
        return self.detail is None and not self.fields and not self.details


def bad_request(detail: str, parameter: str | None = None) -> ApiError:
    """A 400 whose message says what is wrong; ``parameter`` names the field it is about."""
    return ApiError(ErrorId.BAD_REQUEST, detail, details={"parameter": parameter} if parameter else None)
