"""Another organisation's resources are as unknown to this org as ids that do not exist, in every version.

The seeded second organisation has an application, a wallet, a transfer of
that wallet and an end user (profile ``otherOrg*``): its admin reads each with
200, and this org's admin gets the 404 an unknown id of the same kind gets,
the same status and message. Under the older versions the clients send a
nonce and their own org's app id; under 2026 neither.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dfns_contract.client import DfnsClient
from dfns_contract.server.contracts import CONTRACTS
from dfns_contract.server.runner import RunningServer, start_server

from selftests.server.conftest import Principals
from selftests.server.today import TODAY, UNKNOWN_APP, UNKNOWN_USER, UNKNOWN_WALLET, admin, client

UNKNOWN_TRANSFER = "xfr-00000-00000-0000000000000000"

#: Each kind: the path of the other org's resource, that of an unknown id of the kind, its 404 message.
KINDS = {
    "wallet": ("/wallets/{otherOrgWalletId}", "/wallets/" + UNKNOWN_WALLET, "wallet not found"),
    "transfer": ("/wallets/{otherOrgWalletId}/transfers/{otherOrgTransferId}",
                 "/wallets/{walletId}/transfers/" + UNKNOWN_TRANSFER, "transfer not found"),
    "user": ("/auth/users/{otherOrgUserId}", "/auth/users/" + UNKNOWN_USER, "user not found"),
    "app": ("/auth/apps/{otherOrgAppId}", "/auth/apps/" + UNKNOWN_APP, "application not found"),
}
#: What the owner's answer says its resource is: the key of the id in the JSON, the profile key.
OWN_ID = {"wallet": ("id", "otherOrgWalletId"), "transfer": ("id", "otherOrgTransferId"),
          "user": ("userId", "otherOrgUserId"), "app": ("appId", "otherOrgAppId")}


@pytest.fixture(scope="module", params=list(CONTRACTS))
def server(request) -> Iterator[RunningServer]:
    with start_server(contract=request.param) as running:
        yield running


def ours(server: RunningServer) -> DfnsClient:
    """This org's admin, as a client of the server's version speaks."""
    return admin(server) if server.state.contract.name == TODAY else Principals.admin(server)


def owner(server: RunningServer) -> DfnsClient:
    """The other org's admin, through its own org's application where the version takes an app id."""
    p = server.profile
    if server.state.contract.name == TODAY:
        return client(server, p["otherOrgAuthToken"])
    return DfnsClient(server.url, p["otherOrgAppId"], auth_token=p["otherOrgAuthToken"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_owner_reads_its_resource(server, kind):
    path = KINDS[kind][0].format(**server.profile)
    got = owner(server).request("GET", path)
    assert got.status == 200, got.text
    key, profile_key = OWN_ID[kind]
    assert got.json[key] == server.profile[profile_key]


def test_the_other_orgs_transfer_is_of_its_wallet(server):
    path = KINDS["transfer"][0].format(**server.profile)
    assert owner(server).request("GET", path).json["walletId"] == server.profile["otherOrgWalletId"]


@pytest.mark.parametrize("kind", list(KINDS))
def test_another_orgs_resource_is_an_unknown_id_of_its_kind(server, kind):
    foreign_path, unknown_path, message = KINDS[kind]
    foreign = ours(server).request("GET", foreign_path.format(**server.profile))
    unknown = ours(server).request("GET", unknown_path.format(**server.profile))
    assert foreign.status == unknown.status == 404, foreign.text
    assert foreign.json["error"]["message"] == unknown.json["error"]["message"] == message


def test_under_2026_the_details_name_the_id_asked_for_and_our_org():
    with start_server(contract=TODAY) as today:
        p = today.profile
        for kind, key in (("wallet", "walletId"), ("transfer", "transferId"), ("user", "userId"),
                          ("app", "appId")):
            path = KINDS[kind][0].format(**p)
            details = admin(today).request("GET", path).json["error"]["details"]
            assert details[key] == path.rsplit("/", 1)[1] and details["orgId"] == p["orgId"], kind
