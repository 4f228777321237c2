"""The ``2026`` server's successful answers have the shapes the official SDK declares.

A whole contract suite run (``pytest --dfns-contract 2026``, a process of its own)
is pointed at a server that keeps every answer (``Settings.capture``); each 2xx
JSON answer whose (method, route, status) ``schemas/responses/2026/index.json``
names is validated against that schema. The suite does not create or list
wallets, read one permission or meet a policy, so a tour of those requests on a
server whose policies hold every activity it can (202s, approvals) is validated
the same way. Neither can pass vacuously: each schema must have been met, the
suite's often enough; and the controls show the validator reports a required
field removed, and today's schemas reject the 2024 server's shapes.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.contract.response_shapes import (
    first_problem,
    response_shapes,
    responses_folder,
    schema_for,
)
from dfns_contract.server.capture import CapturedResponse, ResponseCapture
from dfns_contract.server.runner import RunningServer, start_server
from dfns_contract.server.seed import WALLET_NETWORK
from dfns_contract.server.settings import Settings

from selftests.helpers.suite_runner import run_suite
from selftests.server.conftest import Principals
from selftests.server.today import TODAY, admin, transfer, transfer_body

#: The activities a policy of the server can hold: every 202 and approval shape is met.
HELD = ("Permissions:Assign", "Permissions:Modify", "Wallets:Sign")

#: How many answers of each schema a full 2026 suite run gives at least: well under what it gives, so
#: that a new test's order does not matter, yet a run that stopped early or validated nothing fails. The
#: run shares one permission per process (docs/request-budget.md), so it reads few permissions and
#: assignment lists (measured: 1 permission list, 2 permissions, 1 assignment list).
SUITE_FLOORS = {
    "user-action-challenge.json": 20,
    "user-action-signature.json": 20,
    "transfer-request.json": 5,
    "permission-list.json": 1,
    "permission.json": 1,
    "transfer-list.json": 2,
    "assignment-list.json": 1,
    "wallet.json": 1,
    "assignment.json": 1,
    "policy.json": 1,
}


@dataclass(frozen=True)
class Checked:
    """A 2xx JSON answer with a schema, and how it breaks it (None: it matches)."""

    response: CapturedResponse
    schema: str
    body: Any
    problem: str | None

    def line(self) -> str:
        r = self.response
        return "%s %s -> %d, %s: %s" % (r.method, r.path, r.status, self.schema, self.problem)


def checked(responses: Iterable[CapturedResponse]) -> list[Checked]:
    """Every 2xx JSON answer the index names a schema for, validated against it."""
    found = []
    for r in responses:
        schema = schema_for(r.method, r.path, r.status)
        if not 200 <= r.status < 300 or schema is None or not r.content_type.startswith("application/json"):
            continue
        body = json.loads(r.body)
        found.append(Checked(r, schema, body, first_problem(schema, body)))
    return found


def tour(server: RunningServer) -> None:
    """What the suite does not ask: create (delegated, with an externalId) and list wallets, read a
    permission, list the policies, and, with every activity held, the 202s, the pending change requests and
    the approvals."""
    sender, profile = admin(server), server.profile
    approvals = []

    def ok(got: Any, status: int = 200) -> dict[str, Any]:
        assert got.status == status, got.text
        return got.json

    ok(sender.request("POST", "/wallets", {"network": WALLET_NETWORK, "name": "shapes", "externalId": "shapes-1",
                                           "delegateTo": profile["endUserId"]}, sign=True))
    for network in ("KeyECDSA", "KeyECDSAStark", "KeyEdDSA"):
        ok(sender.request("POST", "/wallets", {"network": network}, sign=True))
    ok(sender.request("GET", "/wallets"))
    ok(sender.request("GET", "/wallets?owner=%s" % profile["endUserId"]))
    held_transfer = ok(transfer(sender, profile["walletId"], transfer_body(server)))
    approvals.append(held_transfer["approvalId"])

    permission = ok(sender.request("POST", "/permissions", {"name": "shapes", "operations": ["Wallets:Read"]},
                                   sign=True))
    path = "/permissions/%s" % permission["id"]
    approvals.append(ok(sender.request("PUT", path + "/archive", {"isArchived": True}, sign=True), 202)["approvalId"])
    approvals.append(ok(sender.request("POST", path + "/assignments", {"identityId": profile["limitedPrincipalId"]},
                                       sign=True), 202)["approvalId"])
    world = server.state.world  # an assignment made before the policy, to revoke under it
    existing = world.assign(world.permissions.get(permission["id"]),
                            world.principals[profile["limitedPrincipalId"]], server.state.clock())
    approvals.append(ok(sender.request("DELETE", "%s/assignments/%s" % (path, existing.assignment_id), sign=True),
                        202)["approvalId"])
    assert "pendingChangeRequest" in ok(sender.request("GET", path))
    assert any("pendingChangeRequest" in a for a in ok(sender.request("GET", path + "/assignments"))["items"])
    ok(sender.request("GET", "/permissions"))
    ok(sender.request("GET", "/v2/policies"))  # the seeded archived policy and the held activities' ones
    ok(sender.request("GET", "/v2/policies/%s" % profile["policyId"]))
    for approval_id in approvals:
        ok(sender.request("GET", "/v2/policy-approvals/%s" % approval_id))


@pytest.fixture(scope="module")
def suite_answers(tmp_path_factory: pytest.TempPathFactory) -> list[Checked]:
    """The answers of a full ``--dfns-contract 2026`` suite run, validated."""
    capture = ResponseCapture()
    with start_server(contract=TODAY, settings=Settings(capture=capture)) as server:
        profile = tmp_path_factory.mktemp("shapes") / "profile.json"
        profile.write_text(json.dumps(server.profile))
        run = run_suite("-q", "--base-url", server.url, "--dfns-profile", str(profile), "--dfns-contract", TODAY,
                        timeout=600)
    assert run.returncode == 0, run.output[-3000:]
    return checked(capture.responses())


@pytest.fixture(scope="module")
def tour_answers() -> list[Checked]:
    capture = ResponseCapture()
    with start_server(contract=TODAY, settings=Settings(capture=capture, policies=HELD)) as server:
        tour(server)
    return checked(capture.responses())


def _failures(answers: list[Checked], shown: int = 40) -> str:
    """One line per answer that breaks its schema, at most ``shown`` of them and how many more."""
    lines = [a.line() for a in answers if a.problem is not None]
    more = ["... and %d more" % (len(lines) - shown)] if len(lines) > shown else []
    return "\n".join(lines[:shown] + more)


def test_every_answer_of_a_full_suite_run_matches_its_schema(suite_answers):
    assert not _failures(suite_answers), "answers that break their schema:\n" + _failures(suite_answers)


def test_the_suite_run_met_each_schema_it_covers_often_enough(suite_answers):
    met = Counter(a.schema for a in suite_answers)
    short = {schema: (met[schema], floor) for schema, floor in SUITE_FLOORS.items() if met[schema] < floor}
    assert not short, "schema: (answers validated, floor) %s" % short
    assert sum(met.values()) >= sum(SUITE_FLOORS.values())


def test_every_answer_of_the_tour_matches_its_schema(tour_answers):
    assert not _failures(tour_answers), "answers that break their schema:\n" + _failures(tour_answers)


def test_every_schema_of_the_index_was_met(suite_answers, tour_answers):
    met = {a.schema for a in suite_answers + tour_answers}
    kinds = {(a.response.method, a.schema, a.response.status) for a in suite_answers + tour_answers}
    assert {row.schema for row in response_shapes()} <= met
    assert ("DELETE", "change-request.json", 202) in kinds and ("PUT", "change-request.json", 202) in kinds


def test_a_required_field_removed_is_reported(suite_answers, tour_answers):
    """The control: for one answer of each schema, each required top-level field removed is reported,
    and the answer intact is not (so a validator that reports everything fails too)."""
    first = {}
    for answer in suite_answers + tour_answers:
        first.setdefault(answer.schema, answer)
    for schema, answer in first.items():
        assert first_problem(schema, answer.body) is None
        required = json.loads((responses_folder(TODAY) / schema).read_text())["required"]
        for name in required:
            broken = copy.deepcopy(answer.body)
            del broken[name]
            assert first_problem(schema, broken) == "(top level): '%s' is required" % name, (schema, name)


def test_a_wallet_without_its_key_id_is_reported(tour_answers):
    wallet = next(a.body for a in tour_answers if a.schema == "wallet.json")
    assert wallet["signingKey"]["id"].startswith("key-")
    del wallet["signingKey"]["id"]
    assert first_problem("wallet.json", wallet) == "signingKey: 'id' is required"


def test_a_request_approval_policy_without_its_groups_is_reported(tour_answers):
    """The SDK's RequestApproval action requires its approval groups, each with a quorum; a Block needs none."""
    policy = next(a.body for a in tour_answers if a.schema == "policy.json")
    assert policy["action"]["kind"] == "RequestApproval" and first_problem("policy.json", policy) is None
    del policy["action"]["approvalGroups"][0]["quorum"]
    assert first_problem("policy.json", policy) == "action/approvalGroups/0: 'quorum' is required"
    del policy["action"]["approvalGroups"]
    assert first_problem("policy.json", policy) == "action: 'approvalGroups' is required"
    assert first_problem("policy.json", {**policy, "action": {"kind": "Block"}}) is None


def test_the_2024_shapes_fail_todays_schemas():
    """The gaps were real: the first edit's server answers without what the SDK requires."""
    capture = ResponseCapture()
    with start_server(settings=Settings(capture=capture)) as server:
        p, sender = server.profile, Principals.admin(server)
        assert sender.request("GET", "/wallets/%s" % p["walletId"]).status == 200
        assert sender.request("GET", "/wallets").status == 200
        assert transfer(sender, p["walletId"], transfer_body(server)).status == 200  # signed: a challenge
    problems = {a.schema: a.problem for a in checked(capture.responses())}
    assert problems["wallet.json"] == "signingKey: 'id' is required"
    assert problems["wallet-list.json"] == "items/0/signingKey: 'id' is required"
    assert problems["user-action-challenge.json"] == "(top level): 'userVerification' is required"


@pytest.mark.parametrize("method, path, status, schema", [
    ("GET", "/wallets", 200, "wallet-list.json"),
    ("GET", "/wallets/wa-1", 200, "wallet.json"),
    ("GET", "/wallets/wa-1/transfers", 200, "transfer-list.json"),
    ("GET", "/wallets/wa-1/transfers/xfr-1", 200, "transfer-request.json"),
    ("POST", "/permissions/pm-1/assignments", 202, "change-request.json"),
    ("GET", "/wallets/wa-1/transfers/xfr-1/more", 200, None),
    ("GET", "/wallets/wa-1", 404, None),
    ("PUT", "/wallets/wa-1", 200, None),
])
def test_the_index_names_one_schema_per_route_and_status(method, path, status, schema):
    assert schema_for(method, path, status) == schema


def test_each_schema_names_its_sources_and_is_in_the_index():
    folder: Path = responses_folder(TODAY)
    files = {path.name for path in folder.glob("*.json")} - {"index.json"}
    assert files == {row.schema for row in response_shapes()}
    for name in files:
        schema = json.loads((folder / name).read_text())
        assert "@dfns/sdk 0.8.21" in schema["description"] and "dfns-docs-2026/" in schema["description"], name
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
