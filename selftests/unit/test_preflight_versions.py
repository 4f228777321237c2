"""The preflight's first answer names the version a target speaks: each pair of versions, in-process.

The runs (``selftests/runs/test_version_mismatch.py``) prove it against the
reference server; these cover every pair of forms and messages, and the
controls: the contract's own answer, and a message no page documents, are not
a mismatch (that is for the cases to judge).
"""

from __future__ import annotations

import json

import pytest
import requests

from dfns_contract.client import Exchange
from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.detection import FIRST_401, LATEST_401, PAGE_VERSIONS
from dfns_contract.contract.preflight import version_mismatch

REFERENCE_BODY = {"error": {"id": "er-1", "status": 401, "message": LATEST_401, "details": {}}}


def answer(status: int, body: dict) -> Exchange:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers["Content-Type"] = "application/json"
    return Exchange("GET", "http://127.0.0.1:1/auth/apps", {}, None, response)


def page_401(message: str) -> Exchange:
    return answer(401, {"error": {"message": message}})


def test_the_messages_compared_are_the_catalogs():
    assert {v: load_contract(v).by_id("no-jwt").message for v in PAGE_VERSIONS} == {
        "2024-08-19": FIRST_401, "2024-08-19-extended": FIRST_401, "2025-02-07": LATEST_401}


@pytest.mark.parametrize(("contract", "message", "looks_like"), [
    ("2024-08-19", LATEST_401, "2025-02-07: its 401 without a token says 'user token is missing or invalid'"),
    ("2024-08-19-extended", LATEST_401, "2025-02-07:"),
    ("2025-02-07", FIRST_401, "2024-08-19 or 2024-08-19-extended: its 401 without a token says 'Not Authorized.', "
                              "as those pages document, where 2025-02-07 documents 'user token is missing or invalid'"),
])
def test_another_pages_401_message_is_a_mismatch(contract, message, looks_like):
    found = version_mismatch(page_401(message), sends_nonce=True, contract=contract)
    assert found is not None and found.startswith(looks_like), found


@pytest.mark.parametrize("contract", PAGE_VERSIONS)
def test_the_contracts_own_401_and_an_undocumented_one_are_not(contract):
    own = load_contract(contract).by_id("no-jwt").message
    assert version_mismatch(page_401(own), sends_nonce=True, contract=contract) is None
    assert version_mismatch(page_401("Unauthorized"), sends_nonce=True, contract=contract) is None
    # A catalog of one's own (no published version) is compared by form only.
    assert version_mismatch(page_401(FIRST_401 if own == LATEST_401 else LATEST_401), sends_nonce=True) is None


def test_the_forms_still_tell_the_pages_from_the_reference():
    assert "contract 2026" in (version_mismatch(answer(401, REFERENCE_BODY), sends_nonce=True,
                                                contract="2025-02-07") or "")
    nonce = answer(400, {"error": {"message": "request nonce is missing or invalid"}})
    assert "asks for a nonce" in (version_mismatch(nonce, sends_nonce=False, contract="2026") or "")
    assert version_mismatch(answer(401, REFERENCE_BODY), sends_nonce=False, contract="2026") is None
