"""The endpoints of the reference server, one module per section of the API docs.

Each module exports ``ENDPOINTS``: declarations the pipeline turns into routes.
"""

from __future__ import annotations

from ..pipeline import Endpoint
from . import (
    applications,
    credentials,
    delegated,
    keys,
    login,
    permissions,
    policies,
    policy_approvals,
    recovery,
    registration,
    service_accounts,
    user_actions,
    users,
    wallets,
)

ENDPOINTS: tuple[Endpoint, ...] = (
    *applications.ENDPOINTS,
    *users.ENDPOINTS,
    *registration.ENDPOINTS,
    *login.ENDPOINTS,
    *user_actions.ENDPOINTS,
    *service_accounts.ENDPOINTS,
    *delegated.ENDPOINTS,
    *recovery.ENDPOINTS,
    *credentials.ENDPOINTS,
    *wallets.ENDPOINTS,
    *keys.ENDPOINTS,
    *permissions.ENDPOINTS,
    *policies.ENDPOINTS,
    *policy_approvals.ENDPOINTS,
)
