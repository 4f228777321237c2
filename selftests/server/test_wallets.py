"""The wallet endpoints as the wallet pages describe them, and Transfer Asset's idempotency.

Against a ``2026`` server (today's clients, today's error body), and, for what
changes with the version, against the first edit's too: the same endpoints,
the 409 in the older body.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from dfns_contract.client import KeySigner
from dfns_contract.server.runner import RunningServer, start_server

from selftests.server.conftest import Principals
from selftests.server.today import (
    TODAY,
    UNKNOWN_WALLET,
    admin,
    client,
    error_of,
    limited,
    transfer,
    transfer_body,
)

CONFLICT = "Conflicting transfer with same externalId"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract=TODAY) as running:
        yield running


def _create_wallet(server: RunningServer, **body: object) -> dict:
    got = admin(server).request("POST", "/wallets", {"network": "EthereumSepolia", **body}, sign=True)
    assert got.status == 200, got.text
    return got.json


# -- wallets ----------------------------------------------------------------------------


def test_the_seeded_wallet_is_the_profiles(server):
    got = admin(server).request("GET", "/wallets/%s" % server.profile["walletId"])
    assert got.status == 200
    wallet = got.json
    assert wallet["id"] == server.profile["walletId"] and wallet["status"] == "Active"
    assert wallet["network"] == "EthereumSepolia" and wallet["address"].startswith("0x")
    assert set(wallet["signingKey"]) == {"id", "scheme", "curve", "publicKey"} and wallet["custodial"] is True
    assert wallet["signingKey"]["id"].startswith("key-")


def test_the_first_edits_wallet_has_the_2024_pages_signing_key():
    """signingKey.id, delegatedTo and externalId are today's (docs/sdk-shapes.md); the 2024 pages have none."""
    with start_server() as first:
        sender = Principals.admin(first)
        got = sender.request("POST", "/wallets", {"network": "EthereumSepolia", "externalId": "kept-today-only",
                                                  "delegateTo": first.profile["endUserId"]}, sign=True)
    assert got.status == 200, got.text
    assert set(got.json["signingKey"]) == {"scheme", "curve", "publicKey"} and "externalId" not in got.json


def test_create_wallet_keeps_its_external_id_and_names_the_delegate(server):
    end_user = server.profile["endUserId"]
    wallet = _create_wallet(server, externalId="my-system-42", delegateTo=end_user)
    assert wallet["externalId"] == "my-system-42" and wallet["custodial"] is False
    assert wallet["signingKey"]["delegatedTo"] == end_user
    assert admin(server).request("GET", "/wallets/%s" % wallet["id"]).json == wallet
    custodial = _create_wallet(server)
    assert "externalId" not in custodial and "delegatedTo" not in custodial["signingKey"]
    assert custodial["signingKey"]["id"] != wallet["signingKey"]["id"]


def test_a_stark_key_is_ecdsa_on_the_stark_curve_as_the_sdk_names_it(server):
    wallet = _create_wallet(server, network="KeyECDSAStark")
    assert (wallet["signingKey"]["scheme"], wallet["signingKey"]["curve"]) == ("ECDSA", "stark")


def test_create_wallet_answers_the_wallet(server):
    wallet = _create_wallet(server, name="my-wallet")
    assert wallet["id"].startswith("wa-") and wallet["name"] == "my-wallet"
    assert wallet["signingKey"]["curve"] == "secp256k1" and len(wallet["address"]) == 42
    assert admin(server).request("GET", "/wallets/%s" % wallet["id"]).json == wallet


def test_a_pseudo_network_wallet_has_no_address(server):
    wallet = _create_wallet(server, network="KeyEdDSA")
    assert "address" not in wallet and wallet["signingKey"]["scheme"] == "EdDSA"


def test_create_wallet_needs_a_known_network(server):
    sender = admin(server)
    assert error_of(sender.request("POST", "/wallets", {}, sign=True), 400)["details"] == {"parameter": "network"}
    got = sender.request("POST", "/wallets", {"network": "Narnia"}, sign=True)
    assert error_of(got, 400)["details"] == {"parameter": "network"}


def test_create_wallet_needs_a_user_action_and_the_permission(server):
    error_of(admin(server).request("POST", "/wallets", {"network": "Bitcoin"}), 403)
    error = error_of(limited(server).request("POST", "/wallets", {"network": "Bitcoin"}, sign=True), 403)
    assert error["details"]["operation"] == "Wallets:Create"
    assert error_of(limited(server).request("GET", "/wallets"), 403)["details"]["operation"] == "Wallets:Read"


def test_a_wallet_of_another_org_is_not_found(server):
    foreign = server.state.seeded.other_org.wallet_id
    error = error_of(admin(server).request("GET", "/wallets/%s" % foreign), 404)
    assert error["message"] == "wallet not found"
    assert error["details"] == {"walletId": foreign, "orgId": server.profile["orgId"]}
    listed = admin(server).request("GET", "/wallets?limit=100").json["items"]
    assert foreign not in {w["id"] for w in listed}


def test_list_wallets_pages_with_limit_and_pagination_token():
    with start_server(contract=TODAY) as fresh:
        seeded = [fresh.profile["walletId"], fresh.profile["otherWalletId"]]
        made = seeded + [_create_wallet(fresh)["id"] for _ in range(3)]
        sender, seen, token, pages = admin(fresh), [], None, 0
        while True:
            query = "?limit=2" + ("&paginationToken=" + token if token else "")
            page = sender.request("GET", "/wallets" + query).json
            seen += [w["id"] for w in page["items"]]
            pages += 1
            token = page.get("nextPageToken")
            if token is None:
                break
        assert seen == made and pages == 3
        assert len(sender.request("GET", "/wallets").json["items"]) == 5  # the default limit is 50


@pytest.mark.parametrize("query, parameter", [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("paginationToken=%%%", "paginationToken"),
    ("paginationToken=bm9wZQ", "paginationToken"),
])
def test_a_bad_page_query_is_a_400_naming_it(server, query, parameter):
    got = admin(server).request("GET", "/wallets?" + query)
    assert error_of(got, 400)["details"] == {"parameter": parameter}


# -- transfers --------------------------------------------------------------------------


def test_transfer_asset_answers_the_transfer_request(server):
    body = transfer_body(server)
    got = transfer(admin(server), server.profile["walletId"], body)
    assert got.status == 200, got.text
    made = got.json
    assert made["id"].startswith("xfr-") and made["walletId"] == server.profile["walletId"]
    assert made["requestBody"] == body and made["status"] == "Pending" and made["network"] == "EthereumSepolia"
    assert made["requester"]["userId"] == server.state.seeded.admin.principal_id
    path = "/wallets/%s/transfers" % server.profile["walletId"]
    assert admin(server).request("GET", "%s/%s" % (path, made["id"])).json == made
    listed = admin(server).request("GET", path).json
    assert listed["walletId"] == server.profile["walletId"] and made in listed["items"]


@pytest.mark.parametrize("change, parameter", [
    ({"kind": "Bogus"}, "kind"),
    ({"to": None}, "to"),
    ({"to": "not-an-address"}, "to"),
    ({"amount": "1.5"}, "amount"),
    ({"amount": 1}, "amount"),
])
def test_a_bad_transfer_is_a_400_naming_the_field(server, change, parameter):
    body = {k: v for k, v in {**transfer_body(server), **change}.items() if v is not None}
    got = transfer(admin(server), server.profile["walletId"], body)
    assert error_of(got, 400)["details"] == {"parameter": parameter}


def test_transfer_needs_a_user_action_and_the_wallet(server):
    path = "/wallets/%s/transfers" % server.profile["walletId"]
    error_of(admin(server).request("POST", path, transfer_body(server)), 403)
    error_of(transfer(admin(server), UNKNOWN_WALLET, transfer_body(server)), 404)
    error_of(admin(server).request("GET", "/wallets/%s/transfers" % UNKNOWN_WALLET), 404)


def test_the_same_request_again_answers_the_first_transfer(server):
    sender, wallet = admin(server), server.profile["walletId"]
    body = transfer_body(server, externalId="same-again")
    first = transfer(sender, wallet, body)
    again = transfer(sender, wallet, body)
    assert first.status == again.status == 200 and again.json == first.json
    listed = sender.request("GET", "/wallets/%s/transfers?limit=100" % wallet).json["items"]
    assert [t["id"] for t in listed if t.get("externalId") == "same-again"] == [first.json["id"]]


def test_the_seeded_second_wallet_and_address_are_on_the_same_network(server):
    p = server.profile
    wallets = [admin(server).request("GET", "/wallets/%s" % p[key]).json for key in ("walletId", "otherWalletId")]
    assert wallets[0]["id"] != wallets[1]["id"] and wallets[0]["network"] == wallets[1]["network"]
    assert p["otherTransferTo"] != p["transferTo"]
    got = transfer(admin(server), p["otherWalletId"], transfer_body(server, to=p["otherTransferTo"]))
    assert got.status == 200, got.text


#: What the second request changes, the first being ``transfer_body`` from ``walletId``.
OTHERWISE = {
    "amount": {"amount": "2"},
    "to": {"to": "{otherTransferTo}"},
    "an-added-field": {"memo": "a memo"},
    "priority": {"priority": "Fast"},
    "wallet": {},
}


@pytest.mark.parametrize("other", list(OTHERWISE))
def test_the_same_external_id_otherwise_is_a_409_pointing_at_the_first(server, other):
    p, sender = server.profile, admin(server)
    external_id = "conflict-" + other
    first = transfer(sender, p["walletId"], transfer_body(server, externalId=external_id))
    change = {key: value.format(**p) for key, value in OTHERWISE[other].items()}
    wallet = p["otherWalletId"] if other == "wallet" else p["walletId"]
    second = transfer(sender, wallet, transfer_body(server, externalId=external_id, **change))
    error = error_of(second, 409)
    assert error["message"] == CONFLICT
    assert error["details"] == {"duplicate": {"id": first.json["id"], "externalId": external_id}}
    assert transfer(sender, p["walletId"], transfer_body(server, externalId=external_id)).json == first.json


def test_a_conflict_creates_nothing(server):
    p, sender = server.profile, admin(server)
    body = transfer_body(server, externalId="nothing-more")
    transfer(sender, p["walletId"], body)
    error_of(transfer(sender, p["otherWalletId"], body), 409)
    error_of(transfer(sender, p["walletId"], {**body, "to": p["otherTransferTo"]}), 409)
    for wallet in (p["walletId"], p["otherWalletId"]):
        listed = sender.request("GET", "/wallets/%s/transfers?limit=100" % wallet).json["items"]
        assert len([t for t in listed if t.get("externalId") == "nothing-more"]) == (wallet == p["walletId"])


def test_an_external_id_is_unique_per_org(server):
    """Another org's transfer with the same externalId is its own: no 409."""
    body = transfer_body(server, externalId="per-org")
    assert transfer(admin(server), server.profile["walletId"], body).status == 200
    other = server.state.seeded.other_org
    foreign = client(server, other.admin.token, KeySigner(other.admin.cred_id, other.admin.private_key_pem))
    got = transfer(foreign, other.wallet_id, body)
    assert got.status == 200, got.text
    assert got.json["walletId"] == other.wallet_id


def test_two_identical_concurrent_transfers_create_one():
    with start_server(contract=TODAY) as fresh:
        wallet, body = fresh.profile["walletId"], transfer_body(fresh, externalId="race")
        path = "/wallets/%s/transfers" % wallet
        senders = [admin(fresh) for _ in range(8)]
        actions = [s.user_action("POST", path, _json(body)) for s in senders]
        barrier = threading.Barrier(len(senders))

        def send(i: int) -> tuple[int, str]:
            barrier.wait(timeout=10)
            got = senders[i].request("POST", path, body, headers={"X-DFNS-USERACTION": actions[i]})
            return got.status, got.json["id"]

        with ThreadPoolExecutor(len(senders)) as pool:
            answers = list(pool.map(send, range(len(senders))))
        assert {status for status, _ in answers} == {200}
        assert len({transfer_id for _, transfer_id in answers}) == 1
        assert len(admin(fresh).request("GET", path).json["items"]) == 1


def _json(body: dict) -> str:
    import json

    return json.dumps(body, separators=(",", ":"))


# -- under the versions of 2024 and 2025 --------------------------------------------------


@pytest.mark.parametrize("version", ["2024-08-19", "2025-02-07"])
def test_the_wallets_exist_in_the_older_versions_with_their_body(version):
    with start_server(contract=version) as older:
        sender = Principals.admin(older)
        wallet = older.profile["walletId"]
        assert sender.request("GET", "/wallets/%s" % wallet).status == 200
        body = {"kind": "Native", "to": older.profile["transferTo"], "amount": "1", "externalId": "x"}
        assert sender.request("POST", "/wallets/%s/transfers" % wallet, body, sign=True).status == 200
        conflict = sender.request("POST", "/wallets/%s/transfers" % wallet, {**body, "amount": "2"}, sign=True)
        assert conflict.status == 409 and conflict.json == {"error": {"message": CONFLICT}}
        missing = sender.request("GET", "/wallets/" + UNKNOWN_WALLET)
        assert missing.status == 404 and missing.json == {"error": {"message": "wallet not found"}}
