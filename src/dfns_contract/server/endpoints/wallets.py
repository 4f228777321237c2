"""Wallets (api-docs/wallets): create, get and list wallets; transfer an asset; get and list transfers.

Served under every contract version, with the permissions the pages name
(``Wallets:Create``, ``Wallets:Read``, ``Wallets:TransferAsset``,
``Wallets:ReadTransfer``; ``Wallets:Tags:Add`` for tags at creation). A wallet
of another organisation is as unknown as one that does not exist: 404
``wallet not found``, whose details name the wallet and the caller's org; so
is a transfer (Get Transfer Request: 404 ``transfer not found``, whichever of
its wallet and itself is another org's or missing).

Transfer Asset is idempotent by ``externalId`` (advanced-topics/api-idempotency.md):
the same request again (same wallet, same body) answers 200 with the transfer
first created; the same ``externalId`` with another body or another wallet is
409 ``Conflicting transfer with same externalId``, ``details.duplicate``
naming the existing transfer. "Same body" is the whole body, every field;
an ``externalId`` is unique in the org, whichever wallet. The handler is
synchronous: the look-up and the record have no ``await`` between them, so of
two identical concurrent requests one creates the transfer and the other is
given it (only the fault duplicate-transfer-racy puts a wait there).

Under a ``Wallets:Sign`` policy (``dfns-mock --policy Wallets:Sign``, approvals.py)
a new transfer carries the ``approvalId`` of the approval it opened and stays
``Pending``, answered 200: the Transfer Asset page lists no other status.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import anyio

from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..stores import RACY_DELAY
from ..validation import Field, validate
from ..wallet_store import NETWORKS, Transfer, Wallet
from ..world import PrincipalKind, new_id
from .common import approval_if_held, page, require_operation, requester

#: The fields each kind of transfer needs besides ``kind`` (the page's request bodies).
TRANSFER_KINDS: dict[str, tuple[str, ...]] = {
    "Native": ("to", "amount"),
    "Asa": ("assetId", "to", "amount"),
    "Erc20": ("contract", "to", "amount"),
    "Erc721": ("contract", "to", "tokenId"),
    "Spl": ("mint", "to", "amount"),
    "Spl2022": ("mint", "to", "amount"),
    "Sep41": ("issuer", "assetCode", "to", "amount"),
    "Tep74": ("master", "to", "amount"),
    "Trc10": ("tokenId", "to", "amount"),
    "Trc20": ("contract", "to", "amount"),
    "Trc721": ("contract", "to", "tokenId"),
}
PRIORITIES = ("Slow", "Standard", "Fast")


# -- wallets ----------------------------------------------------------------------


def create_wallet(call: Call) -> dict[str, Any]:
    body, store = call.body, call.state.world.wallets
    if body.get("tags"):
        require_operation(call, "Wallets:Tags:Add")
    if not all(isinstance(tag, str) and tag for tag in body.get("tags", [])):
        raise bad_request("tags must be a list of non-empty strings", "tags")
    owner = _delegate(call, body.get("delegateTo"))
    wallet = store.create_wallet(call.user.org_id, body["network"], call.now, name=body.get("name"),
                                 tags=list(body.get("tags", [])), owner_id=owner,
                                 external_id=body.get("externalId"))
    return _wallet_json(call, wallet)


def get_wallet(call: Call) -> dict[str, Any]:
    if "other-org-wallet-readable" in call.state.faults:
        found = call.state.world.wallets.any_wallet(call.param("walletId"))
        if found is not None:
            return _wallet_json(call, found)  # the fault: no tenant check
    return _wallet_json(call, _wallet(call))


def _wallet_json(call: Call, wallet: Wallet) -> dict[str, Any]:
    """The wallet in the shape of the server's contract version (contracts.py ``sdk_shapes``)."""
    return wallet.to_json(sdk_shapes=call.state.contract.sdk_shapes)


#: The owner filters of List Wallets: ``owner`` (id or username), and the deprecated ``ownerId`` and
#: ``ownerUsername`` that today's clients may still send (ListWalletsQuery, @dfns/sdk 0.8.12).
OWNER_FILTERS = ("owner", "ownerId", "ownerUsername")


def list_wallets(call: Call) -> dict[str, Any]:
    """The org's wallets, narrowed by every owner filter the query gives (each must hold)."""
    wallets = call.state.world.wallets.wallets_of(call.user.org_id)
    query = call.request.query_params
    for name in OWNER_FILTERS:
        if name in query:
            owner = _owner_named(call, name, query[name])
            wallets = [w for w in wallets if w.owner_id is not None and w.owner_id == owner]
    return page(call, wallets, lambda w: w.wallet_id, lambda w: _wallet_json(call, w))


def _owner_named(call: Call, filter_name: str, value: str) -> str | None:
    """The id of the org's principal a filter names (None: nobody, so no wallet matches).

    ``ownerId`` is an id and ``ownerUsername`` a username; ``owner`` is "owner id or username",
    so an id of the org's principal is taken as one, anything else as a username.
    """
    world, org_id = call.state.world, call.user.org_id
    if filter_name == "ownerId":
        return value
    by_id = world.find_principal(value) if filter_name == "owner" else None
    if by_id is not None and by_id.org_id == org_id:
        return by_id.principal_id
    by_name = world.find_user(org_id, value)
    return by_name.principal_id if by_name is not None else None


def _wallet(call: Call) -> Wallet:
    wallet_id = call.param("walletId")
    wallet = call.state.world.wallets.wallet_of(call.user.org_id, wallet_id)
    if wallet is None:
        details = {} if "wallet-404-without-details" in call.state.faults else {"walletId": wallet_id,
                                                                                  "orgId": call.user.org_id}
        raise ApiError(ErrorId.WALLET_NOT_FOUND, details=details)
    return wallet


def _delegate(call: Call, user_id: str | None) -> str | None:
    """``delegateTo``: an end user of the org, who then owns the wallet."""
    if user_id is None:
        return None
    user = call.state.world.find_principal(user_id)
    if user is None or user.org_id != call.user.org_id or user.kind is not PrincipalKind.END_USER:
        raise bad_request("delegateTo must be the id of an end user of the org", "delegateTo")
    return user.principal_id


# -- transfers --------------------------------------------------------------------


def transfer_asset(call: Call) -> dict[str, Any] | Awaitable[dict[str, Any]]:
    """The transfer first made with the request's ``externalId`` if this is the same request, a 409 if
    another, else a new transfer; checked and recorded with no ``await`` between (see the module)."""
    wallet, body = _wallet(call), call.body
    _check_transfer(wallet, body)
    if "duplicate-transfer-racy" in call.state.faults:
        return _transfer_slowly(call, wallet, body)
    first = _made_by_the_same_request(call, wallet, body)
    return (first if first is not None else _record_transfer(call, wallet, body)).to_json()


async def _transfer_slowly(call: Call, wallet: Wallet, body: dict[str, Any]) -> dict[str, Any]:
    """Fault duplicate-transfer-racy: a slow store, with a wait between the check and the record."""
    first = _made_by_the_same_request(call, wallet, body)
    if first is not None:
        return first.to_json()
    await anyio.sleep(RACY_DELAY)
    return _record_transfer(call, wallet, body).to_json()


def _made_by_the_same_request(call: Call, wallet: Wallet, body: dict[str, Any]) -> Transfer | None:
    """The transfer the same request (same wallet, same body) made before, to answer again; None if its
    ``externalId`` is new (or it has none); 409 if the ``externalId`` was used by another request."""
    external_id, faults = body.get("externalId"), call.state.faults
    if external_id is None:
        return None
    first = call.state.world.wallets.by_external_id(_external_id_scope(call, wallet), external_id)
    if first is None:
        return None
    if _is_same_request(call, first, wallet, body):
        return None if "duplicate-transfer-created-twice" in faults else first
    if "conflict-accepted" in faults:
        return None
    duplicate = {"id": first.transfer_id, "externalId": external_id}
    details = {} if "conflict-without-duplicate" in faults else {"duplicate": duplicate}
    raise ApiError(ErrorId.TRANSFER_CONFLICT, details=details)


def _is_same_request(call: Call, first: Transfer, wallet: Wallet, body: dict[str, Any]) -> bool:
    """Same wallet and the whole body equal (kind, to, amount, any other field, the ``externalId``)."""
    if first.wallet_id != wallet.wallet_id:
        return False
    if "conflict-compares-amount-only" in call.state.faults:
        return first.request_body.get("amount") == body.get("amount")
    return first.request_body == body


def _external_id_scope(call: Call, wallet: Wallet) -> str:
    """Where an ``externalId`` is unique: the org (the fault external-id-per-wallet: the wallet)."""
    return wallet.wallet_id if "external-id-per-wallet" in call.state.faults else wallet.org_id


def _record_transfer(call: Call, wallet: Wallet, body: dict[str, Any]) -> Transfer:
    transfer = Transfer(new_id("xfr"), wallet.wallet_id, wallet.org_id, wallet.network, requester(call),
                        dict(body), call.now)
    approval = approval_if_held(call, "Wallets:Sign", lambda: {"transferRequest": transfer.to_json()})
    if approval is not None:
        transfer.approval_id = approval.approval_id
    return call.state.world.wallets.record(transfer, _external_id_scope(call, wallet))


def get_transfer(call: Call) -> dict[str, Any]:
    """The transfer of the org's wallet; of a wallet unknown or another org's, as unknown as a missing one
    (404 ``transfer not found``: the answer does not tell which of the two ids it did not find)."""
    wallet_id, transfer_id = call.param("walletId"), call.param("transferId")
    store = call.state.world.wallets
    if "other-org-transfer-readable" in call.state.faults:
        wallet = store.any_wallet(wallet_id)  # the fault: found by its ids alone, whatever the org
    else:
        wallet = store.wallet_of(call.user.org_id, wallet_id)
    transfer = store.transfer(wallet, transfer_id) if wallet is not None else None
    if transfer is None:
        raise ApiError(ErrorId.TRANSFER_NOT_FOUND, details={
            "walletId": wallet_id, "transferId": transfer_id, "orgId": call.user.org_id})
    return transfer.to_json()


def list_transfers(call: Call) -> dict[str, Any]:
    wallet = _wallet(call)
    transfers = call.state.world.wallets.transfers_of(wallet)
    return {"walletId": wallet.wallet_id,
            **page(call, transfers, lambda t: t.transfer_id, Transfer.to_json)}


def _check_transfer(wallet: Wallet, body: dict[str, Any]) -> None:
    """The kind's own fields (400 naming the first wrong one), from a wallet that can transfer."""
    address = NETWORKS[wallet.network].address
    if address is None:
        raise bad_request("a wallet of a pseudo network cannot transfer assets", "walletId")
    validate(body, [Field(name) for name in TRANSFER_KINDS[body["kind"]]])
    if not address.accepts(body["to"]):
        raise bad_request("to must be an address on %s" % wallet.network, "to")
    if "amount" in body and not body["amount"].isdigit():
        raise bad_request("amount must be a whole number in the minimum denomination", "amount")


_ONE = "/wallets/{walletId}"
_TRANSFERS = _ONE + "/transfers"

ENDPOINTS = (
    Endpoint(
        "POST",
        "/wallets",
        create_wallet,
        operation="Wallets:Create",
        user_action=True,
        fields=(
            Field("network", choices=tuple(NETWORKS)),
            Field("name", required=False, allow_empty=True),
            Field("tags", list, required=False),
            Field("delayDelegation", bool, required=False),
            Field("delegateTo", required=False),
            Field("externalId", required=False),
        ),
    ),
    Endpoint("GET", "/wallets", list_wallets, operation="Wallets:Read"),
    Endpoint("GET", _ONE, get_wallet, operation="Wallets:Read"),
    Endpoint(
        "POST",
        _TRANSFERS,
        transfer_asset,
        operation="Wallets:TransferAsset",
        user_action=True,
        fields=(
            Field("kind", choices=tuple(TRANSFER_KINDS)),
            Field("priority", required=False, choices=PRIORITIES),
            Field("memo", required=False, allow_empty=True),
            Field("externalId", required=False),
            Field("createDestinationAccount", bool, required=False),
        ),
    ),
    Endpoint("GET", _TRANSFERS, list_transfers, operation="Wallets:ReadTransfer"),
    Endpoint("GET", _TRANSFERS + "/{transferId}", get_transfer, operation="Wallets:ReadTransfer"),
)
