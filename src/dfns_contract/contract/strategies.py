"""Hypothesis strategies for the documented headers, in tiers, each with its expected verdict.

Values are what HTTP can carry (latin-1, no CR, LF or NUL). Servers strip
surrounding whitespace, so a tier that pads a value says so and the verdict is
that of the stripped value. Every draw labels its tier with ``event`` so a
selftest can prove each tier is reached.
"""

from __future__ import annotations

import json
import secrets as random_source
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
from hypothesis import event
from hypothesis import strategies as st

from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.wire.headers import SPELLINGS, Spelling, spelled_by_mask
from dfns_contract.wire.nonce import MIN_UUID_LENGTH, iso_now, make_nonce

#: What a header value may contain on the wire: latin-1 without CR, LF, NUL.
HEADER_ALPHABET = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
PADDING = st.sampled_from(["", " ", "\t", "  \t"])
LONG = 8 * 1024

INVALID, VALID = "invalid", "valid"


@dataclass(frozen=True)
class Drawn:
    """A header value (``None``: header absent), its tier, and the verdict it deserves."""

    value: str | None
    tier: str
    verdict: str


def _b64_json(value: object) -> str:
    return b64url_encode(json.dumps(value).encode())


def _tiered(tiers: dict[str, st.SearchStrategy[str | None]], verdict: str) -> st.SearchStrategy[Drawn]:
    def label(tier: str) -> st.SearchStrategy[Drawn]:
        return tiers[tier].map(lambda value: Drawn(value, tier, verdict))

    def names() -> st.SearchStrategy[str]:
        focused = sorted(set(tiers) & set(_focus[0] or ()))
        return st.sampled_from(focused or sorted(tiers))

    # Deferred: the budget's focus (``use_batch``) is set after the test modules built their strategies.
    return st.deferred(names).flatmap(label).map(_event)


def _event(drawn: Drawn) -> Drawn:
    event("tier: " + drawn.tier)
    return drawn


def _padded(value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(PADDING, value, PADDING).map("".join)


def _latin1_garbage(min_size: int = 1, max_size: int = 64) -> st.SearchStrategy[str]:
    return st.text(HEADER_ALPHABET, min_size=min_size, max_size=max_size).filter(lambda s: s.strip())


def _with_non_ascii(value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    odd = st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=4)
    return st.tuples(value, st.integers(0, 64), odd).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:])


def _uuid(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=min_size, max_size=max_size)


def _date(delta: timedelta) -> str:
    return iso_now(datetime.now(timezone.utc) + delta)


def _not_base64url(text: str) -> bool:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    return any(ch not in allowed for ch in text.strip())


def _not_json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return True
    return False


def invalid_nonces() -> st.SearchStrategy[Drawn]:
    """Nonce values the docs rule out: each must get 400 ``request nonce is missing or invalid``."""
    fresh = lambda: iso_now()  # noqa: E731 - evaluated per draw: dates must be current
    tiers = {
        "absent": st.just(None),
        "empty-or-whitespace": PADDING,
        "not-base64url": _latin1_garbage().filter(_not_base64url),
        "base64-of-non-json": st.binary(min_size=1, max_size=48).filter(_not_json).map(b64url_encode),
        "json-not-object": st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(max_size=8), st.none()).map(_b64_json),
        "missing-field": st.sampled_from(["uuid", "date"]).map(
            lambda keep: _b64_json({"uuid": random_source.token_hex(16)} if keep == "uuid" else {"date": fresh()})),
        "mistyped-field": st.one_of(
            st.integers().map(lambda n: _b64_json({"uuid": n, "date": fresh()})),
            st.integers().map(lambda n: _b64_json({"uuid": random_source.token_hex(16), "date": n})),
            st.lists(st.text(max_size=3), max_size=3).map(lambda v: _b64_json({"uuid": v, "date": fresh()}))),
        "short-uuid": _uuid(0, MIN_UUID_LENGTH - 1).map(lambda u: make_nonce(uuid=u)),
        "unparseable-date": st.sampled_from(["yesterday", "2024-13-45T00:00:00Z", "", "1700000000", "T12:00"]).map(
            lambda d: make_nonce(date=d)),
        "stale-date": st.integers(1, 3650).map(lambda days: make_nonce(date=_date(-timedelta(days=days)))),
        "future-date": st.integers(1, 3650).map(lambda days: make_nonce(date=_date(timedelta(days=days)))),
        "very-long": st.just(None).map(lambda _: make_nonce() + "A" * LONG),
        "non-ascii-latin1": _with_non_ascii(st.just(None).map(lambda _: make_nonce())),
    }
    return _tiered(tiers, INVALID)


def valid_nonces() -> st.SearchStrategy[Drawn]:
    """Fresh nonces of every legal shape: padded or not, uuid of 13+ characters, surrounding whitespace."""
    def build(uuid: str, padded: bool, pad: tuple[str, str]) -> str:
        value = make_nonce(uuid=uuid)
        if padded:
            value += "=" * (-len(value) % 4)
        return pad[0] + value + pad[1]

    tiers = {
        "uuid-13-exactly": st.just(None).map(lambda _: random_source.token_hex(7)[:MIN_UUID_LENGTH]),
        "uuid-long": _uuid(14, 80).map(lambda u: u + random_source.token_hex(8)),
    }
    uuids = _tiered(tiers, VALID)
    return st.builds(
        lambda d, padded, pad: Drawn(build(d.value, padded, pad), d.tier + ("+padding" if padded else ""), VALID),
        uuids, st.booleans(), st.tuples(PADDING, PADDING))


def _jwt_shaped() -> st.SearchStrategy[str]:
    segment = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=40)
    return st.tuples(segment, segment, segment).map(".".join)


def _claims(token: str) -> dict:
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {"sub": "nobody"}


def invalid_bearer_tokens(real_token: str) -> st.SearchStrategy[Drawn]:
    """Authorization values that must get 401 ``Not Authorized.``; forged ones reuse the real claims."""
    claims = _claims(real_token)
    other_key = lambda extra: jwt.encode({**claims, **extra}, random_source.token_hex(32), algorithm="HS256")  # noqa: E731
    tiers = {
        "absent": st.just(None),
        "empty-or-whitespace": PADDING,
        "scheme-only": st.sampled_from(["Bearer", "Bearer ", "bearer"]),
        "other-scheme": st.sampled_from(["Basic", "Token", "JWT", "Digest"]).map(lambda s: s + " " + real_token),
        "garbage": _latin1_garbage().map(lambda g: "Bearer " + g),
        "jwt-shaped-garbage": _jwt_shaped().map(lambda t: "Bearer " + t),
        "alg-none": st.sampled_from(["none", "None", "NONE"]).map(
            lambda alg: "Bearer %s.%s." % (_b64_json({"alg": alg, "typ": "JWT"}), real_token.split(".")[1] if real_token.count(".") == 2 else _b64_json(claims))),
        "signed-with-other-key": st.just(None).map(lambda _: "Bearer " + other_key({})),
        "expired": st.integers(60, 10**6).map(lambda age: "Bearer " + other_key({"exp": int(datetime.now(timezone.utc).timestamp()) - age})),
        "very-long": st.just("Bearer " + "A" * LONG),
        "non-ascii-latin1": _with_non_ascii(st.just("Bearer " + real_token)),
    }
    return _tiered(tiers, INVALID)


def invalid_user_actions(real_token: str | None = None) -> st.SearchStrategy[Drawn]:
    """X-DFNS-USERACTION values that must get 403 ``user action signature is missing or invalid``."""
    claims = _claims(real_token) if real_token else {"sub": "nobody"}
    tiers = {
        "absent": st.just(None),
        "empty-or-whitespace": PADDING,
        "garbage": _latin1_garbage(),
        "jwt-shaped-garbage": _jwt_shaped(),
        "alg-none": st.just(None).map(lambda _: "%s.%s." % (_b64_json({"alg": "none"}), _b64_json(claims))),
        "signed-with-other-key": st.just(None).map(lambda _: jwt.encode(claims, random_source.token_hex(32), algorithm="HS256")),
        "very-long": st.just("A" * LONG),
        "non-ascii-latin1": _with_non_ascii(_jwt_shaped()),
    }
    return _tiered(tiers, INVALID)


def invalid_app_ids(real_app_id: str) -> st.SearchStrategy[Drawn]:
    """X-DFNS-APPID values naming no application of the org."""
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    unknown = st.tuples(*(st.text(alphabet, min_size=n, max_size=n) for n in (5, 5, 16))).map(lambda p: "ap-%s-%s-%s" % p)
    tiers = {
        "absent": st.just(None),
        "empty-or-whitespace": PADDING,
        "unknown-id": unknown.filter(lambda a: a != real_app_id),
        "garbage": _latin1_garbage(),
        "very-long": st.just("ap-" + "a" * LONG),
        "non-ascii-latin1": _with_non_ascii(st.just(real_app_id)),
    }
    return _tiered(tiers, INVALID)



def header_spellings() -> st.SearchStrategy[Spelling]:
    """How an example spells its header names: as documented, lower case (HTTP/2), or any mix of cases."""
    return st.one_of(st.sampled_from(list(SPELLINGS)),
                     st.lists(st.booleans(), min_size=1, max_size=12).map(spelled_by_mask))


#: Values a property sends at once: one Hypothesis example is a batch of them (``contract/fuzzing.py``).
BATCH = 8
#: The batch of this process's budget (``use_batch``: the trial budget's is smaller), read at the first draw.
_batch = [BATCH]
#: The tiers this process's budget draws from, where a strategy has them (None: every tier), one of each a batch.
_focus: list[frozenset[str] | None] = [None]


def use_batch(size: int, tiers: frozenset[str] | None = None) -> None:
    """Batches of ``size`` values from now on; with ``tiers``, only those tiers (where a strategy has them) and each
    once a batch. The plugin sets its budget's before any property runs."""
    _batch[0], _focus[0] = size, tiers


def batches(values: st.SearchStrategy) -> st.SearchStrategy[list]:
    """``BATCH`` values of ``values`` (the budget's batch: ``use_batch``), sent at once: against a remote target a batch costs one round trip, not eight.

    Of fixed size, so every example fuzzes as many values; the failure names the
    value that broke the contract (batches are not shrunk: ``contract/fuzzing.py``).
    A batch of one tier only is not drawn: Hypothesis' first example is its
    simplest, the first tier eight times, a round trip that fuzzes one value.
    """
    def batch() -> st.SearchStrategy[list]:
        unique = {"unique_by": _tier_of} if _focus[0] else {}
        return st.lists(values, min_size=_batch[0], max_size=_batch[0], **unique).filter(_mixed_tiers)

    return st.deferred(batch)


def _tier_of(value: object) -> object:
    return getattr(value[0] if isinstance(value, tuple) else value, "tier", None)


def _mixed_tiers(batch: list) -> bool:
    """More than one tier among the batch's values (each a ``Drawn`` or a tuple starting with one)."""
    return len({_tier_of(value) for value in batch}) > 1
