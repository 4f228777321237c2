"""Key credentials on the server side: checking an attestation and an assertion.

The wire formats are advanced-topics/authentication/api-objects.md: client
data is base64url of JSON ``{"type", "challenge", "origin"?, "crossOrigin"?}``
and is signed as the exact bytes sent; a registration's attestation data is
base64url of JSON ``{"publicKey", "signature" (hex), "algorithm"?}`` signed
over the credential info fingerprint.

Two kinds of failure: what cannot be read (not base64url, not JSON, a field
of the wrong type) is a 400 naming the field; what reads fine but proves
nothing (wrong challenge, origin or signature, unknown credential) is the
documented 401 ``Not Authorized.``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from ..wire import keys
from ..wire.encoding import DecodeError, b64url_decode, b64url_encode
from .errors import ApiError, ErrorId, bad_request
from .json_input import InvalidJson, load_json
from .world import Credential, Principal

ATTESTATION_ALGORITHMS = ("RSA-SHA256", "SHA256", "SHA512")
#: The origin the docs' Python SDK ``KeySigner`` is configured with for a service account or PAT
#: (signing-flows.md, Asymmetric Keys flow: ``app_origin="https://app.dfns.io"``): a Key assertion
#: at Create User Action Signature may carry it whatever the org's app origin is.
KEY_SIGNER_ORIGIN = "https://app.dfns.io"
#: The reference server supports Key credentials only, as a first factor.
SUPPORTED_KINDS = [{"kind": "Key", "factor": "first", "requiresSecondFactor": False}]


def new_challenge() -> str:
    return b64url_encode(secrets.token_bytes(32))


def allow_credentials(principal: Principal) -> dict[str, Any]:
    """``allowCredentials`` of login and user-action challenges: the ids the client signs with."""
    return {
        "key": [
            {"type": "public-key", "id": c.cred_id}
            for c in principal.credentials
            if c.is_login_factor
        ],
        "passwordProtectedKey": [],
        "webauthn": [],
    }


@dataclass(frozen=True)
class NewKey:
    """A public key whose owner proved possession at registration."""

    pem: str
    public_key: keys.PublicKey


def not_authorized() -> ApiError:
    return ApiError(ErrorId.NOT_AUTHORIZED)


def same_secret(sent: str, expected: str) -> bool:
    """Compare in constant time; ``surrogatepass`` because JSON can carry a lone surrogate."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def check_attestation(
    info: dict[str, Any], challenge: str, origin: str, max_depth: int
) -> NewKey:
    """Verify a Key ``credentialInfo`` of Complete User Registration.

    ``max_depth`` bounds the JSON inside client and attestation data (Settings.max_json_depth).
    """
    client_data = _decode(info["clientData"], "firstFactorCredential.credentialInfo.clientData")
    _check_client_data(client_data, "key.create", challenge, (origin,), max_depth)
    attestation = _json(
        _decode(info["attestationData"], "firstFactorCredential.credentialInfo.attestationData"),
        "firstFactorCredential.credentialInfo.attestationData",
        max_depth,
    )
    pem, signature_hex = attestation.get("publicKey"), attestation.get("signature")
    algorithm = attestation.get("algorithm")
    if not isinstance(pem, str) or not isinstance(signature_hex, str):
        raise bad_request("attestationData must carry publicKey and signature strings")
    if algorithm is not None and algorithm not in ATTESTATION_ALGORITHMS:
        raise bad_request(
            "attestationData.algorithm must be one of: %s" % ", ".join(ATTESTATION_ALGORITHMS)
        )
    try:
        public_key = keys.load_public_key(pem)
    except keys.UnsupportedKey as exc:
        raise bad_request("attestationData.publicKey: %s" % exc) from None
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise bad_request("attestationData.signature must be hex") from None
    if not keys.verify(public_key, signature, keys.credential_fingerprint(client_data, pem)):
        raise not_authorized()
    return NewKey(pem, public_key)


def check_assertion(
    principal: Principal,
    assertion: dict[str, Any],
    challenge: str,
    origin: str,
    max_depth: int,
    *,
    other_origins: tuple[str, ...] = (),
) -> Credential:
    """Verify a Key ``credentialAssertion`` of Complete Login or Create User Action Signature.

    An origin in the client data must be ``origin`` or one of ``other_origins``.
    """
    _decode(assertion["clientData"], "firstFactor.credentialAssertion.clientData")
    _decode(assertion["signature"], "firstFactor.credentialAssertion.signature")
    credential = principal.credential(assertion["credId"])
    if credential is None:
        raise not_authorized()
    return check_assertion_by(credential, assertion, challenge, origin, max_depth, other_origins=other_origins)


def check_assertion_by(
    credential: Credential,
    assertion: dict[str, Any],
    challenge: str,
    origin: str,
    max_depth: int,
    *,
    other_origins: tuple[str, ...] = (),
) -> Credential:
    """Verify that ``credential`` (already chosen: a login factor, a recovery credential) signed
    the client data of ``assertion`` for this challenge."""
    client_data = _decode(assertion["clientData"], "credentialAssertion.clientData")
    signature = _decode(assertion["signature"], "credentialAssertion.signature")
    _check_client_data(client_data, "key.get", challenge, (origin, *other_origins), max_depth)
    if not keys.verify(credential.public_key, signature, client_data):
        raise not_authorized()
    return credential


def _check_client_data(
    raw: bytes, expected_type: str, challenge: str, origins: tuple[str, ...], max_depth: int
) -> None:
    """Type and challenge must match; origin and crossOrigin are optional (the official
    TypeScript key signer sends neither) but must be right when present: the origin one of
    ``origins``, crossOrigin false."""
    data = _json(raw, "clientData", max_depth)
    if data.get("type") != expected_type:
        raise not_authorized()
    sent = data.get("challenge")
    if not isinstance(sent, str) or not same_secret(sent, challenge):
        raise not_authorized()
    if "origin" in data and data["origin"] not in origins:
        raise not_authorized()
    if data.get("crossOrigin", False) is not False:
        raise not_authorized()


def _decode(text: str, field: str) -> bytes:
    try:
        return b64url_decode(text)
    except DecodeError:
        raise bad_request("%s must be base64url" % field) from None


def _json(raw: bytes, field: str, max_depth: int) -> dict[str, Any]:
    try:
        value = load_json(raw, max_depth)
    except InvalidJson:
        raise bad_request("%s must be base64url-encoded JSON" % field) from None
    if not isinstance(value, dict):
        raise bad_request("%s must be a JSON object" % field)
    return value
