"""What the selftests of the new flows share: requests of the flows, and the answers the page documents."""

from __future__ import annotations

from dfns_contract.client import DfnsClient, Exchange, KeySigner
from dfns_contract.server.runner import RunningServer

from selftests.server.conftest import Principals

EXTENDED, FIRST, LATEST = "2024-08-19-extended", "2024-08-19", "2025-02-07"
DEACTIVATED = (400, "User account has been deactivated.")
UNKNOWN = (401, "User not found")
NO_CREDENTIAL = (401, "User does not have a credential that can be used for the application.")
INVALID_CODE = (403, "Invalid code")
CHALLENGE_INVALID = (400, "Challenge token is not valid.")
NOT_RECOVERY = (401, "Credential cannot be used as a recovery factor.")
NOT_AUTHORIZED = (401, "Not Authorized.")



def answer(exchange: Exchange) -> tuple[int, str]:
    return exchange.status, exchange.json["error"]["message"]


def service_account(server: RunningServer) -> DfnsClient:
    p = server.profile
    return Principals.client(server, p["serviceAccountAuthToken"],
                             KeySigner(p["serviceAccountCredId"], p["serviceAccountPrivateKey"]))


def delegated_login(server: RunningServer, username: str) -> Exchange:
    return service_account(server).request("POST", "/auth/login/delegated", {"username": username}, sign=True)


def login_init(server: RunningServer, username: str, **extra: str) -> Exchange:
    body = {"username": username, "orgId": server.profile["orgId"], **extra}
    return Principals.client(server).request("POST", "/auth/login/init", body, auth=False)


def as_user(server: RunningServer, username: str) -> DfnsClient:
    got = delegated_login(server, username)
    assert got.status == 200, got.text
    return Principals.client(server, got.json["token"])


def action_init(client: DfnsClient) -> Exchange:
    body = {"userActionPayload": "{}", "userActionHttpMethod": "GET", "userActionHttpPath": "/auth/apps"}
    return client.request("POST", "/auth/action/init", body)


def mailed_code(server: RunningServer, username: str, kind: str) -> str:
    got = Principals.client(server).session.get("%s/sandbox/mailbox/%s/%s-code" % (server.url, username, kind))
    assert got.status_code == 200, got.text
    return got.json()["code"]
