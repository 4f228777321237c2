"""The reference server as today's Dfns for its official clients (issue 27).

What the SDKs read or send that the server must meet: the org claim of every
auth token (jwt-claims.md), the ``owner`` filter of List Wallets
(shapes-wallet-transfer-useraction.md), the client data each SDK's key
signer signs at ``POST /auth/action`` (fast-auth.md, signing-flows.md), and
the networks, all from one data file (``server/data/networks.json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from urllib.parse import quote

import jwt
import pytest

from dfns_contract.client import Exchange, KeySigner
from dfns_contract.server import wallet_store
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.wire.encoding import b64url_encode

from selftests.server.flows import action_init, as_user, delegated_login
from selftests.server.today import TODAY, admin, client, error_of

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


# -- List Wallets' owner filter -------------------------------------------------------------


@pytest.fixture(scope="module")
def delegated_wallet(server) -> str:
    """A wallet of the org delegated to the seeded end user (the seed's wallets are the org's own)."""
    got = admin(server).request("POST", "/wallets", {"network": "EthereumSepolia",
                                                     "delegateTo": server.profile["endUserId"]}, sign=True)
    assert got.status == 200, got.text
    assert got.json["custodial"] is False
    return got.json["id"]


def _listed(server: RunningServer, query: str) -> list[str]:
    got = admin(server).request("GET", "/wallets?limit=100&" + query)
    assert got.status == 200, got.text
    return [w["id"] for w in got.json["items"]]


@pytest.mark.parametrize("filter_name, key", [
    ("owner", "endUserId"), ("owner", "endUserUsername"), ("ownerId", "endUserId"),
    ("ownerUsername", "endUserUsername"),
])
def test_the_owner_filters_find_the_wallet_delegated_to_the_end_user(server, delegated_wallet, filter_name, key):
    assert _listed(server, "%s=%s" % (filter_name, quote(server.profile[key]))) == [delegated_wallet]


@pytest.mark.parametrize("query", [
    "owner=us-00000-00000-0000000000000000", "owner=nobody%40example.co", "ownerUsername=nobody%40example.co",
    "ownerId=us-00000-00000-0000000000000000",
])
def test_an_owner_who_is_nobody_lists_no_wallet(server, delegated_wallet, query):
    assert _listed(server, query) == []


def test_owner_is_not_the_admin_of_the_org_wallets(server, delegated_wallet):
    """The seeded wallets are the org's (custodial): no user owns them, not even their creator."""
    listed = _listed(server, "owner=" + quote(server.profile["registeredUsername"]))
    assert listed == []
    assert server.profile["walletId"] in _listed(server, "")


def test_an_end_user_of_another_org_owns_nothing_here(server, delegated_wallet):
    assert _listed(server, "owner=" + server.profile["otherOrgUserId"]) == []


def test_each_owner_filter_given_must_hold(server, delegated_wallet):
    p = server.profile
    both = "owner=%s&ownerId=%s" % (p["endUserId"], p["endUserId"])
    assert _listed(server, both) == [delegated_wallet]
    assert _listed(server, "owner=%s&ownerId=%s" % (p["endUserId"], p["credId"])) == []


# -- Create User Action Signature as each SDK's key signer signs ------------------------------

#: What the TS ``AsymmetricKeySigner`` signs: ``JSON.stringify({type: 'key.get', challenge})``, no origin,
#: no crossOrigin (fast-auth.md, "What is signed", 3).
def ts_asymmetric_key_signer(challenge: str) -> bytes:
    return json.dumps({"type": "key.get", "challenge": challenge}, separators=(",", ":")).encode()


#: What a Python key signer signs (guides/signing-requests.md, "Python (manual)"), with the origin the
#: docs' Python ``KeySigner`` is configured with (signing-flows.md, Asymmetric Keys flow).
def python_key_signer(challenge: str, origin: str = "https://app.dfns.io") -> bytes:
    return json.dumps({"type": "key.get", "challenge": challenge, "origin": origin, "crossOrigin": False},
                      separators=(",", ":")).encode()


def _sign_action(server: RunningServer, client_data: Callable[[str], bytes], payload: dict,
                 **assertion_extra: str) -> Exchange:
    """Init a user action for Create Wallet with ``payload``, sign the challenge's client data as
    ``client_data`` builds it with the seeded admin key, and complete it (POST /auth/action)."""
    p, sender = server.profile, admin(server)
    init = sender.request("POST", "/auth/action/init", {
        "userActionPayload": json.dumps(payload, separators=(",", ":")), "userActionHttpMethod": "POST",
        "userActionHttpPath": "/wallets"})
    assert init.status == 200, init.text
    data = client_data(init.json["challenge"])
    signature = KeySigner(p["credId"], p["privateKey"]).sign(data)
    assertion = {"kind": "Key", "credentialAssertion": {
        "credId": p["credId"], "clientData": b64url_encode(data), "signature": b64url_encode(signature),
        **assertion_extra}}
    return sender.request("POST", "/auth/action", {"challengeIdentifier": init.json["challengeIdentifier"],
                                                   "firstFactor": assertion})


def _create_wallet_with(server: RunningServer, user_action: str, payload: dict) -> Exchange:
    return admin(server).request("POST", "/wallets", payload, headers={"X-DFNS-USERACTION": user_action})


@pytest.mark.parametrize("client_data, extra", [
    (ts_asymmetric_key_signer, {}),
    (ts_asymmetric_key_signer, {"algorithm": "SHA256"}),  # the TS signer's option for an ECDSA key
    (python_key_signer, {}),
], ids=["ts-asymmetric-key-signer", "ts-asymmetric-key-signer-sha256", "python-key-signer"])
def test_each_sdk_key_signers_user_action_is_accepted_and_used(server, client_data, extra):
    payload = {"network": "EthereumSepolia", "name": "signed-by-%s" % client_data.__name__}
    got = _sign_action(server, client_data, payload, **extra)
    assert got.status == 200, got.text
    created = _create_wallet_with(server, got.json["userAction"], payload)
    assert created.status == 200, created.text
    assert created.json["name"] == payload["name"]


def test_the_apps_own_origin_is_still_accepted(server):
    got = _sign_action(server, lambda c: python_key_signer(c, server.profile["appOrigin"]), {"network": "Bitcoin"})
    assert got.status == 200, got.text


@pytest.mark.parametrize("origin", ["https://evil.example", "http://app.dfns.io", "https://app.dfns.io.evil.example"])
def test_another_origin_is_still_refused(server, origin):
    got = _sign_action(server, lambda c: python_key_signer(c, origin), {"network": "Bitcoin"})
    error_of(got, 401)


def test_the_documented_origin_is_not_a_login_origin(server):
    """Only Create User Action Signature takes the SDK's origin; login keeps the app's (it is not asked)."""
    p = server.profile
    anonymous = client(server)
    init = anonymous.request("POST", "/auth/login/init", {"username": p["registeredUsername"], "orgId": p["orgId"]},
                             auth=False)
    data = python_key_signer(init.json["challenge"])
    assertion = {"kind": "Key", "credentialAssertion": {
        "credId": p["credId"], "clientData": b64url_encode(data),
        "signature": b64url_encode(KeySigner(p["credId"], p["privateKey"]).sign(data))}}
    got = anonymous.request("POST", "/auth/login", {"challengeIdentifier": init.json["challengeIdentifier"],
                                                    "firstFactor": assertion}, auth=False)
    assert got.status == 401, got.text


# -- networks: one data file -------------------------------------------------------------------


def test_the_networks_file_names_its_source_and_sdk_version():
    document = wallet_store.networks_document()
    assert isinstance(document["source"], str) and "@dfns/sdk" in document["source"]
    assert document["sdkPackage"] == "@dfns/sdk"
    assert re.fullmatch(r"\d+\.\d+\.\d+", document["sdkVersion"]), document["sdkVersion"]
    assert document["sdkVersion"] in document["source"]
    assert wallet_store.NETWORKS == wallet_store.load_networks(document)


@pytest.mark.parametrize("name", ["InternetComputer", "Origyn", "Starknet", "Sui", "KeyECDSAStark", "ICP", "OGY"])
def test_names_the_sdk_declares_and_the_2024_names_are_in_the_file(name):
    """The names issue 27 found refused, a few new chains, and the 2024 page's names kept beside them."""
    assert name in wallet_store.NETWORKS


def test_the_legacy_names_are_in_the_file():
    legacy = wallet_store.networks_document()["legacyNames"]["names"]
    assert legacy and set(legacy) <= set(wallet_store.NETWORKS)


def test_a_network_declared_twice_is_refused():
    twice = {"groups": [{"scheme": "EdDSA", "curve": "ed25519", "address": None, "names": ["KeyEdDSA"]}] * 2}
    with pytest.raises(ValueError, match="KeyEdDSA"):
        wallet_store.load_networks(twice)


def test_an_unknown_network_is_refused_with_400(server):
    """The control of the test below: a server accepting any name would pass it, not this."""
    for name in ("Atlantis", "ethereum", "InternetComputerTestnet", ""):
        got = admin(server).request("POST", "/wallets", {"network": name}, sign=True)
        error_of(got, 400)
    assert admin(server).request("POST", "/wallets", {"network": "InternetComputer"}, sign=True).status == 200


def test_a_wallet_is_created_on_every_network_of_the_file(server):
    sender = admin(server)
    for name, network in wallet_store.NETWORKS.items():
        got = sender.request("POST", "/wallets", {"network": name}, sign=True)
        assert got.status == 200, (name, got.text)
        wallet = got.json
        assert wallet["network"] == name and wallet["signingKey"]["curve"] == network.curve
        assert ("address" in wallet) is (network.address is not None), name
        if network.address is not None:
            assert network.address.accepts(wallet["address"]), (name, wallet["address"])
