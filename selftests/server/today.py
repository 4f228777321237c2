"""What the selftests of the ``2026`` version (today's API reference) share.

Its clients send what today's required headers are and nothing more:
``Authorization`` and, for a state-changing request, ``X-DFNS-USERACTION``;
no ``X-DFNS-NONCE``, no ``X-DFNS-APPID``, and client data without an
``origin``, in every request of every flow (login, user action signing).
``error_of`` checks the 2026 error body and returns its ``error`` object.
"""

from __future__ import annotations

from typing import Any

from dfns_contract.client import DfnsClient, Exchange, KeySigner
from dfns_contract.server.runner import RunningServer

TODAY = "2026"
NOT_AUTHENTICATED = "user token is missing or invalid"
UNKNOWN_APP = "ap-00000-00000-0000000000000000"
UNKNOWN_WALLET = "wa-00000-00000-0000000000000000"
UNKNOWN_USER = "us-00000-00000-0000000000000000"


class TodaysClient(DfnsClient):
    """A client of today's reference: no nonce (and, made with ``app_id=None``, no app id)."""

    def headers(self, *, auth: bool = True) -> dict[str, str]:
        headers = super().headers(auth=auth)
        del headers[self.spelling("X-DFNS-NONCE")]
        return headers


def client(server: RunningServer, token: str | None = None, signer: KeySigner | None = None) -> TodaysClient:
    return TodaysClient(server.url, None, auth_token=token, signer=signer)


def admin(server: RunningServer) -> TodaysClient:
    p = server.profile
    return client(server, p["authToken"], KeySigner(p["credId"], p["privateKey"]))


def limited(server: RunningServer) -> TodaysClient:
    p = server.profile
    return client(server, p["limitedAuthToken"], KeySigner(p["limitedCredId"], p["limitedPrivateKey"]))


def error_of(exchange: Exchange, status: int) -> dict[str, Any]:
    """The ``error`` object of a 2026 error answer with this HTTP status, its shape checked."""
    assert exchange.status == status, exchange.text
    assert exchange.response.headers["content-type"].split(";")[0] == "application/json"
    body = exchange.json
    assert set(body) == {"error"}, body
    return checked_error(body["error"], status)


def checked_error(error: Any, status: int) -> dict[str, Any]:
    assert isinstance(error, dict) and set(error) == {"id", "status", "message", "details"}, error
    assert isinstance(error["id"], str) and error["id"], error
    assert error["status"] == status and type(error["status"]) is int, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], dict), error
    return error


def transfer_body(server: RunningServer, **extra: str) -> dict[str, str]:
    """A native transfer of 1 unit from the seeded wallet to the profile's address."""
    return {"kind": "Native", "to": server.profile["transferTo"], "amount": "1", **extra}


def transfer(sender: DfnsClient, wallet_id: str, body: dict[str, Any]) -> Exchange:
    return sender.request("POST", "/wallets/%s/transfers" % wallet_id, body, sign=True)
