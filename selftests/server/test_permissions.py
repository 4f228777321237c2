"""The permission endpoints as the Permissions pages describe them, and policies that hold them for approval.

Against a ``2026`` server (today's clients and error body); the routes exist
under the older versions too, which one test shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.settings import Settings

from selftests.server.conftest import Principals
from selftests.server.today import TODAY, admin, client, error_of, limited, transfer, transfer_body

UNKNOWN_PERMISSION = "pm-00000-00000-0000000000000000"
UNKNOWN_ASSIGNMENT = "as-00000-00000-0000000000000000"
PERMISSION_KEYS = {"id", "name", "operations", "status", "isImmutable", "isArchived", "dateCreated", "dateUpdated"}
ASSIGNMENT_KEYS = {"id", "permissionId", "identityId", "isImmutable", "dateCreated", "dateUpdated"}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract=TODAY) as running:
        yield running


@pytest.fixture
def fresh() -> Iterator[RunningServer]:
    """A server of its own, for a test that reads what the limited principal may do: the module's server has
    permissions assigned to it by the other tests, in any order."""
    with start_server(contract=TODAY) as running:
        yield running


_names = iter(range(10**6))


def create(server: RunningServer, *operations: str, sender: DfnsClient | None = None) -> Exchange:
    body = {"name": "role-%d" % next(_names), "operations": list(operations or ("Wallets:Read",))}
    return (sender or admin(server)).request("POST", "/permissions", body, sign=True)


def new_permission(server: RunningServer, *operations: str) -> dict[str, Any]:
    got = create(server, *operations)
    assert got.status == 200, got.text
    return got.json


def assign(server: RunningServer, permission_id: str, identity_id: str | None = None,
           sender: DfnsClient | None = None) -> Exchange:
    body = {"identityId": identity_id or server.profile["limitedPrincipalId"]}
    return (sender or admin(server)).request("POST", "/permissions/%s/assignments" % permission_id, body, sign=True)


def revoke(server: RunningServer, permission_id: str, assignment_id: str, sign: bool = True,
           query: str = "") -> Exchange:
    path = "/permissions/%s/assignments/%s%s" % (permission_id, assignment_id, query)
    return admin(server).request("DELETE", path, sign=sign)


def assignments(server: RunningServer, permission_id: str) -> list[dict[str, Any]]:
    got = admin(server).request("GET", "/permissions/%s/assignments" % permission_id)
    assert got.status == 200, got.text
    return got.json["items"]


# -- permissions ------------------------------------------------------------------------


def test_create_permission_answers_the_permission(server):
    permission = new_permission(server, "Wallets:Read", "Wallets:Create")
    assert set(permission) == PERMISSION_KEYS and permission["id"].startswith("pm-")
    assert permission["operations"] == ["Wallets:Create", "Wallets:Read"]
    assert (permission["status"], permission["isImmutable"], permission["isArchived"]) == ("Active", False, False)
    assert admin(server).request("GET", "/permissions/%s" % permission["id"]).json == permission


def test_list_permissions_has_the_orgs_own_and_the_new_ones(server):
    made = new_permission(server)["id"]
    listed = {p["id"]: p for p in admin(server).request("GET", "/permissions?limit=100").json["items"]}
    assert made in listed
    seeded = [p for p in listed.values() if p["isImmutable"]]
    assert {p["name"] for p in seeded} == {"AuthAdmin", "AuthReader"}
    assert server.state.seeded.other_org.org_id not in str(listed)


@pytest.mark.parametrize("body, parameter", [
    ({"operations": ["Wallets:Read"]}, "name"),
    ({"name": "x"}, "operations"),
    ({"name": "x", "operations": []}, "operations"),
    ({"name": "x", "operations": [""]}, "operations"),
    ({"name": "x", "operations": "Wallets:Read"}, "operations"),
])
def test_create_permission_needs_a_name_and_operations(server, body, parameter):
    got = admin(server).request("POST", "/permissions", body, sign=True)
    assert error_of(got, 400)["details"] == {"parameter": parameter}


def test_a_permission_name_is_taken_even_once_archived(server):
    permission = new_permission(server)
    archive(server, permission["id"])
    got = admin(server).request("POST", "/permissions", {"name": permission["name"], "operations": ["A:B"]}, sign=True)
    assert error_of(got, 400)["details"] == {"parameter": "name"}


def archive(server: RunningServer, permission_id: str, archived: bool = True) -> Exchange:
    return admin(server).request("PUT", "/permissions/%s/archive" % permission_id, {"isArchived": archived},
                                 sign=True)


def test_archive_and_unarchive_a_permission(server):
    permission = new_permission(server)
    got = archive(server, permission["id"])
    assert got.status == 200 and got.json["isArchived"] is True and got.json["id"] == permission["id"]
    assert archive(server, permission["id"], False).json["isArchived"] is False


def test_a_dfns_managed_permission_cannot_be_archived(server):
    seeded = server.state.seeded.limited.principal_id
    permission_id = server.state.world.principals[seeded].permission.permission_id
    assert error_of(archive(server, permission_id), 400)["details"] == {"parameter": "permissionId"}


def test_an_archived_permission_grants_nothing_and_cannot_be_assigned(fresh):
    server = fresh
    permission = new_permission(server, "Wallets:Read")
    assert assign(server, permission["id"]).status == 200
    assert limited(server).request("GET", "/wallets").status == 200
    archive(server, permission["id"])
    error_of(limited(server).request("GET", "/wallets"), 403)
    got = assign(server, permission["id"], server.state.seeded.admin.principal_id)
    assert error_of(got, 400)["details"] == {"parameter": "permissionId"}


# -- assignments ------------------------------------------------------------------------


def test_assign_answers_the_assignment_and_grants_its_operations(fresh):
    server = fresh
    permission = new_permission(server, "Wallets:Read")
    error_of(limited(server).request("GET", "/wallets"), 403)
    got = assign(server, permission["id"])
    assert got.status == 200, got.text
    assignment = got.json
    assert set(assignment) == ASSIGNMENT_KEYS and assignment["id"].startswith("as-")
    assert assignment["permissionId"] == permission["id"]
    assert assignment["identityId"] == server.profile["limitedPrincipalId"]
    assert limited(server).request("GET", "/wallets").status == 200
    assert assignments(server, permission["id"]) == [assignment]
    user = admin(server).request("GET", "/auth/users/%s" % server.profile["limitedPrincipalId"]).json
    assert assignment["id"] in {a["assignmentId"] for a in user["permissionAssignments"]}
    assert revoke(server, permission["id"], assignment["id"]).status == 200
    error_of(limited(server).request("GET", "/wallets"), 403)
    assert assignments(server, permission["id"]) == []


def test_a_permission_assigned_twice_is_a_409_naming_the_assignment_then_200_after_revoke(server):
    permission_id = new_permission(server)["id"]
    identity = server.profile["limitedPrincipalId"]
    first = assign(server, permission_id).json
    error = error_of(assign(server, permission_id), 409)
    assert error["message"] == "permission already assigned to this identity"
    assert error["details"] == {"assignmentId": first["id"], "permissionId": permission_id, "identityId": identity}
    assert assignments(server, permission_id) == [first]
    assert revoke(server, permission_id, first["id"]).status == 200
    again = assign(server, permission_id)
    assert again.status == 200 and again.json["id"] != first["id"]


def test_the_same_permission_may_be_assigned_to_two_identities(server):
    permission_id = new_permission(server)["id"]
    assert assign(server, permission_id).status == 200
    assert assign(server, permission_id, server.state.seeded.admin.principal_id).status == 200
    assert len(assignments(server, permission_id)) == 2


def test_assign_needs_an_identity_of_the_org(server):
    permission_id = new_permission(server)["id"]
    foreign = server.state.seeded.other_org.admin.principal_id
    for identity in (foreign, "us-00000-00000-0000000000000000"):
        assert error_of(assign(server, permission_id, identity), 400)["details"] == {"parameter": "identityId"}
    got = admin(server).request("POST", "/permissions/%s/assignments" % permission_id, {}, sign=True)
    assert error_of(got, 400)["details"] == {"parameter": "identityId"}


def test_an_unknown_assignment_is_a_404(server):
    permission_id = new_permission(server)["id"]
    error = error_of(revoke(server, permission_id, UNKNOWN_ASSIGNMENT), 404)
    assert error["message"] == "assignment not found"
    assert error["details"] == {"permissionId": permission_id, "assignmentId": UNKNOWN_ASSIGNMENT,
                                "orgId": server.profile["orgId"]}


def test_an_assignment_of_another_permission_is_not_found_under_this_one(server):
    first, second = new_permission(server)["id"], new_permission(server)["id"]
    assignment_id = assign(server, first).json["id"]
    assert error_of(revoke(server, second, assignment_id), 404)["message"] == "assignment not found"


# -- who may -----------------------------------------------------------------------------


def test_another_orgs_permission_is_not_found(server):
    other = server.state.seeded.other_org
    theirs = client(server, other.admin.token)
    foreign = theirs.request("GET", "/permissions").json["items"][0]["id"]
    paths = [("GET", "/permissions/%s" % foreign), ("GET", "/permissions/%s/assignments" % foreign)]
    for method, path in paths:
        error = error_of(admin(server).request(method, path), 404)
        assert error["message"] == "permission not found"
        assert error["details"] == {"permissionId": foreign, "orgId": server.profile["orgId"]}
    error_of(assign(server, foreign), 404)
    error_of(revoke(server, foreign, UNKNOWN_ASSIGNMENT), 404)
    error_of(archive(server, foreign), 404)
    error_of(admin(server).request("GET", "/permissions/" + UNKNOWN_PERMISSION), 404)
    ours = {p["id"] for p in admin(server).request("GET", "/permissions?limit=100").json["items"]}
    assert foreign not in ours


@pytest.mark.parametrize("method, path, body, operation", [
    ("POST", "/permissions", {"name": "n", "operations": ["A:B"]}, "Permissions:Create"),
    ("GET", "/permissions", None, "Permissions:Read"),
    ("GET", "/permissions/{pm}", None, "Permissions:Read"),
    ("PUT", "/permissions/{pm}/archive", {"isArchived": True}, "Permissions:Archive"),
    ("POST", "/permissions/{pm}/assignments", {"identityId": "{us}"}, "Permissions:Assign"),
    ("GET", "/permissions/{pm}/assignments", None, "Permissions:Assignments:Read"),
    ("DELETE", "/permissions/{pm}/assignments/{as}", {}, "Permissions:Revoke"),
    ("GET", "/v2/policy-approvals/ap-00000-00000-0000000000000000", None, "Policies:Approvals:Read"),
])
def test_the_limited_principal_lacks_the_permission_operations(server, method, path, body, operation):
    permission_id = new_permission(server)["id"]
    identity = server.state.seeded.admin.principal_id
    assignment_id = assign(server, permission_id, identity).json["id"]
    path = path.replace("{pm}", permission_id).replace("{as}", assignment_id)
    if body is not None:
        body = {k: (identity if v == "{us}" else v) for k, v in body.items()}
    got = limited(server).request(method, path, body, sign=method != "GET")
    error = error_of(got, 403)
    assert error["details"] == {"principalId": server.profile["limitedPrincipalId"], "operation": operation}
    # The admin holds them all: the same request goes past the permission check.
    assert admin(server).request(method, path, body, sign=method != "GET").status != 403


def test_every_state_changing_permission_request_needs_a_user_action(server):
    permission_id = new_permission(server)["id"]
    assignment_id = assign(server, permission_id).json["id"]
    sender = admin(server)
    unsigned = [
        sender.request("POST", "/permissions", {"name": "unsigned", "operations": ["A:B"]}),
        sender.request("PUT", "/permissions/%s/archive" % permission_id, {"isArchived": True}),
        sender.request("POST", "/permissions/%s/assignments" % permission_id,
                       {"identityId": server.state.seeded.admin.principal_id}),
        revoke(server, permission_id, assignment_id, sign=False),
    ]
    for got in unsigned:
        assert error_of(got, 403)["message"] == "user action signature is missing or invalid"
    assert assignments(server, permission_id)[0]["id"] == assignment_id  # nothing changed
    assert admin(server).request("GET", "/permissions/%s" % permission_id).json["isArchived"] is False


def test_the_routes_exist_under_the_first_edit_too():
    with start_server() as first:
        sender = Principals.admin(first)
        got = sender.request("POST", "/permissions", {"name": "old", "operations": ["A:B"]}, sign=True)
        assert got.status == 200 and got.json["name"] == "old"
        error = sender.request("GET", "/permissions/" + UNKNOWN_PERMISSION)
        assert (error.status, error.json) == (404, {"error": {"message": "permission not found"}})


# -- policies that hold a request for approval (--policy, Settings.policies) -----------------------

HELD = ("Permissions:Assign", "Permissions:Modify", "Wallets:Sign")
CHANGE_KEYS = {"id", "kind", "operationKind", "status", "entityId", "dateCreated", "requester", "body", "approvalId"}


@pytest.fixture(scope="module")
def held() -> Iterator[RunningServer]:
    with start_server(contract=TODAY, settings=Settings(policies=HELD)) as running:
        yield running


@pytest.fixture
def held_alone() -> Iterator[RunningServer]:
    """A held server of its own, for a test that reads what the limited principal may do (see ``fresh``)."""
    with start_server(contract=TODAY, settings=Settings(policies=HELD)) as running:
        yield running


def approval(server: RunningServer, approval_id: str) -> dict[str, Any]:
    got = admin(server).request("GET", "/v2/policy-approvals/%s" % approval_id)
    assert got.status == 200, got.text
    return got.json


def checked_change(got: Exchange, kind: str, operation_kind: str, entity_id: str | None = None) -> dict[str, Any]:
    """The 202 body: a pending change request of the pages' shape."""
    assert got.status == 202, got.text
    change = got.json
    assert set(change) == CHANGE_KEYS, change
    assert change["id"].startswith("cr-") and change["approvalId"].startswith("ap-")
    assert (change["kind"], change["operationKind"], change["status"]) == (kind, operation_kind, "Pending")
    if entity_id is not None:
        assert change["entityId"] == entity_id
    return change


def test_an_assignment_held_by_a_policy_is_a_202_change_request_and_changes_nothing(held_alone):
    held = held_alone
    permission = new_permission(held, "Wallets:Read")
    change = checked_change(assign(held, permission["id"]), "Assignment", "Create")
    identity = held.profile["limitedPrincipalId"]
    assert change["entityId"].startswith("as-")
    assert change["body"] == {"id": change["entityId"], "permissionId": permission["id"], "identityId": identity,
                              "isImmutable": False}
    assert change["requester"]["userId"] == held.state.seeded.admin.principal_id
    assert assignments(held, permission["id"]) == []
    error_of(limited(held).request("GET", "/wallets"), 403)
    opened = approval(held, change["approvalId"])
    assert (opened["status"], opened["initiatorId"]) == ("Pending", change["requester"]["userId"])
    assert opened["activity"] == {"kind": "Permissions:Assign", "changeRequest": change}
    assert opened["decisions"] == [] and opened["policyEvaluations"][0]["triggered"] is True
    assert checked_change(assign(held, permission["id"]), "Assignment", "Create")["id"] != change["id"]


def test_a_held_request_is_checked_first(held):
    permission = new_permission(held)
    world = held.state.world
    existing = world.assign(world.permissions.get(permission["id"]),
                            world.principals[held.profile["limitedPrincipalId"]], held.state.clock())
    error = error_of(assign(held, permission["id"]), 409)
    assert error["details"]["assignmentId"] == existing.assignment_id
    error_of(assign(held, UNKNOWN_PERMISSION), 404)


def test_a_revoke_held_by_a_policy_keeps_the_assignment_until_forced(held):
    permission = new_permission(held)
    world = held.state.world
    existing = world.assign(world.permissions.get(permission["id"]),
                            world.principals[held.profile["limitedPrincipalId"]], held.state.clock())
    change = checked_change(revoke(held, permission["id"], existing.assignment_id), "Assignment", "Delete",
                            existing.assignment_id)
    assert change["body"]["id"] == existing.assignment_id
    listed = assignments(held, permission["id"])
    assert [a["id"] for a in listed] == [existing.assignment_id]
    assert listed[0]["pendingChangeRequest"] == change
    assert revoke(held, permission["id"], existing.assignment_id, query="?force=true").status == 200
    assert assignments(held, permission["id"]) == []


def test_an_archive_held_by_a_policy_leaves_the_permission_active(held):
    permission = new_permission(held)
    change = checked_change(archive(held, permission["id"]), "Permission", "Update", permission["id"])
    assert change["body"] == {k: v for k, v in {**permission, "isArchived": True}.items() if not k.startswith("date")}
    now = admin(held).request("GET", "/permissions/%s" % permission["id"]).json
    assert now["isArchived"] is False and now["pendingChangeRequest"] == change
    assert approval(held, change["approvalId"])["activity"]["kind"] == "Permissions:Modify"


def test_creating_a_permission_is_no_activity_a_policy_holds(held):
    assert create(held).status == 200


def test_a_transfer_held_by_a_policy_is_pending_with_its_approval(held):
    got = transfer(admin(held), held.profile["walletId"], transfer_body(held))
    assert got.status == 200, got.text  # the Transfer Asset page lists 200 only
    made = got.json
    assert made["status"] == "Pending" and made["approvalId"].startswith("ap-")
    opened = approval(held, made["approvalId"])
    assert opened["activity"]["kind"] == "Wallets:Sign" and opened["activity"]["transferRequest"]["id"] == made["id"]


def test_without_a_policy_a_transfer_has_no_approval(server):
    got = transfer(admin(server), server.profile["walletId"], transfer_body(server))
    assert got.status == 200 and "approvalId" not in got.json


def test_an_approval_of_another_org_is_not_found(held):
    approval_id = checked_change(assign(held, new_permission(held)["id"]), "Assignment", "Create")["approvalId"]
    theirs = client(held, held.state.seeded.other_org.admin.token)
    error = error_of(theirs.request("GET", "/v2/policy-approvals/%s" % approval_id), 404)
    assert error["message"] == "approval not found"
    assert error["details"] == {"approvalId": approval_id, "orgId": held.state.seeded.other_org.org_id}


def test_an_unknown_policy_activity_is_refused():
    with pytest.raises(ValueError, match="unknown policy activity 'Permissions:Revoke'"):
        Settings(policies=("Permissions:Revoke",))
