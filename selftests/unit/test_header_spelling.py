"""Header names go out under several spellings: the same request must work whatever their case."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dfns_contract.client import DfnsClient
from dfns_contract.contract.strategies import header_spellings
from dfns_contract.wire.headers import AS_DOCUMENTED, LOWER_CASE, MIXED_CASE, SPELLINGS, spelled_by_mask, spelling_for

NAMES = ("X-DFNS-NONCE", "X-DFNS-APPID", "X-DFNS-USERACTION", "Authorization")


@pytest.mark.parametrize("name", NAMES)
def test_each_spelling_names_the_same_header_and_only_one_is_the_documented_one(name):
    assert AS_DOCUMENTED(name) == name
    assert LOWER_CASE(name) == name.lower()
    assert MIXED_CASE(name).lower() == name.lower()
    assert MIXED_CASE(name) not in (name, name.lower(), name.upper())


def test_a_case_keeps_its_spelling_and_the_cases_use_all_of_them():
    ids = ["test_documented_error[%s]" % i for i in ("nonce-reused", "no-jwt-missing", "unknown-app-get",
                                                        "useraction-reused", "user-already-exists", "forbidden-operation")]
    assert [spelling_for(i) for i in ids] == [spelling_for(i) for i in ids]
    assert {spelling_for("case-%d" % n).name for n in range(30)} == {s.name for s in SPELLINGS}


@given(upper=st.lists(st.booleans(), min_size=1, max_size=12), name=st.sampled_from(NAMES))
def test_a_drawn_spelling_changes_only_the_case(upper, name):
    assert spelled_by_mask(upper)(name).lower() == name.lower()


@given(spelling=header_spellings())
def test_the_fuzzing_draws_spellings_that_name_the_same_headers(spelling):
    assert all(spelling(name).lower() == name.lower() for name in NAMES)


def test_the_client_sends_every_header_it_adds_under_its_spelling(monkeypatch):
    sent: list[dict[str, str]] = []
    client = DfnsClient("http://127.0.0.1:9", "ap-1", auth_token="t" * 20).spelled(LOWER_CASE)
    monkeypatch.setattr(DfnsClient, "send", lambda self, method, path, headers, body, **again: sent.append(headers))
    client.request("PUT", "/auth/apps/ap-2/activate", headers={"X-DFNS-USERACTION": "ua", "X-DFNS-NONCE": None})
    assert sorted(sent[0]) == ["authorization", "content-type", "x-dfns-appid", "x-dfns-useraction"]
    assert client.with_identity(None).spelling is LOWER_CASE  # other principals of the case keep it
