"""The ``2026`` version: today's error body on every error, its statuses, and no nonce or app id.

Every request here is sent as today's reference says (selftests/server/today.py):
no ``X-DFNS-NONCE``, no ``X-DFNS-APPID``, no origin in client data.
"""

from __future__ import annotations

from collections.abc import Iterator

import json

import pytest

from dfns_contract.client import DfnsClient
from dfns_contract.client.exchange import FlowError
from dfns_contract.server.contracts import CONTRACTS, faults_judged_by, judged_by
from dfns_contract.server.faults import FAULTS, FaultKind
from dfns_contract.server.runner import RunningServer, start_server

from selftests.server import raw_http
from selftests.server.conftest import Principals
from selftests.server.today import (
    NOT_AUTHENTICATED,
    TODAY,
    UNKNOWN_APP,
    UNKNOWN_WALLET,
    admin,
    checked_error,
    client,
    error_of,
    limited,
)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract=TODAY) as running:
        yield running


def _activate_other_app(sender: DfnsClient, server: RunningServer, **kwargs) -> object:
    return sender.request("PUT", "/auth/apps/%s/activate" % server.profile["otherAppId"], **kwargs)


def test_a_request_without_nonce_and_app_id_is_served(server):
    got = admin(server).request("GET", "/auth/apps")
    assert got.status == 200, got.text
    sent = {name.lower() for name in got.request_headers}
    assert "x-dfns-nonce" not in sent and "x-dfns-appid" not in sent


@pytest.mark.parametrize("headers", [
    {"X-DFNS-NONCE": "not-a-nonce", "X-DFNS-APPID": "not-an-app"},
    {"X-DFNS-NONCE": "", "X-DFNS-APPID": UNKNOWN_APP},
])
def test_nonce_and_app_id_are_not_read_however_malformed(server, headers):
    assert admin(server).request("GET", "/auth/apps", headers=headers).status == 200


def test_a_nonce_may_be_sent_twice(server):
    sender = Principals.admin(server)
    for _ in range(2):
        assert sender.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": "same"}).status == 200


def test_the_org_is_the_tokens_principals(server):
    """Without an app id, another org's valid token acts in its own org: it sees its apps, not ours."""
    other = client(server, server.profile["otherOrgAuthToken"])
    got = other.request("GET", "/auth/apps")
    assert got.status == 200
    assert {app["orgId"] for app in got.json["items"]} == {server.state.seeded.other_org.org_id}
    error_of(other.request("GET", "/auth/apps/%s" % server.profile["appId"]), 404)


def test_the_flows_need_no_nonce_app_id_origin_or_user_action(server):
    p = server.profile
    signer = admin(server).signer
    user = client(server, signer=signer)
    token = user.login(p["registeredUsername"], p["orgId"])
    logged_in = client(server, token, signer)
    assert logged_in.request("GET", "/auth/apps").status == 200
    got = logged_in.request("PUT", "/auth/apps/%s/activate" % p["otherAppId"], sign=True)
    assert got.status == 200, got.text


def test_registration_takes_the_relying_party_of_the_users_org(server):
    from dfns_contract.wire import keys

    p = server.profile
    key = keys.generate_key(keys.KeyKind.ED25519)
    done = client(server).register(p["pendingUsername"], p["pendingRegistrationCode"], p["orgId"],
                                   keys.private_pem(key), "cred-2026")
    assert done["user"]["orgId"] == p["orgId"]


# -- every kind of error, in today's body -----------------------------------------------

NO_TOKEN = {"Authorization": None}


@pytest.mark.parametrize("authorization", [
    None, "Token x", "Bearer", "Bearer not-a-jwt",
])
def test_401_when_the_token_is_missing_or_malformed(server, authorization):
    got = admin(server).request("GET", "/auth/apps", headers={"Authorization": authorization})
    assert error_of(got, 401)["message"] == NOT_AUTHENTICATED


def test_401_when_the_token_has_expired(server):
    got = client(server, server.profile["expiredAuthToken"]).request("GET", "/auth/apps")
    assert error_of(got, 401)["details"] == {}


def test_403_for_a_state_changing_request_without_a_user_action(server):
    error = error_of(_activate_other_app(admin(server), server), 403)
    assert error["message"] == "user action signature is missing or invalid"


def test_403_for_a_user_action_already_used(server):
    sender = admin(server)
    path = "/auth/apps/%s/activate" % server.profile["otherAppId"]
    token = sender.user_action("PUT", path, "{}")
    assert sender.request("PUT", path, headers={"X-DFNS-USERACTION": token}).status == 200
    error = error_of(sender.request("PUT", path, headers={"X-DFNS-USERACTION": token}), 403)
    assert error["message"] == "user action signature is missing or invalid"


def test_403_for_a_caller_without_the_permission(server):
    error = error_of(_activate_other_app(limited(server), server, sign=True), 403)
    assert error["details"] == {"principalId": server.profile["limitedPrincipalId"],
                                "operation": "Auth:Apps:Update"}


def test_400_for_malformed_json_names_the_body(server):
    got = admin(server).send("POST", "/auth/action/init",
                             {"Authorization": "Bearer " + server.profile["authToken"],
                              "Content-Type": "application/json"}, b"{not json")
    assert error_of(got, 400)["details"] == {"parameter": "body"}


@pytest.mark.parametrize("body, parameter", [
    ({"userActionHttpMethod": "GET", "userActionHttpPath": "/auth/apps"}, "userActionPayload"),
    ({"userActionPayload": "{}", "userActionHttpMethod": 7, "userActionHttpPath": "/x"}, "userActionHttpMethod"),
])
def test_400_for_a_missing_field_or_a_wrong_type_names_it(server, body, parameter):
    error = error_of(admin(server).request("POST", "/auth/action/init", body), 400)
    assert error["details"] == {"parameter": parameter} and parameter in error["message"]


@pytest.mark.parametrize("path, message, key", [
    ("/auth/apps/" + UNKNOWN_APP, "application not found", "appId"),
    ("/auth/users/us-00000-00000-0000000000000000", "user not found", "userId"),
    ("/wallets/" + UNKNOWN_WALLET, "wallet not found", "walletId"),
    ("/wallets/{walletId}/transfers/xfr-00000-00000-0000000000000000", "transfer not found", "transferId"),
])
def test_404_for_what_does_not_exist_names_it_and_the_org(server, path, message, key):
    got = admin(server).request("GET", path.format(**server.profile))
    error = error_of(got, 404)
    assert error["message"] == message
    assert error["details"][key] == path.format(**server.profile).rsplit("/", 1)[1]
    assert error["details"]["orgId"] == server.profile["orgId"]


def test_a_known_user_is_found(server):
    got = admin(server).request("GET", "/auth/users/%s" % server.profile["endUserId"])
    assert got.status == 200 and got.json["userId"] == server.profile["endUserId"]


def test_the_servers_own_errors_are_in_todays_body(server):
    sender = admin(server)
    assert error_of(sender.request("GET", "/no/such/route"), 404)["message"] == "Not Found"
    assert error_of(sender.request("PATCH", "/auth/apps"), 405)["message"] == "Method Not Allowed"
    too_large = sender.send("POST", "/auth/action/init", {"Content-Type": "application/json"},
                            b"{" + b" " * server.state.settings.max_body_bytes + b"}")
    error_of(too_large, 413)


@pytest.mark.parametrize("data, status", [
    (b"NOT HTTP AT ALL\r\n\r\n", 400),
    (b"GET /auth/apps HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431),
])
def test_the_connection_layers_errors_are_in_todays_body(server, data, status):
    answer = raw_http.exchange(server.url, data)
    assert answer.status == status
    checked_error(answer.json["error"], status)


def test_the_500_is_in_todays_body():
    with start_server(contract=TODAY, faults=["malformed-json-500"]) as broken:
        got = admin(broken).send("POST", "/auth/action/init",
                                 {"Authorization": "Bearer " + broken.profile["authToken"]}, b"{")
        error_of(got, 500)


def test_error_ids_differ_per_response(server):
    sender = admin(server)
    ids = {error_of(sender.request("GET", "/wallets/" + UNKNOWN_WALLET), 404)["id"] for _ in range(3)}
    assert len(ids) == 3


# -- the version as data --------------------------------------------------------------


def test_2026_is_a_version_of_the_server():
    assert list(CONTRACTS)[-1] == TODAY
    version = CONTRACTS[TODAY]
    assert not version.requires_nonce and not version.requires_app_id


def test_a_2026_suite_judges_its_faults_and_the_older_ones_it_can_see():
    judged = set(faults_judged_by(TODAY))
    assert {"auth-off", "auth-alg-none", "token-expiry-unchecked", "forbidden-off", "useraction-check-off",
            "nonce-required-2026", "conflict-message", "gzip"} <= judged
    assert not {"nonce-check-off", "nonce-replay-off", "token-any-org", "selfstate-off",
                "useraction-reuse-status", "login-code-reusable"} & judged
    assert {name for name, f in FAULTS.items() if f.kind is FaultKind.BENIGN} <= judged


def test_the_2026_faults_are_not_judged_by_the_older_suites():
    only_today = {name for name in FAULTS if judged_by(name) == (TODAY,)}
    assert {"duplicate-transfer-created-twice", "envelope-2024", "nonce-required-2026"} <= only_today
    for version in ("2024-08-19", "2024-08-19-extended", "2025-02-07"):
        assert not only_today & set(faults_judged_by(version))


def test_every_fault_is_judged_by_some_version_oldest_first():
    """A switch no catalog names would never be run by the mutation matrix: a fault nobody checks."""
    versions = list(CONTRACTS)
    for name in FAULTS:
        judges = judged_by(name)
        assert judges, "no catalog names the switch %r (schemas/contracts/*.json: faults or server.faults)" % name
        assert list(judges) == sorted(judges, key=versions.index), name


def test_the_catalogs_name_only_switches_and_rows_the_server_has(tmp_path, monkeypatch):
    from dfns_contract.server import contracts

    assert set(contracts.switches_named_by()) == set(CONTRACTS)
    broken = tmp_path / "contracts"
    broken.mkdir()
    (broken / "x.json").write_text(json.dumps({"version": "x", "faults": ["no-such-switch"], "errors": []}))
    monkeypatch.setattr(contracts, "_catalogs_folder", lambda: broken)
    contracts.switches_named_by.cache_clear()
    try:
        with pytest.raises(contracts.CatalogLinkError, match="no-such-switch"):
            contracts.switches_named_by()
        (broken / "x.json").write_text(json.dumps({"version": "x", "errors": [
            {"id": "e", "server": {"error": "NoSuchRow"}}]}))
        with pytest.raises(contracts.CatalogLinkError, match="NoSuchRow"):
            contracts.switches_named_by()
    finally:
        contracts.switches_named_by.cache_clear()


def test_delegated_login_is_a_flow_and_needs_no_user_action(server):
    from selftests.server.flows import service_account

    account = service_account(server)
    got = account.request("POST", "/auth/login/delegated", {"username": server.profile["registeredUsername"]},
                          headers={"X-DFNS-NONCE": None, "X-DFNS-APPID": None})
    assert got.status == 200 and got.json["token"]
    with start_server() as first_edit:
        got = service_account(first_edit).request(
            "POST", "/auth/login/delegated", {"username": first_edit.profile["registeredUsername"]})
        assert got.status == 403


@pytest.mark.parametrize("origin, signs", [("appOrigin", True), ("https://elsewhere.example", False)],
                         ids=["the-orgs-origin", "another-site"])
def test_the_first_app_switched_off_does_not_move_where_the_org_signs(origin: str, signs: bool):
    """With no app id, signatures are judged by the org's first app's origin, whether it is switched on or
    not: the first page's suite switches it off for a moment (app-modifies-own-state) while its other process
    signs. The control: a signature made for another site is still refused."""
    with start_server(contract=TODAY) as server:
        p = server.profile
        sender = admin(server)
        assert sender.request("PUT", "/auth/apps/%s/deactivate" % p["appId"], sign=True).status == 200
        sender.app_origin = p["appOrigin"] if origin == "appOrigin" else origin
        if signs:
            signed = sender.request("PUT", "/auth/apps/%s/activate" % p["appId"], sign=True)
            assert signed.status == 200, signed.text
        else:
            with pytest.raises(FlowError) as refused:
                sender.request("PUT", "/auth/apps/%s/activate" % p["appId"], sign=True)
            error_of(refused.value.exchange, 401)  # Create User Action Signature refused the origin
