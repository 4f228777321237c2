"""The retiring endpoints ``dfns-contract teardown`` uses: Archive Service Account and Delete Key.

Archive Service Account (2024 pages, ``service-account-management/archiveServiceAccount.md``): the account
is gone for the org and its token stops working; a second archive is a 404. Delete Key (dfns-docs-2026
lifecycle page): "Deletes the key and all wallets using this key": the wallet then reads as unknown, and a
second delete is a 404. Each with its control (the same read before the change succeeds).
"""

from __future__ import annotations

from dfns_contract.server.runner import start_server
from dfns_contract.wire import keys

from selftests.server.conftest import Principals
from selftests.server.today import TODAY, admin


def test_an_archived_service_account_is_gone_and_its_token_refused():
    with start_server() as server:
        boss = Principals.admin(server)
        key = keys.generate_key(keys.KeyKind.ED25519)
        made = boss.request("POST", "/auth/service-accounts", {"name": "sa-to-archive",
                                                               "publicKey": keys.public_pem(key)}, sign=True)
        assert made.status == 200, made.text
        account_id, token = made.json["userInfo"]["userId"], made.json["accessTokens"][0]["accessToken"]
        own = Principals.client(server, token)
        assert own.request("GET", "/auth/apps").status == 200  # the control: the token works before
        gone = boss.request("DELETE", "/auth/service-accounts/%s" % account_id, sign=True)
        assert gone.status == 200 and gone.json["userInfo"]["isActive"] is False, gone.text
        assert own.request("GET", "/auth/apps").status == 401
        assert boss.request("DELETE", "/auth/service-accounts/%s" % account_id, sign=True).status == 404
        # Not a way to archive a user: only service accounts.
        user_id = server.profile["limitedPrincipalId"]
        assert boss.request("DELETE", "/auth/service-accounts/%s" % user_id, sign=True).status == 404


def test_delete_key_retires_its_wallet():
    with start_server(contract=TODAY) as server:
        boss = admin(server)
        wallet = boss.request("POST", "/wallets", {"network": "EthereumSepolia"}, sign=True).json
        path = "/wallets/%s" % wallet["id"]
        assert boss.request("GET", path).status == 200  # the control
        deleted = boss.request("DELETE", "/keys/%s" % wallet["signingKey"]["id"], sign=True)
        assert deleted.status == 200 and deleted.json["id"] == wallet["signingKey"]["id"], deleted.text
        assert boss.request("GET", path).status == 404
        assert wallet["id"] not in {w["id"] for w in boss.request("GET", "/wallets").json["items"]}
        assert boss.request("DELETE", "/keys/%s" % wallet["signingKey"]["id"], sign=True).status == 404
        # The seeded wallet, on another key, is untouched.
        assert boss.request("GET", "/wallets/%s" % server.profile["walletId"]).status == 200
