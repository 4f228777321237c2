"""Tokens a forger makes from a real one, for the selftests of the token verifier's faults.

The suite's own forgery lives in the contract package (``recipes.py``); the
server's selftests keep theirs here, so a change on one side cannot hide a
regression on the other.
"""

from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from dfns_contract.server.tokens import ISSUER


def forged_token(subject: str, algorithm: str) -> str:
    """An authentication token of ``subject`` the server did not sign: ``alg`` none, or HS256 by another secret."""
    now = int(time.time())
    claims = {"iss": ISSUER, "kind": "auth", "sub": subject, "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600}
    key = None if algorithm == "none" else b"not-the-server-secret-not-the-se"
    return jwt.encode(claims, key, algorithm=algorithm)


def signed_by_embedded_key(token: str, *, embed_another_key: bool = False) -> str:
    """The token's claims signed ES256 by a fresh key that the header carries as ``jwk``.

    ``embed_another_key``: the header carries a different fresh key, so the
    signature does not verify even with the key the token names.
    """
    claims = jwt.decode(token, options={"verify_signature": False})
    signer = ec.generate_private_key(ec.SECP256R1())
    named = ec.generate_private_key(ec.SECP256R1()) if embed_another_key else signer
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(named.public_key()))
    return jwt.encode(claims, signer, algorithm="ES256", headers={"jwk": jwk})
