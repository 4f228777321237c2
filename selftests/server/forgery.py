"""Tokens a forger makes from a real one, for the selftests of the token verifier's faults.

The suite's own forgery lives in the contract package (``recipes.py``); the
server's selftests keep theirs here, so a change on one side cannot hide a
regression on the other.
"""

from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives.asymmetric import ec


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
