"""A used nonce is the same nonce however it is encoded again (the versions that have one).

The replay store knows a nonce by what its header decodes to, so each
re-encoding of a used nonce (its JSON keys in another order, whitespace in the
JSON, base64url with or without padding) is refused as used: 400 ``request
nonce has already been used``. Under the switch nonce-replay-by-encoding the
store keys by the header's text and each re-encoding passes. Today's
reference (2026) has no nonce: it reads none, however encoded.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dfns_contract.client import DfnsClient
from dfns_contract.server.runner import start_server
from dfns_contract.server.contracts import CONTRACTS
from dfns_contract.wire.encoding import b64url_decode, b64url_encode
from dfns_contract.wire.nonce import iso_now, make_nonce, reencode_nonce

from selftests.server.conftest import Principals

REUSED = {"error": {"message": "request nonce has already been used"}}
UUID = "0123456789abcdef"


def _compact(date: str) -> str:
    """The JSON text ``make_nonce`` encodes for uuid ``UUID`` and ``date``."""
    return json.dumps({"uuid": UUID, "date": date}, separators=(",", ":"))


def _nonce_text(text: str, padded: bool = False) -> str:
    encoded = b64url_encode(text.encode())
    return encoded + "=" * (-len(encoded) % 4) if padded else encoded


#: Each re-encoding of a nonce of uuid ``UUID`` dated ``date`` (the first use is ``make_nonce``'s text).
ENCODINGS: dict[str, Callable[[str], str]] = {
    "keys-reversed": lambda date: _nonce_text('{"date":"%s","uuid":"%s"}' % (date, UUID)),
    "whitespace": lambda date: _nonce_text('{ "uuid" : "%s" ,\n "date" : "%s" }' % (UUID, date)),
    "padded": lambda date: _nonce_text(_compact(date), padded=True),
    "reencode_nonce": lambda date: reencode_nonce(make_nonce(uuid=UUID, date=date)),
}
#: The versions whose requests carry a nonce (2026's carry none).
WITH_NONCE = [name for name, version in CONTRACTS.items() if version.requires_nonce]


def _first_then(sender: DfnsClient, again: Callable[[str], str]) -> tuple[int, object]:
    """Use a nonce, then send its re-encoding: the second answer's status and body."""
    date = iso_now()
    first = make_nonce(uuid=UUID, date=date)
    assert b64url_decode(first).decode() == _compact(date)
    assert sender.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": first}).status == 200
    reencoded = again(date)
    assert reencoded != first and json.loads(b64url_decode(reencoded)) == json.loads(b64url_decode(first))
    got = sender.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": reencoded})
    return got.status, got.json


def test_the_padded_encoding_differs_from_the_first_by_its_padding_only():
    date = iso_now()
    padded = ENCODINGS["padded"](date)
    assert padded.endswith("=") and padded.rstrip("=") == make_nonce(uuid=UUID, date=date)


@pytest.mark.parametrize("version", WITH_NONCE)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_reencoded_nonce_is_refused_as_used(version, encoding):
    with start_server(contract=version) as server:
        assert _first_then(Principals.admin(server), ENCODINGS[encoding]) == (400, REUSED)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_under_nonce_replay_by_encoding_a_reencoded_nonce_passes(encoding):
    with start_server(faults=["nonce-replay-by-encoding"]) as server:
        sender = Principals.admin(server)
        assert _first_then(sender, ENCODINGS[encoding])[0] == 200
        same = make_nonce()
        sender.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": same})
        assert sender.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": same}).json == REUSED
