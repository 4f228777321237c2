"""Get Policy and List Policies: what the 2026 suite's ``unknown-policy`` case reads.

Today's API Errors page names "an incorrect wallet, user, or policy ID" as a
404's cause. The server seeds one archived policy (it holds nothing) and
writes its id into the profile (``policyId``); ``--policy`` adds active ones.
Each 404 is checked next to the read that succeeds, so a server that answers
every policy read with 404 fails here too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.settings import Settings

from selftests.server.today import TODAY, admin, client, error_of, limited

UNKNOWN_POLICY = "plc-00000-00000-0000000000000000"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract=TODAY, settings=Settings(policies=("Wallets:Sign",))) as running:
        yield running


def test_the_profiles_policy_is_read_and_listed_and_holds_nothing(server):
    policy_id = server.profile["policyId"]
    read = admin(server).request("GET", "/v2/policies/%s" % policy_id)
    assert read.status == 200, read.text
    assert {key: read.json[key] for key in ("id", "status", "activityKind")} == {
        "id": policy_id, "status": "Archived", "activityKind": "Permissions:Assign"}
    assert {"name", "rule", "action", "dateCreated", "dateUpdated"} <= set(read.json)
    listed = admin(server).request("GET", "/v2/policies").json["items"]
    assert sorted((p["activityKind"], p["status"]) for p in listed) == [
        ("Permissions:Assign", "Archived"), ("Wallets:Sign", "Active")]
    assert server.state.world.approvals.policy_for(server.state.seeded.org_id, "Permissions:Assign") is None


def test_an_unknown_policy_is_a_404_naming_it(server):
    error = error_of(admin(server).request("GET", "/v2/policies/" + UNKNOWN_POLICY), 404)
    assert error["message"] == "policy not found"
    assert error["details"] == {"policyId": UNKNOWN_POLICY, "orgId": server.state.seeded.org_id}


def test_another_organisations_principal_finds_no_policy_of_this_one(server):
    other = client(server, server.profile["otherOrgAuthToken"])
    error_of(other.request("GET", "/v2/policies/%s" % server.profile["policyId"]), 404)
    assert other.request("GET", "/v2/policies").json["items"] == []


def test_reading_policies_needs_policies_read(server):
    error = error_of(limited(server).request("GET", "/v2/policies/%s" % server.profile["policyId"]), 403)
    assert "Policies:Read" in error["message"]
