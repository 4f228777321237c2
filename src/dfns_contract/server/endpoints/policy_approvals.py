"""Get Approval (``GET /v2/policy-approvals/{approvalId}``): the approval a held request opened.

Required permission ``Policies:Approvals:Read`` (the legacy Get Approval page;
today's guide names ``Policies:Evaluations:Read`` for listing them, which this
server does not serve). Another org's approval is as unknown as a missing one:
404 ``approval not found``, the server's words.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId
from ..pipeline import Call, Endpoint


def get_approval(call: Call) -> dict[str, Any]:
    approval_id = call.param("approvalId")
    approval = call.state.world.approvals.approval_of(call.user.org_id, approval_id)
    if approval is None:
        raise ApiError(ErrorId.APPROVAL_NOT_FOUND, details={"approvalId": approval_id, "orgId": call.user.org_id})
    return approval.to_json(sdk_shapes=call.state.contract.sdk_shapes)


ENDPOINTS = (
    Endpoint("GET", "/v2/policy-approvals/{approvalId}", get_approval, operation="Policies:Approvals:Read"),
)
