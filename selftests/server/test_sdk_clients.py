"""The reference server as today's Dfns for its official clients (issue 27).

What the SDKs read or send that the server must meet: the org claim of every
auth token (jwt-claims.md), the ``owner`` filter of List Wallets
(shapes-wallet-transfer-useraction.md), and the client data each SDK's key
signer signs at ``POST /auth/action`` (fast-auth.md, signing-flows.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import jwt
import pytest

from dfns_contract.client import KeySigner
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.wire.encoding import b64url_encode

from selftests.server.flows import action_init, as_user, delegated_login
from selftests.server.today import TODAY, client

ORG_CLAIM = "https://custom/app_metadata"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract=TODAY) as running:
        yield running


def _claims(token: str) -> dict:
    """The token's payload as an SDK reads it: decoded, its signature unchecked (jwt-claims.md)."""
    return jwt.decode(token, options={"verify_signature": False})


# -- the org claim ------------------------------------------------------------------------


def test_a_seeded_token_carries_its_org_and_nothing_else_there(server):
    p = server.profile
    for token in (p["authToken"], p["limitedAuthToken"], p["serviceAccountAuthToken"], p["expiredAuthToken"]):
        assert _claims(token)[ORG_CLAIM] == {"orgId": p["orgId"]}


def test_the_other_orgs_token_carries_the_other_org(server):
    other = server.state.seeded.other_org
    assert _claims(other.admin.token)[ORG_CLAIM] == {"orgId": other.org_id}


def test_a_login_issued_token_carries_the_org(server):
    got = delegated_login(server, server.profile["registeredUsername"])
    assert got.status == 200, got.text
    assert _claims(got.json["token"])[ORG_CLAIM] == {"orgId": server.profile["orgId"]}


def test_a_key_login_issued_token_carries_the_org(server):
    p = server.profile
    anonymous = client(server)
    init = anonymous.request("POST", "/auth/login/init", {"username": p["registeredUsername"], "orgId": p["orgId"]},
                             auth=False)
    assert init.status == 200, init.text
    data = json.dumps({"type": "key.get", "challenge": init.json["challenge"]}).encode()
    signature = KeySigner(p["credId"], p["privateKey"]).sign(data)
    assertion = {"kind": "Key", "credentialAssertion": {
        "credId": p["credId"], "clientData": b64url_encode(data), "signature": b64url_encode(signature)}}
    got = anonymous.request("POST", "/auth/login", {"challengeIdentifier": init.json["challengeIdentifier"],
                                                    "firstFactor": assertion}, auth=False)
    assert got.status == 200, got.text
    assert _claims(got.json["token"])[ORG_CLAIM] == {"orgId": p["orgId"]}


def test_the_claim_is_only_on_auth_tokens(server):
    """Challenges and user actions are not what an SDK reads the org from: they are left as they were."""
    init = action_init(as_user(server, server.profile["registeredUsername"]))
    assert init.status == 200, init.text
    assert ORG_CLAIM not in _claims(init.json["challengeIdentifier"])
