"""Policies that hold an activity for approval, and what a held request leaves behind.

``dfns-mock --policy ACTIVITY`` (``Settings.policies``) starts the server with
one policy per activity kind named: rule ``AlwaysTrigger``, action
``RequestApproval``, so every request of that activity is held. The activity
kinds are the policy pages' (legacy policy-engine/policies.md, Create Policy):

* ``Permissions:Assign``: Assign Permission and Revoke Permission (an
  assignment "deleted" is the same activity);
* ``Permissions:Modify``: Archive Permission (and Update Permission, which
  this server does not serve);
* ``Wallets:Sign``: Transfer Asset (and the signing endpoints this server does not serve).

A held permission request answers 202 with a change request (the pages'
``{id: "cr-…", kind, operationKind, status: "Pending", entityId, dateCreated,
requester, body, approvalId}``) and changes nothing; a held transfer is created
with ``status: "Pending"`` and an ``approvalId``, answered 200 as the Transfer
Asset page lists no other status. Either way an approval ``ap-…`` is recorded,
``Pending``, for Get Approval (``GET /v2/policy-approvals/{approvalId}``).
Nobody decides it: the server has no decision endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..wire.nonce import iso_now
from .ids import new_id

#: The activity kinds a policy of this server can hold, and the requests each holds.
POLICY_ACTIVITIES: dict[str, str] = {
    "Permissions:Assign": "Assign Permission, Revoke Permission",
    "Permissions:Modify": "Archive Permission",
    "Wallets:Sign": "Transfer Asset",
}


class UnknownActivity(ValueError):
    """A policy activity kind this server cannot hold."""


def check_activities(activities: tuple[str, ...]) -> None:
    """Raise ``UnknownActivity`` naming the first kind that is not in ``POLICY_ACTIVITIES``."""
    for activity in activities:
        if activity not in POLICY_ACTIVITIES:
            raise UnknownActivity("unknown policy activity %r (known: %s)"
                                  % (activity, ", ".join(POLICY_ACTIVITIES)))


@dataclass(frozen=True)
class Policy:
    """An ``AlwaysTrigger`` / ``RequestApproval`` policy of one org on one activity kind; an ``Archived`` one
    holds nothing (the seeded one Get Policy reads)."""

    policy_id: str
    org_id: str
    activity_kind: str
    name: str = "Approval required"
    status: str = "Active"
    date_created: datetime | None = None

    @property
    def holds(self) -> bool:
        return self.status == "Active"

    def to_json(self) -> dict[str, Any]:
        """As Get Policy answers: the Create Policy body (name, activityKind, rule, action) and id, status,
        dates. No approver is named (``approvers`` is optional on the Create Policy page)."""
        date = iso_now(self.date_created) if self.date_created is not None else None
        return {
            "id": self.policy_id,
            "name": self.name,
            "activityKind": self.activity_kind,
            "rule": {"kind": "AlwaysTrigger"},
            "action": {"kind": "RequestApproval", "approvalGroups": [{"quorum": 1, "approvers": {}}],
                       "autoRejectTimeout": None},
            "status": self.status,
            "dateCreated": date,
            "dateUpdated": date,
        }


@dataclass
class ChangeRequest:
    """What a held permission request answers (202) and what Get Permission shows as pending."""

    request_id: str
    kind: str
    operation_kind: str
    entity_id: str
    requester: dict[str, str]
    body: dict[str, Any]
    date_created: datetime
    approval_id: str
    status: str = "Pending"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.request_id,
            "kind": self.kind,
            "operationKind": self.operation_kind,
            "status": self.status,
            "entityId": self.entity_id,
            "dateCreated": iso_now(self.date_created),
            "requester": dict(self.requester),
            "body": dict(self.body),
            "approvalId": self.approval_id,
        }


@dataclass
class Approval:
    """An approval request a policy opened: pending until decided (never, here)."""

    approval_id: str
    org_id: str
    initiator_id: str
    activity: dict[str, Any]
    policy_id: str
    date_created: datetime
    status: str = "Pending"
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, sdk_shapes: bool = False) -> dict[str, Any]:
        """The approval; ``sdk_shapes``: its policy evaluations as GetApprovalResponse (@dfns/sdk 0.8.21)
        declares them, ``{policyId, triggered, reason}`` (the reason empty: no page gives AlwaysTrigger's),
        else as the 2024 pages, ``{policyId, triggerStatus}``."""
        if sdk_shapes:
            evaluation: dict[str, Any] = {"policyId": self.policy_id, "triggered": True, "reason": ""}
        else:
            evaluation = {"policyId": self.policy_id, "triggerStatus": "Triggered"}
        return {
            "id": self.approval_id,
            "initiatorId": self.initiator_id,
            "status": self.status,
            "dateCreated": iso_now(self.date_created),
            "dateUpdated": iso_now(self.date_created),
            "activity": dict(self.activity),
            "policyEvaluations": [evaluation],
            "decisions": list(self.decisions),
        }


class ApprovalStore:
    """The policies of each org, the approvals they opened and the change requests pending."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy] = {}
        self._holding: dict[tuple[str, str], Policy] = {}
        self._approvals: dict[str, Approval] = {}
        self._pending: dict[str, ChangeRequest] = {}

    def add_policy(self, org_id: str, activity_kind: str, *, name: str = "Approval required",
                   status: str = "Active", now: datetime | None = None) -> Policy:
        policy = Policy(new_id("plc"), org_id, activity_kind, name, status, now)
        self._policies[policy.policy_id] = policy
        if policy.holds:
            self._holding[(org_id, activity_kind)] = policy
        return policy

    def policy_for(self, org_id: str, activity_kind: str) -> Policy | None:
        """The org's active policy on this activity kind: the request is held if there is one."""
        return self._holding.get((org_id, activity_kind))

    def policy_of(self, org_id: str, policy_id: str) -> Policy | None:
        """Get Policy: the org's policy of that id (another org's is as unknown as a missing one)."""
        policy = self._policies.get(policy_id)
        return policy if policy is not None and policy.org_id == org_id else None

    def policies_of(self, org_id: str) -> list[Policy]:
        return [policy for policy in self._policies.values() if policy.org_id == org_id]

    def open(self, policy: Policy, initiator_id: str, activity: dict[str, Any], now: datetime) -> Approval:
        """Record a new pending approval of ``activity`` (``{"kind": …, …}``) under ``policy``."""
        approval = Approval(new_id("ap"), policy.org_id, initiator_id, activity, policy.policy_id, now)
        self._approvals[approval.approval_id] = approval
        return approval

    def approval_of(self, org_id: str, approval_id: str) -> Approval | None:
        approval = self._approvals.get(approval_id)
        return approval if approval is not None and approval.org_id == org_id else None

    def hold(self, change: ChangeRequest) -> ChangeRequest:
        """Keep a change request as its entity's pending one (Get Permission, List Assignments show it)."""
        self._pending[change.entity_id] = change
        return change

    def pending_for(self, entity_id: str) -> ChangeRequest | None:
        return self._pending.get(entity_id)
