"""The subjects of the flows the extended edit of the errors page documents errors for.

Each is what one or more cases of ``2024-08-19-extended`` need, and is written
into the target profile under the keys a live environment would fill in
(schemas/profile.json):

* a service account allowed to log users in by delegation (``serviceAccount*``);
* a deactivated user (``deactivatedUsername``) and a user whose only Key
  credential is deactivated, so that no credential of theirs is usable for the
  application (``credentiallessUsername``);
* an end user the suite may deactivate and activate again (``endUser*``);
* the still valid token of a user since archived (``archivedUserAuthToken``);
* a login code the admin was sent and has not used (``loginCode``);
* a user with a Key credential, a recovery credential and a recovery
  verification code (``recovery*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..wire import keys
from .settings import Settings
from .tokens import TokenService
from .world import RECOVERY_KEY, Permission, Principal, PrincipalKind, World, new_cred_id


@dataclass(frozen=True)
class SeededFlows:
    service_account_id: str
    service_account_token: str
    service_account_cred_id: str
    service_account_private_key: str
    deactivated_username: str
    credentialless_username: str
    end_user_username: str
    end_user_id: str
    archived_user_token: str
    login_code: str
    recovery_username: str
    recovery_cred_id: str
    recovery_user_cred_id: str
    recovery_code: str
    #: The recovery credential's private key: the user's alone (encrypted in their kit), never in the
    #: profile; kept for the server's own tests of the whole recovery.
    recovery_private_key: str

    def profile(self) -> dict[str, Any]:
        return {
            "serviceAccountAuthToken": self.service_account_token,
            "serviceAccountCredId": self.service_account_cred_id,
            "serviceAccountPrivateKey": self.service_account_private_key,
            "deactivatedUsername": self.deactivated_username,
            "credentiallessUsername": self.credentialless_username,
            "endUserUsername": self.end_user_username,
            "endUserId": self.end_user_id,
            "archivedUserAuthToken": self.archived_user_token,
            "loginCode": self.login_code,
            "recoveryUsername": self.recovery_username,
            "recoveryCredId": self.recovery_cred_id,
            "recoveryUserCredId": self.recovery_user_cred_id,
            "recoveryVerificationCode": self.recovery_code,
        }


def seed_flows(
    world: World,
    tokens: TokenService,
    settings: Settings,
    now: datetime,
    org_id: str,
    permission: Permission,
    admin_id: str,
) -> SeededFlows:
    """Seed the flows' subjects in ``org_id``; the codes last as long as the seeded tokens."""
    domain, lasting = settings.rp_id, settings.seeded_token_ttl

    def user(name: str, kind: PrincipalKind = PrincipalKind.USER) -> tuple[Principal, str, str]:
        return _user_with_key(world, org_id, "%s@%s" % (name, domain), kind, now, permission)

    account, account_cred, account_key = user("delegating-service-account", PrincipalKind.SERVICE_ACCOUNT)
    deactivated, _, _ = user("deactivated")
    deactivated.is_active = False
    credentialless, _, _ = user("no-credential")
    for credential in credentialless.credentials:
        credential.is_active = False
    end_user, _, _ = user("end-user", PrincipalKind.END_USER)
    archived, _, _ = user("archived")
    archived_token = tokens.issue_auth(archived.principal_id, org_id, lasting)
    archived.is_active, archived.is_archived = False, True
    recovering, recovering_cred, _ = user("recovery")
    recovery_key = keys.generate_key(keys.KeyKind.ED25519)
    recovery = world.add_credential(recovering, new_cred_id(), keys.public_pem(recovery_key),
                                    recovery_key.public_key(), kind=RECOVERY_KEY,
                                    encrypted_private_key="encrypted-by-the-user")
    admin = world.principals[admin_id]
    return SeededFlows(
        service_account_id=account.principal_id,
        service_account_token=tokens.issue_auth(account.principal_id, org_id, lasting),
        service_account_cred_id=account_cred,
        service_account_private_key=account_key,
        deactivated_username=deactivated.username,
        credentialless_username=credentialless.username,
        end_user_username=end_user.username,
        end_user_id=end_user.principal_id,
        archived_user_token=archived_token,
        login_code=world.send_login_code(admin, now + lasting).code,
        recovery_username=recovering.username,
        recovery_cred_id=recovery.cred_id,
        recovery_user_cred_id=recovering_cred,
        recovery_code=world.send_recovery_code(recovering, now + lasting).code,
        recovery_private_key=keys.private_pem(recovery_key),
    )


def _user_with_key(
    world: World, org_id: str, username: str, kind: PrincipalKind, now: datetime, permission: Permission
) -> tuple[Principal, str, str]:
    """A registered principal with one Key credential: (principal, credential id, private key PEM).

    Every one holds the admin's permission: the cases judge who the user is, never what it may do.
    """
    principal = world.create_principal(kind, username, org_id, now, permission)
    key = keys.generate_key(keys.KeyKind.ED25519)
    credential = world.add_credential(principal, new_cred_id(), keys.public_pem(key), key.public_key())
    principal.is_registered = True
    return principal, credential.cred_id, keys.private_pem(key)
