"""A 202 of a policy that holds a request for approval is the environment's doing, never a broken contract.

The API Errors page of 2026: "Policy pending (202). Not an error — … your
request was accepted but a policy requires approval". A real organisation
with policies answers it to any state-changing request its policies hold;
``dfns-mock --policy ACTIVITY`` is such an organisation. The cases whose
requests it holds end as errors of the environment naming the operation and
the approval it waits on, the verdict is INCOMPLETE (never PASSED, never
FAILED), and the cleanup lists what is left pending. The control: the same
cases against the same server without the policy pass.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dfns_contract.client import PolicyPending
from dfns_contract.contract.cleanup import (
    HELD,
    ArchivePermission,
    Cleanup,
    LeftPending,
    RevokeAssignments,
    undo_from_record,
)
from dfns_contract.contract.expectations import auditor
from dfns_contract.server.runner import start_server
from dfns_contract.server.settings import Settings

from selftests.helpers.suite_runner import SuiteRun, run_suite

HELD_CASES = ("permission-assigned-twice", "useraction-missing-or-invalid-missing-delete")


def run_against(tmp_path: Path, *policies: str) -> SuiteRun:
    with start_server(contract="2026", settings=Settings(policies=policies)) as server:
        profile = tmp_path / "profile.json"
        profile.write_text(json.dumps(server.profile))
        return run_suite("--base-url", server.url, "--dfns-profile", str(profile), "--dfns-contract", "2026",
                         "-p", "no:randomly", "-k", " or ".join(HELD_CASES))


def test_a_request_held_for_approval_stops_its_case_as_the_environments_doing(tmp_path: Path) -> None:
    run = run_against(tmp_path, "Permissions:Assign")
    assert "the contract is broken" not in run.output and "FAILED" not in run.output, run.output[-3000:]
    assert "dfns verdict: INCOMPLETE" in run.stdout, run.stdout[-3000:]
    for case in HELD_CASES:
        assert "ERROR tests/test_documented_errors.py::test_documented_error[%s]" % case in run.stdout
    held = re.findall(r"environment error, the contract was not checked: POST /permissions/pm-[a-z0-9-]+/assignments "
                      r"held for approval by a policy \(approval ap-[a-z0-9-]+, change request cr-[a-z0-9-]+\): "
                      r"HTTP 202", run.stdout)
    assert len(held) == len(HELD_CASES), run.stdout[-4000:]
    assert run.stdout.count(": " + HELD) == len(HELD_CASES), run.stdout[-3000:]
    assert "%d held for approval by a policy" % len(HELD_CASES) in run.stdout


def test_without_the_policy_the_same_cases_pass(tmp_path: Path) -> None:
    run = run_against(tmp_path)
    assert run.returncode == 0 and "%d passed" % len(HELD_CASES) in run.stdout, run.output[-3000:]
    assert HELD not in run.stdout


class Answered:
    """An exchange as the auditor sees it: a method, a URL, a status and a JSON body."""

    def __init__(self, method: str, status: int, body: object) -> None:
        self.method, self.status, self.url = method, status, "https://api.example/permissions/pm-1/assignments"
        self.json = body


def test_the_audit_takes_a_202_only_of_a_state_changing_request_and_only_where_the_version_documents_it():
    pending = {"id": "cr-1", "status": "Pending", "approvalId": "ap-1"}
    audit = auditor("error-2026.json", None, pending="held")
    with pytest.raises(PolicyPending) as held:
        audit(Answered("POST", 202, pending))  # type: ignore[arg-type]
    assert held.value.what == "POST /permissions/pm-1/assignments held for approval by a policy (approval ap-1, " \
                              "change request cr-1)"
    audit(Answered("GET", 202, pending))  # type: ignore[arg-type]  # a read is never held
    auditor("error-2026.json", None)(Answered("POST", 202, pending))  # type: ignore[arg-type]
    nested = {"pendingChangeRequest": {"id": "cr-2", "approvalId": "ap-2"}}
    with pytest.raises(PolicyPending, match=r"approval ap-2, change request cr-2"):
        audit(Answered("DELETE", 202, nested))  # type: ignore[arg-type]
    with pytest.raises(PolicyPending, match="the 202 named no approval"):
        audit(Answered("PUT", 202, []))  # type: ignore[arg-type]


@pytest.mark.parametrize("undo", [ArchivePermission("dfns-contract-1-permission"), RevokeAssignments("pm-1", "us-1"),
                                  LeftPending("POST /permissions/pm-1/assignments held")], ids=lambda u: u.kind)
def test_the_new_undos_are_data_the_controller_can_read_back(undo):
    assert undo_from_record(json.loads(json.dumps(undo.to_record()))) == undo


def test_the_permission_undos_archive_and_revoke_what_the_run_made_and_only_that():
    with start_server(contract="2026") as server:
        from dfns_contract.client import DfnsClient, KeySigner

        p = server.profile
        admin = DfnsClient(server.url, None, auth_token=p["authToken"], signer=KeySigner(p["credId"], p["privateKey"]))
        mine = admin.request("POST", "/permissions", {"name": "run-1-p", "operations": ["Wallets:Read"]}, sign=True)
        other = admin.request("POST", "/permissions", {"name": "theirs", "operations": ["Wallets:Read"]}, sign=True)
        assign = admin.request("POST", "/permissions/%s/assignments" % mine.json["id"],
                               {"identityId": p["limitedPrincipalId"]}, sign=True)
        assert (mine.status, other.status, assign.status) == (200, 200, 200)
        cleanup = Cleanup(admin)
        cleanup.register(ArchivePermission("run-1-p"))
        cleanup.register(RevokeAssignments(mine.json["id"], p["limitedPrincipalId"]))
        cleanup.register(ArchivePermission("never-created"))
        lines = cleanup.run()
        assert lines == ["permission never-created: not found: nothing to undo",
                         "assignment of permission %s to %s: revoked" % (mine.json["id"], p["limitedPrincipalId"]),
                         "permission run-1-p: archived"]
        assert admin.request("GET", "/permissions/%s" % mine.json["id"]).json["isArchived"] is True
        assert admin.request("GET", "/permissions/%s" % other.json["id"]).json["isArchived"] is False
        assert admin.request("GET", "/permissions/%s/assignments" % mine.json["id"]).json["items"] == []
        assert [undo.restore(admin) for undo in (
            ArchivePermission("run-1-p"), RevokeAssignments(mine.json["id"], p["limitedPrincipalId"]))] == [
            "already archived", "not found: nothing to undo"]
