"""Key credentials: the three key kinds the API accepts, signing and verifying.

One module for both sides. Signatures follow the docs: Ed25519 signs the bytes,
ECDSA P-256 signs SHA-256 with a DER-encoded signature, RSA signs PKCS#1 v1.5
with SHA-256.
"""

from __future__ import annotations

import enum
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from dfns_contract.wire.encoding import b64url_encode, canonical_json

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class KeyKind(str, enum.Enum):
    ED25519 = "Ed25519"
    P256 = "P-256"
    RSA = "RSA"


class UnsupportedKey(ValueError):
    """A PEM that is not a supported key."""


def generate_key(kind: KeyKind) -> PrivateKey:
    if kind is KeyKind.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if kind is KeyKind.P256:
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_kind(key: PrivateKey | PublicKey) -> KeyKind:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return KeyKind.ED25519
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnsupportedKey("only the P-256 curve is supported")
        return KeyKind.P256
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return KeyKind.RSA
    raise UnsupportedKey("unsupported key type %s" % type(key).__name__)


def load_private_key(pem: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise UnsupportedKey("not a PEM private key without password") from exc
    key_kind(key)
    return key  # type: ignore[return-value]


def load_public_key(pem: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise UnsupportedKey("not a PEM public key") from exc
    key_kind(key)
    return key  # type: ignore[return-value]


def private_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: PrivateKey | PublicKey) -> str:
    public = key.public_key() if hasattr(key, "private_bytes") else key
    return public.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify(key: PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def attestation_data(key: PrivateKey, client_data: bytes) -> str:
    """The Key credential's attestation for registration, base64url-encoded (api-objects.md)."""
    pem = public_pem(key)
    signature = sign(key, credential_fingerprint(client_data, pem)).hex()
    return b64url_encode(canonical_json({"publicKey": pem, "signature": signature}).encode())


def credential_fingerprint(client_data: bytes, pem: str) -> bytes:
    """What the attestation signature covers; the server rebuilds it to verify."""
    return canonical_json(
        {"clientDataHash": hashlib.sha256(client_data).hexdigest(), "publicKey": pem}
    ).encode()
