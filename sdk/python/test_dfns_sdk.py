"""The PyPI ``dfns-sdk``'s everyday calls against ``dfns-mock --contract 2026`` (issue 27, item 4).

Plain ``unittest`` (run by ``sdk/run.py``), so neither this repository's pytest plugin nor its conftest
touches the client under test. The client is made as its README makes one, with its ``KeySigner``
defaults (origin ``https://app.dfns.io``). Every refusal is checked beside the call that succeeds, so a
server refusing everything cannot pass. The profile path is ``DFNS_PROFILE`` (``sdk/run.py`` sets it).
"""

from __future__ import annotations

import json
import os
import sys
import unittest
import uuid
from typing import Any

from dfns_sdk import DfnsClient, DfnsClientConfig, DfnsError, KeySigner

UNKNOWN_WALLET = "wa-00000-00000-0000000000000000"


def load_profile() -> dict[str, Any]:
    """The profile ``DFNS_PROFILE`` names; a one-line error (no traceback) when it is missing or unreadable."""
    path = os.environ.get("DFNS_PROFILE")
    if not path:
        sys.exit("DFNS_PROFILE is not set: give the path of a dfns-mock --profile-out file")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        sys.exit("DFNS_PROFILE=%s: cannot read the profile (%s)" % (path, exc))


PROFILE = load_profile()


def client(auth_token: str | None = None, signed: bool = True) -> DfnsClient:
    """A client of the admin (or ``auth_token``), with the SDK's ``KeySigner`` at its defaults unless unsigned."""
    signer = KeySigner(PROFILE["credId"], PROFILE["privateKey"]) if signed else None
    return DfnsClient(DfnsClientConfig(auth_token=auth_token or PROFILE["authToken"], base_url=PROFILE["baseUrl"],
                                       signer=signer))


def unique(prefix: str) -> str:
    """An ``externalId`` no other run against the same server uses (at most 50 characters)."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:24])


def native_transfer(external_id: str, amount: int | None = None) -> dict[str, Any]:
    amount = int(PROFILE["transferAmount"]) if amount is None else amount
    return {"kind": "Native", "to": PROFILE["transferTo"], "amount": str(amount), "externalId": external_id}


class EverydayCalls(unittest.TestCase):
    def setUp(self) -> None:
        self.client = client()
        self.addCleanup(self.client.close)

    def test_list_wallets_lists_the_seeded_wallet(self) -> None:
        listed = self.client.wallets.list_wallets()
        self.assertIn(PROFILE["walletId"], [w["id"] for w in listed["items"]])

    def test_get_wallet_returns_the_seeded_wallet(self) -> None:
        wallet = self.client.wallets.get_wallet(PROFILE["walletId"])
        self.assertEqual(wallet["id"], PROFILE["walletId"])
        self.assertIsInstance(wallet["signingKey"]["publicKey"], str)

    def test_create_wallet_signs_with_the_default_key_signer(self) -> None:
        name, external_id = unique("py-name"), unique("py-wallet")
        wallet = self.client.wallets.create_wallet({"network": "EthereumSepolia", "name": name,
                                                    "externalId": external_id})
        self.assertTrue(wallet["id"].startswith("wa-"))
        self.assertEqual((wallet["network"], wallet["name"]), ("EthereumSepolia", name))
        self.assertEqual(self.client.wallets.get_wallet(wallet["id"])["id"], wallet["id"])
        self.assertEqual(wallet["externalId"], external_id)

    def test_transfer_with_one_external_id_twice_then_another_body(self) -> None:
        external_id = unique("py-xfer")
        first = self.client.wallets.transfer_asset(PROFILE["walletId"], native_transfer(external_id))
        self.assertTrue(first["id"].startswith("xfr-"))
        self.assertEqual(first["requestBody"]["externalId"], external_id)
        again = self.client.wallets.transfer_asset(PROFILE["walletId"], native_transfer(external_id))
        self.assertEqual(again["id"], first["id"])
        with self.assertRaises(DfnsError) as caught:
            self.client.wallets.transfer_asset(PROFILE["walletId"],
                                               native_transfer(external_id, int(PROFILE["transferAmount"]) + 1))
        error = caught.exception
        self.assertEqual(error.status_code, 409)
        self.assertEqual(error.message, "Conflicting transfer with same externalId")
        self.assertEqual(error.details, {"duplicate": {"id": first["id"], "externalId": external_id}})

    def test_an_unknown_wallet_is_a_404(self) -> None:
        with self.assertRaises(DfnsError) as caught:
            self.client.wallets.get_wallet(UNKNOWN_WALLET)
        error = caught.exception
        self.assertEqual((error.status_code, error.message), (404, "wallet not found"))
        self.assertEqual(error.details["walletId"], UNKNOWN_WALLET)

    def test_a_bad_token_is_a_401(self) -> None:
        bad = client(auth_token=PROFILE["authToken"] + "x")
        self.addCleanup(bad.close)
        with self.assertRaises(DfnsError) as caught:
            bad.wallets.list_wallets()
        self.assertEqual(caught.exception.status_code, 401)
        self.assertTrue(caught.exception.message)

    def test_a_write_without_a_signer_is_refused_by_the_sdk(self) -> None:
        """_internal/http_client.py: no signer raises DfnsError SIGNER_REQUIRED before any request."""
        unsigned = client(signed=False)
        self.addCleanup(unsigned.close)
        with self.assertRaises(DfnsError) as caught:
            unsigned.wallets.create_wallet({"network": "EthereumSepolia"})
        error = caught.exception
        self.assertEqual((error.status_code, error.error_code), (None, "SIGNER_REQUIRED"))
        self.assertEqual(error.message, "Signer required for this operation. Configure a signer in DfnsClientConfig.")
        # Control: a read needs no signer.
        self.assertEqual(unsigned.wallets.get_wallet(PROFILE["walletId"])["id"], PROFILE["walletId"])

    def test_list_wallets_by_owner(self) -> None:
        delegated = self.client.wallets.create_wallet({"network": "EthereumSepolia",
                                                       "delegateTo": PROFILE["endUserId"]})
        owned = [w["id"] for w in self.client.wallets.list_wallets({"owner": PROFILE["endUserId"]})["items"]]
        self.assertIn(delegated["id"], owned)
        self.assertNotIn(PROFILE["walletId"], owned)


if __name__ == "__main__":
    unittest.main()
