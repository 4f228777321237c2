"""Every token the server hands out is a JWT signed with one per-server secret.

Authentication tokens, registration temporary tokens, login and user-action
challenge identifiers and user-action signatures differ by their ``kind``
claim, so one can never be used for another. Expiry is judged against the
server's injectable clock, not PyJWT's wall clock, so tests can expire a
token by moving time forward.

Two faults loosen ``read`` the way deployed verifiers go wrong: one does not
check expiry (``check_expiry=False``), one verifies a token with the key the
token carries in its own header (``Verification.TRUST_EMBEDDED_JWK``), so
anyone who can make a key can sign for anyone.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

from .clock import Clock

ALGORITHM = "HS256"
ISSUER = "dfns-contract-reference-server"
#: The claim the official SDKs read an auth token's org from (``payload[ORG_CLAIM]["orgId"]``).
ORG_CLAIM = "https://custom/app_metadata"
_REQUIRED = ("exp", "sub", "jti", "kind")


class TokenKind(str, enum.Enum):
    AUTH = "auth"
    REGISTRATION = "registration"
    LOGIN_CHALLENGE = "login-challenge"
    ACTION_CHALLENGE = "action-challenge"
    USER_ACTION = "user-action"
    RECOVERY = "recovery"
    CREDENTIAL_CHALLENGE = "credential-challenge"


class Verification(enum.Enum):
    """How much of a token's signature to check: only STRICT is correct (the others are faults)."""

    STRICT = "strict"
    ALLOW_ALG_NONE = "allow-alg-none"
    UNCHECKED = "unchecked"
    #: A token with a ``jwk`` header is verified with that key instead of the server's secret.
    TRUST_EMBEDDED_JWK = "trust-embedded-jwk"


class InvalidToken(ValueError):
    """Malformed, badly signed, expired, or of another kind."""


class TokenService:
    def __init__(self, clock: Clock, secret: bytes | None = None, *, record: bool = False) -> None:
        self._clock = clock
        self._secret = secret or secrets.token_bytes(32)
        #: Every token issued, when ``record`` (the suite's secrets selftest reads it).
        self.issued: list[str] | None = [] if record else None

    def issue(
        self,
        kind: TokenKind,
        subject: str,
        ttl: timedelta,
        *,
        issued_at: datetime | None = None,
        **claims: Any,
    ) -> str:
        """A token valid for ``ttl`` from ``issued_at`` (default now; earlier for one already expired)."""
        now = issued_at or self._clock()
        payload = {
            **claims,
            "iss": ISSUER,
            "kind": kind.value,
            "sub": subject,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        token = jwt.encode(payload, self._secret, algorithm=ALGORITHM)
        if self.issued is not None:
            self.issued.append(token)
        return token

    def issue_auth(
        self,
        subject: str,
        org_id: str,
        ttl: timedelta,
        *,
        issued_at: datetime | None = None,
    ) -> str:
        """An authentication token of ``subject``, scoped to its org the way the SDKs read it.

        The TS SDK refuses a token whose ``https://custom/app_metadata.orgId`` is not the
        client's ``orgId``, and Fast Auth wants exactly one of ``orgId`` / ``tenantId``
        there, so the claim holds the org and nothing else (the server has no tenants).
        """
        return self.issue(TokenKind.AUTH, subject, ttl, issued_at=issued_at,
                          **{ORG_CLAIM: {"orgId": org_id}})

    def read(
        self,
        token: str,
        kind: TokenKind,
        verification: Verification = Verification.STRICT,
        *,
        check_expiry: bool = True,
    ) -> dict[str, Any]:
        """The claims of a valid, unexpired token of ``kind``; ``InvalidToken`` otherwise.

        ``check_expiry=False`` is the fault token-expiry-unchecked: ``exp`` must
        still be a number, but may be past.
        """
        try:
            claims = self._decode(token, verification)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from None
        except RecursionError:  # PyJWT parses the header's JSON before checking the signature
            raise InvalidToken("header nested too deeply") from None
        if not isinstance(claims, dict):
            raise InvalidToken("claims are not a JSON object")
        missing = [name for name in _REQUIRED if name not in claims]
        if missing:
            raise InvalidToken("missing claims: %s" % ", ".join(missing))
        if claims["kind"] != kind.value:
            raise InvalidToken(
                "a %s token where a %s token is expected" % (claims["kind"], kind.value)
            )
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            raise InvalidToken("exp is not a number")
        if check_expiry and exp <= self._clock().timestamp():
            raise InvalidToken("expired")
        if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
            raise InvalidToken("sub or jti is not a string")
        return claims

    def _decode(self, token: str, verification: Verification) -> dict[str, Any]:
        unchecked = verification is Verification.UNCHECKED or (
            verification is Verification.ALLOW_ALG_NONE
            and jwt.get_unverified_header(token).get("alg") == "none"
        )
        if unchecked:
            return jwt.decode(token, options={"verify_signature": False})
        if verification is Verification.TRUST_EMBEDDED_JWK:
            embedded = _embedded_key(token)
            if embedded is not None:
                return jwt.decode(token, embedded[0], algorithms=[embedded[1]], issuer=ISSUER,
                                  options=_OPTIONS)
        return jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER, options=_OPTIONS)


#: Expiry is checked against the injected clock in ``read``, not PyJWT's wall clock.
_OPTIONS: dict[str, Any] = {
    "require": list(_REQUIRED),
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}


def _embedded_key(token: str) -> tuple[Any, str] | None:
    """Fault token-trusts-embedded-jwk: the key and algorithm a token's own header names, if any.

    Whatever the ``jwk`` holds that PyJWT cannot make a key of is an invalid
    token (``PyJWTError``), never a crash.
    """
    header = jwt.get_unverified_header(token)
    jwk, algorithm = header.get("jwk"), header.get("alg")
    if not isinstance(jwk, dict) or not isinstance(algorithm, str) or algorithm == "none":
        return None
    try:
        key = jwt.PyJWK(jwk, algorithm)
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise jwt.InvalidKeyError(str(exc)) from None
    return key.key, algorithm
