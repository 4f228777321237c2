"""Wallets and their transfer requests (api-docs/wallets), as the reference server keeps them.

Plain in-memory objects, touched only from synchronous handlers, like world.py.
What the pages say a wallet and a transfer look like is ``to_json``; which
networks exist, which key each signs with and what an address on it looks
like is data (``NETWORKS``, read from ``data/networks.json``, which names where
its list comes from): the server never moves an asset, so an address is random
and a transfer stays ``Pending``.

Transfers are found by id (per wallet) and by ``externalId`` in a scope: the
API idempotency page makes an ``externalId`` unique in its org, whichever
wallet it was used with, so the scope is the org's id (a fault makes it the
wallet's). ``WalletStore.record`` indexes both in one call, so a handler that
looks an ``externalId`` up and records a new transfer with no ``await``
between cannot let two concurrent requests create two.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from ..wire.nonce import iso_now
from .ids import new_id


@dataclass(frozen=True)
class AddressKind:
    """What an address on a network looks like: a prefix, then ``length`` characters of ``alphabet``."""

    prefix: str
    alphabet: str
    length: int

    def make(self) -> str:
        return self.prefix + "".join(secrets.choice(self.alphabet) for _ in range(self.length))

    def accepts(self, text: str) -> bool:
        return re.fullmatch(re.escape(self.prefix) + "[%s]{%d}" % (re.escape(self.alphabet), self.length),
                            text) is not None


@dataclass(frozen=True)
class Network:
    """What a wallet on a network signs with, and what its addresses look like (None: it has none)."""

    scheme: str
    curve: str
    address: AddressKind | None


_HEX = "0123456789abcdef"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: EVM networks: 0x and 40 hex digits (lower case, as the pages' examples).
EVM_ADDRESS = AddressKind("0x", _HEX + "ABCDEF", 40)
#: Any other chain: a base58 string of a typical length (the server only stores it).
OTHER_ADDRESS = AddressKind("", _BASE58, 44)

#: The address kinds ``data/networks.json`` names.
ADDRESS_KINDS: dict[str, AddressKind] = {"evm": EVM_ADDRESS, "base58": OTHER_ADDRESS}
#: The one file that says which networks exist, and where that list was read from.
NETWORKS_FILE = "networks.json"


def load_networks(document: dict[str, Any]) -> dict[str, Network]:
    """The networks a ``networks.json`` document declares, in its order; a name declared twice is an error."""
    networks: dict[str, Network] = {}
    for group in document["groups"]:
        address = None if group["address"] is None else ADDRESS_KINDS[group["address"]]
        for name in group["names"]:
            if name in networks:
                raise ValueError("network %s is declared twice in %s" % (name, NETWORKS_FILE))
            networks[name] = Network(group["scheme"], group["curve"], address)
    return networks


def networks_document() -> dict[str, Any]:
    """The packaged ``data/networks.json``: read from the package, so an installed server has it too."""
    text = (resources.files(__package__) / "data" / NETWORKS_FILE).read_text(encoding="utf-8")
    return json.loads(text)


#: A scheme of ``data/networks.json`` as today's Wallet type names it (GetWalletResponse, @dfns/sdk 0.8.21).
TODAY_SCHEMES = {"ECDSAStark": "ECDSA"}

#: Every network a wallet may be on: the chains (mainnets, testnets) and the pseudo networks (no address).
NETWORKS: dict[str, Network] = load_networks(networks_document())


@dataclass
class Wallet:
    wallet_id: str
    org_id: str
    network: str
    date_created: datetime
    name: str | None = None
    address: str | None = None
    public_key: str = field(default_factory=lambda: secrets.token_hex(33))
    tags: list[str] = field(default_factory=list)
    #: The end user it is delegated to (``delegateTo``); None: the org's own (custodial).
    owner_id: str | None = None
    status: str = "Active"
    #: The key the wallet signs with (``signingKey.id``, ``key-…``): one key per wallet here, which Delete Key
    #: (``DELETE /keys/{keyId}``) deletes with every wallet using it.
    key_id: str = field(default_factory=lambda: new_id("key"))
    date_deleted: datetime | None = None
    #: Create Wallet's ``externalId``, kept as sent ("correlate the entity with an external system").
    external_id: str | None = None

    def to_json(self, sdk_shapes: bool = False) -> dict[str, Any]:
        """The wallet of the 2024 pages; ``sdk_shapes``: today's (GetWalletResponse, @dfns/sdk 0.8.21),
        whose ``signingKey`` names its key and the end user it is delegated to, with the ``externalId``."""
        scheme, curve = NETWORKS[self.network].scheme, NETWORKS[self.network].curve
        signing_key: dict[str, Any] = {"scheme": scheme, "curve": curve, "publicKey": self.public_key}
        body: dict[str, Any] = {
            "id": self.wallet_id,
            "network": self.network,
            "status": self.status,
            "signingKey": signing_key,
            "dateCreated": iso_now(self.date_created),
            "custodial": self.owner_id is None,
            "tags": list(self.tags),
        }
        if self.name is not None:
            body["name"] = self.name
        if self.address is not None:
            body["address"] = self.address
        if self.date_deleted is not None:
            body["dateDeleted"] = iso_now(self.date_deleted)
        if sdk_shapes:
            # The SDK's schemes are DH, ECDSA, EdDSA, Schnorr: a Stark key is ECDSA on the curve ``stark``.
            signing_key["scheme"] = TODAY_SCHEMES.get(scheme, scheme)
            signing_key["id"] = self.key_id
            if self.owner_id is not None:
                signing_key["delegatedTo"] = self.owner_id
            if self.external_id is not None:
                body["externalId"] = self.external_id
        return body


@dataclass
class Transfer:
    transfer_id: str
    wallet_id: str
    org_id: str
    network: str
    requester: dict[str, str]
    #: The body as sent: what an identical request is recognised by (idempotency).
    request_body: dict[str, Any]
    date_requested: datetime
    status: str = "Pending"
    #: The approval a ``Wallets:Sign`` policy opened for it ("if this transfer triggered a policy").
    approval_id: str | None = None

    @property
    def external_id(self) -> str | None:
        value = self.request_body.get("externalId")
        return value if isinstance(value, str) else None

    def to_json(self) -> dict[str, Any]:
        """The transfer request of the pages; ``metadata.asset`` is empty: the server knows no asset's symbol,
        decimals or price (every field of it is optional in TransferRequest, @dfns/sdk 0.8.21)."""
        body: dict[str, Any] = {
            "id": self.transfer_id,
            "walletId": self.wallet_id,
            "network": self.network,
            "requester": dict(self.requester),
            "requestBody": dict(self.request_body),
            "metadata": {"asset": {}},
            "dateRequested": iso_now(self.date_requested),
            "status": self.status,
        }
        if self.external_id is not None:
            body["externalId"] = self.external_id
        if self.approval_id is not None:
            body["approvalId"] = self.approval_id
        return body


class WalletStore:
    """Every org's wallets and transfer requests. Lookups return ``None``: the handler chooses the error."""

    def __init__(self) -> None:
        self.wallets: dict[str, Wallet] = {}
        self._transfers: dict[str, dict[str, Transfer]] = {}
        self._by_external_id: dict[tuple[str, str], Transfer] = {}

    def create_wallet(self, org_id: str, network: str, now: datetime, **fields: Any) -> Wallet:
        kind = NETWORKS[network].address
        wallet = Wallet(new_id("wa"), org_id, network, now, address=kind.make() if kind else None, **fields)
        self.wallets[wallet.wallet_id] = wallet
        self._transfers[wallet.wallet_id] = {}
        return wallet

    def wallet_of(self, org_id: str, wallet_id: str) -> Wallet | None:
        """The wallet, if it belongs to ``org_id`` (another org's is as unknown as a missing one)."""
        wallet = self.wallets.get(wallet_id)
        return wallet if wallet is not None and wallet.org_id == org_id and wallet.date_deleted is None else None

    def any_wallet(self, wallet_id: str) -> Wallet | None:
        """The wallet, whichever org's: only the faults that skip the tenant check look here."""
        return self.wallets.get(wallet_id)

    def wallets_of(self, org_id: str) -> list[Wallet]:
        """The org's wallets, oldest first."""
        return [w for w in self.wallets.values() if w.org_id == org_id and w.date_deleted is None]

    def delete_key(self, org_id: str, key_id: str, now: datetime) -> list[Wallet]:
        """Delete the org's key ``key_id`` and every wallet using it; the wallets deleted (none: no such key)."""
        using = [w for w in self.wallets_of(org_id) if w.key_id == key_id]
        for wallet in using:
            wallet.status, wallet.date_deleted = "Archived", now
        return using

    def transfers_of(self, wallet: Wallet) -> list[Transfer]:
        """The wallet's transfer requests, oldest first."""
        return list(self._transfers[wallet.wallet_id].values())

    def transfer(self, wallet: Wallet, transfer_id: str) -> Transfer | None:
        return self._transfers[wallet.wallet_id].get(transfer_id)

    def by_external_id(self, scope: str, external_id: str) -> Transfer | None:
        """The first transfer made with this ``externalId`` in ``scope`` (an org's id; see ``record``)."""
        return self._by_external_id.get((scope, external_id))

    def record(self, transfer: Transfer, scope: str | None = None) -> Transfer:
        """Keep a new transfer; its ``externalId`` keeps naming, in ``scope`` (by default its org's
        id), the first transfer made with it."""
        self._transfers[transfer.wallet_id][transfer.transfer_id] = transfer
        if transfer.external_id is not None:
            key = (scope if scope is not None else transfer.org_id, transfer.external_id)
            self._by_external_id.setdefault(key, transfer)
        return transfer
