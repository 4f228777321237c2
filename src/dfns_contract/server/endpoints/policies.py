"""Get Policy and List Policies (``GET /v2/policies/{policyId}``, ``GET /v2/policies``): the org's policies.

Today's API Errors page names "an incorrect wallet, user, or policy ID" as a
404's cause; the server answers it as it does an unknown wallet, with details
naming the policy and the caller's org, and the message its own (the page
gives none). Another org's policy is as unknown as a missing one. Required
permission ``Policies:Read`` (the permissions overview of the 2024 pages). The
policies are the seeded one (archived: it holds nothing) and those
``dfns-mock --policy`` names (``approvals.py``).
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId
from ..pipeline import Call, Endpoint


def get_policy(call: Call) -> dict[str, Any]:
    policy_id = call.param("policyId")
    policy = call.state.world.approvals.policy_of(call.user.org_id, policy_id)
    if policy is None:
        raise ApiError(ErrorId.POLICY_NOT_FOUND, details={"policyId": policy_id, "orgId": call.user.org_id})
    return policy.to_json()


def list_policies(call: Call) -> dict[str, Any]:
    return {"items": [policy.to_json() for policy in call.state.world.approvals.policies_of(call.user.org_id)]}


ENDPOINTS = (
    Endpoint("GET", "/v2/policies", list_policies, operation="Policies:Read"),
    Endpoint("GET", "/v2/policies/{policyId}", get_policy, operation="Policies:Read"),
)
