"""The extended edit's catalog replayed, case by case, against reference servers of each edit.

Until the suite can be told which version it certifies (``--dfns-contract``),
this loads ``schemas/contracts/2024-08-19-extended.json`` through the
catalog's own loader (which checks every entry against its recipe) and
replays each new case in-process with ``replay``, as the suite's test does:

* a faithful ``2024-08-19-extended`` server passes every case (controls included);
* a ``2024-08-19`` server fails every new case on its documented error only:
  each control still succeeds, as an environment of the first edit would;
* each fault switch of the new flows fails the cases written to catch it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dfns_contract.client import DfnsClient
from dfns_contract.contract import schemas
from dfns_contract.contract.binding import load_catalog
from dfns_contract.contract.catalog import Case
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.recipes import RecipeContext
from dfns_contract.contract.replay import replay
from dfns_contract.server.contracts import judged_by
from dfns_contract.server.faults import EXTENDED_CONTRACT, FAULTS, FIRST_CONTRACT
from dfns_contract.server.runner import RunningServer, start_server

FIRST = load_catalog(schemas.contract_path(FIRST_CONTRACT))
EXTENDED = load_catalog(schemas.contract_path(EXTENDED_CONTRACT))
NEW_CASES = [case for case in EXTENDED.cases() if case.error.id not in FIRST]

#: The eleven entries of the extended edit: id, status, message, the page's group.
NEW_ENTRIES = {
    "delegated-auth-user-deactivated": (400, "User account has been deactivated.", "Delegated Authentication"),
    "delegated-auth-user-not-found": (401, "User not found", "Delegated Authentication"),
    "login-user-deactivated": (400, "User account has been deactivated.", "User Login"),
    "login-user-not-found": (401, "User not found", "User Login"),
    "login-no-credential-for-app": (
        401, "User does not have a credential that can be used for the application.", "User Login"),
    "login-invalid-code": (403, "Invalid code", "User Login"),
    "useraction-user-deactivated": (400, "User account has been deactivated.", "User Action Signing"),
    "useraction-challenge-invalid": (400, "Challenge token is not valid.", "User Action Signing"),
    "useraction-user-not-found": (401, "User not found", "User Action Signing"),
    "useraction-no-credential-for-app": (
        401, "User does not have a credential that can be used for the application.", "User Action Signing"),
    "recovery-credential-not-recovery-factor": (401, "Credential cannot be used as a recovery factor.",
                                                "User Recovery"),
}

#: The cases each fault of the new flows must fail (others may fail too: a message fault fails every
#: entry of that message).
KILLED_BY = {
    "delegated-login-deactivated-allowed": {"delegated-auth-user-deactivated"},
    "login-deactivated-allowed": {"login-user-deactivated"},
    "useraction-deactivated-allowed": {"useraction-user-deactivated"},
    "user-deactivated-status": {"delegated-auth-user-deactivated", "login-user-deactivated",
                                "useraction-user-deactivated"},
    "user-deactivated-message": {"delegated-auth-user-deactivated", "login-user-deactivated",
                                 "useraction-user-deactivated"},
    "user-not-found-generic": {"delegated-auth-user-not-found", "login-user-not-found", "useraction-user-not-found"},
    "user-not-found-status": {"delegated-auth-user-not-found", "login-user-not-found", "useraction-user-not-found"},
    "useraction-archived-user-allowed": {"useraction-user-not-found"},
    "login-no-credential-allowed": {"login-no-credential-for-app"},
    "useraction-no-credential-allowed": {"useraction-no-credential-for-app"},
    "no-credential-message": {"login-no-credential-for-app", "useraction-no-credential-for-app"},
    "login-code-unchecked": {"login-invalid-code-never-sent", "login-invalid-code-reused"},
    "login-code-reusable": {"login-invalid-code-reused"},
    "invalid-code-status": {"login-invalid-code-never-sent", "login-invalid-code-reused"},
    "action-challenge-unverified": {"useraction-challenge-invalid-tampered"},
    "action-challenge-reusable": {"useraction-challenge-invalid-reused"},
    "challenge-invalid-status": {"useraction-challenge-invalid-garbage", "useraction-challenge-invalid-tampered",
                                 "useraction-challenge-invalid-reused"},
    "recovery-any-credential": {"recovery-credential-not-recovery-factor"},
    "recovery-factor-message": {"recovery-credential-not-recovery-factor"},
}


def context(server: RunningServer) -> RecipeContext:
    """What the plugin gives a case: the server's profile and a client of its app (no session cleanup)."""
    profile = Profile(values=server.profile, source="(selftest)")
    client = DfnsClient(server.url, profile["appId"], app_origin=profile["appOrigin"])
    return RecipeContext(profile=profile, client=client, run_id="dfns-contract-selftest-master")


def failures(server: RunningServer, cases: list[Case]) -> dict[str, str]:
    """Each case that failed on ``server``, with what it said."""
    failed = {}
    for case in cases:
        try:
            replay(case, context(server))
        except pytest.fail.Exception as exc:
            failed[case.id] = str(exc)
    return failed


@pytest.fixture(scope="module")
def extended_server() -> Iterator[RunningServer]:
    with start_server(contract=EXTENDED_CONTRACT) as running:
        yield running


def test_the_extended_catalog_is_the_first_plus_the_eleven_entries():
    assert [e for e in EXTENDED.errors if e.id in FIRST] == list(FIRST.errors)
    new = {e.id: (e.status, e.message, e.section.split(" Errors › ")[0]) for e in EXTENDED.errors if e.id not in FIRST}
    assert new == NEW_ENTRIES
    assert all(e.why for e in EXTENDED.errors if e.id not in FIRST)


@pytest.mark.parametrize("case", NEW_CASES, ids=lambda case: case.id)
def test_each_new_case_passes_against_a_faithful_extended_server(extended_server, case):
    replay(case, context(extended_server))


def test_a_first_edit_server_fails_each_new_case_on_its_documented_error_alone():
    with start_server(contract=FIRST_CONTRACT) as first:
        failed = failures(first, NEW_CASES)
    assert set(failed) == {case.id for case in NEW_CASES}
    for case_id, text in failed.items():
        assert "documented error not honoured" in text and "control failed" not in text, (case_id, text)
        assert 'message is "Not Authorized."' in text, (case_id, text)


@pytest.mark.parametrize("fault", sorted(KILLED_BY))
def test_each_flow_fault_fails_the_cases_written_to_catch_it(fault):
    with start_server(faults=[fault], contract=EXTENDED_CONTRACT) as broken:
        failed = failures(broken, NEW_CASES)
    assert KILLED_BY[fault] <= set(failed), sorted(failed)


def test_every_flow_fault_is_in_the_kill_table():
    assert set(KILLED_BY) == {name for name in FAULTS if judged_by(name)[:1] == (EXTENDED_CONTRACT,)}
