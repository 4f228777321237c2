"""What the reference server knows: orgs, applications, principals, credentials, mail, wallets.

Plain in-memory objects. They are only touched from the event loop thread and
from synchronous handlers, so each change is atomic without locks. The JSON
shapes follow the docs' examples (``to_json``).
"""

from __future__ import annotations

import enum
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..wire.encoding import b64url_encode
from ..wire.keys import PublicKey
from ..wire.nonce import iso_now
from .approvals import ApprovalStore
from .ids import new_id
from .permission_store import Assignment, Permission, PermissionStore
from .wallet_store import WalletStore

#: The Auth:* operations (the docs' DfnsFullAdminAccess, restricted to the auth domain).
AUTH_OPERATIONS = (
    "Auth:Action:Sign",
    "Auth:Apps:Create",
    "Auth:Apps:Read",
    "Auth:Apps:Update",
    "Auth:Creds:Create",
    "Auth:Creds:Read",
    "Auth:Creds:Update",
    "Auth:Types:Application",
    "Auth:Types:Employee",
    "Auth:Types:EndUser",
    "Auth:Types:Pat",
    "Auth:Types:ServiceAccount",
    "Auth:Users:Create",
    "Auth:Users:Delegate",
    "Auth:Users:Read",
    "Auth:Users:Update",
)

#: The Wallets:* operations the wallet pages name (api-docs/wallets).
WALLET_OPERATIONS = (
    "Wallets:Create",
    "Wallets:Read",
    "Wallets:ReadTransfer",
    "Wallets:Tags:Add",
    "Wallets:TransferAsset",
)

#: The operations the Permissions pages require (api-reference/permissions; Archive: the legacy page),
#: and Get Approval's (legacy policy-engine page).
PERMISSION_OPERATIONS = (
    "Permissions:Archive",
    "Permissions:Assign",
    "Permissions:Assignments:Read",
    "Permissions:Create",
    "Permissions:Read",
    "Permissions:Revoke",
    "Policies:Approvals:Read",
    "Policies:Read",
)

_CODE_ALPHABET = string.digits + string.ascii_uppercase


def new_cred_id() -> str:
    """A credential id like the docs' Key examples: base64url of 32 random bytes."""
    return b64url_encode(secrets.token_bytes(32))


def new_registration_code() -> str:
    """Four groups of four, like the docs' ``1234-1234-1234-1234``."""
    return "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(4))


class PrincipalKind(str, enum.Enum):
    """The kind the 403 message names."""

    USER = "CustomerEmployee"
    SERVICE_ACCOUNT = "ServiceAccount"
    #: A customer's end user (delegated registration creates them).
    END_USER = "EndUser"


#: Credential kinds: a Key signs logins and user actions; a RecoveryKey only recovers its user.
KEY, RECOVERY_KEY = "Key", "RecoveryKey"


@dataclass
class Application:
    app_id: str
    org_id: str
    name: str
    rp_id: str
    origin: str
    permission: Permission | None
    kind: str = "ClientSideApplication"
    is_active: bool = True
    is_archived: bool = False
    external_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appId": self.app_id,
            "kind": self.kind,
            "orgId": self.org_id,
            "expectedRpId": self.rp_id,
            "expectedOrigin": self.origin,
            "name": self.name,
            "isActive": self.is_active,
            "permissionAssignments": [self.permission.assignment()] if self.permission else [],
            "accessTokens": [],
        }
        if self.external_id is not None:
            body["externalId"] = self.external_id
        return body


@dataclass
class Credential:
    uuid: str
    cred_id: str
    principal_id: str
    public_key_pem: str
    public_key: PublicKey
    name: str = "Default Credential"
    kind: str = KEY
    is_active: bool = True
    #: RecoveryKey: the private key, encrypted by the user (the server never reads it).
    encrypted_private_key: str = ""
    date_created: datetime | None = None

    @property
    def is_login_factor(self) -> bool:
        """Usable to log in and sign user actions with: an active Key (never a recovery credential).

        The reference server has Key credentials only, which every application of the
        org accepts (a Fido2 credential would be bound to one relying party).
        """
        return self.is_active and self.kind == KEY

    def to_json(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "credentialKind": self.kind, "name": self.name}

    def to_listing(self, app: Application) -> dict[str, Any]:
        """The credential object of Credential Management (List Credentials, Create Credential)."""
        return {
            "credentialId": self.cred_id,
            "credentialUuid": self.uuid,
            "dateCreated": iso_now(self.date_created) if self.date_created else "",
            "isActive": self.is_active,
            "kind": self.kind,
            "name": self.name,
            "publicKey": self.public_key_pem,
            "relyingPartyId": app.rp_id,
            "origin": app.origin,
        }


@dataclass(frozen=True)
class OneTimeCode:
    """A code emailed to a user (login, recovery): ``key`` names it in the single-use store."""

    code: str
    expires_at: datetime
    key: str = field(default_factory=lambda: secrets.token_hex(16))

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "expiresAt": iso_now(self.expires_at)}


@dataclass
class RegistrationCode:
    code: str
    expires_at: datetime


@dataclass
class Principal:
    """A user (CustomerEmployee) or a service account: whoever a bearer token stands for."""

    principal_id: str
    kind: PrincipalKind
    username: str
    org_id: str
    permission: Permission | None
    date_created: datetime
    credential_uuid: str = field(default_factory=lambda: new_id("cr"))
    is_active: bool = True
    is_registered: bool = False
    #: Archived (DELETE /auth/users/{userId}): gone for every lookup, though its tokens still verify.
    is_archived: bool = False
    credentials: list[Credential] = field(default_factory=list)
    registration: RegistrationCode | None = None
    external_id: str | None = None
    #: The last login code sent (Send Login Code), and the last recovery verification code.
    login_code: OneTimeCode | None = None
    recovery_code: OneTimeCode | None = None
    #: The permissions assigned to it (Assign Permission), by assignment id.
    assigned: dict[str, Permission] = field(default_factory=dict)

    @property
    def operations(self) -> frozenset[str]:
        """What it may do: its own permission's operations and those of every live permission assigned to it."""
        held = [self.permission] if self.permission else []
        held += self.assigned.values()
        return frozenset(op for p in held if not p.is_archived for op in p.operations)

    def credential(self, cred_id: str) -> Credential | None:
        """The login factor (active Key) of this id: what signs a login or a user action."""
        return next((c for c in self.credentials if c.cred_id == cred_id and c.is_login_factor), None)

    def any_credential(self, cred_id: str) -> Credential | None:
        """The active credential of this id, of any kind."""
        return next((c for c in self.credentials if c.cred_id == cred_id and c.is_active), None)

    def has_login_factor(self) -> bool:
        return any(c.is_login_factor for c in self.credentials)

    def to_json(self) -> dict[str, Any]:
        """The user object of Create User / Get User."""
        body: dict[str, Any] = {
            "username": self.username,
            "userId": self.principal_id,
            # The docs show service accounts' userInfo.kind as CustomerEmployee too.
            "kind": (PrincipalKind.END_USER if self.kind is PrincipalKind.END_USER
                     else PrincipalKind.USER).value,
            "credentialUuid": self.credential_uuid,
            "orgId": self.org_id,
            "permissions": [],
            "scopes": [],
            "isActive": self.is_active,
            "isServiceAccount": self.kind is PrincipalKind.SERVICE_ACCOUNT,
            "isRegistered": self.is_registered,
            "permissionAssignments": [
                *([self.permission.assignment()] if self.permission else []),
                *(p.assignment(assignment_id) for assignment_id, p in self.assigned.items()),
            ],
        }
        if self.external_id is not None:
            body["externalId"] = self.external_id
        return body


@dataclass(frozen=True)
class Mail:
    """The registration email the real API would send."""

    registration_code: str
    expires_at: datetime

    def to_json(self) -> dict[str, str]:
        return {"registrationCode": self.registration_code, "expiresAt": iso_now(self.expires_at)}


class World:
    """The state of one server.

    Lookups return ``None`` rather than raising: the handler chooses the error.
    """

    def __init__(self) -> None:
        self.apps: dict[str, Application] = {}
        self.principals: dict[str, Principal] = {}
        #: Permissions (roles) and their assignments (permission_store.py).
        self.permissions = PermissionStore()
        #: Policies, the approvals they opened and the change requests they hold (approvals.py).
        self.approvals = ApprovalStore()
        self.mailbox: dict[str, Mail] = {}
        #: Login and recovery codes as emailed, by username (sandbox.py shows them).
        self.code_mail: dict[tuple[str, str], OneTimeCode] = {}
        self._usernames: dict[tuple[str, str], str] = {}
        self._cred_ids: set[str] = set()
        #: Wallets and their transfer requests (wallet_store.py).
        self.wallets = WalletStore()

    # -- applications ----------------------------------------------------------

    def add_app(self, app: Application) -> Application:
        self.apps[app.app_id] = app
        return app

    def find_app(self, org_id: str, app_id: str) -> Application | None:
        """A live (not archived) application of the org."""
        app = self.apps.get(app_id)
        if app is None or app.org_id != org_id or app.is_archived:
            return None
        return app

    def apps_of(self, org_id: str) -> list[Application]:
        return [a for a in self.apps.values() if a.org_id == org_id and not a.is_archived]

    def home_app(self, org_id: str) -> Application | None:
        """The org's first live application: whose relying party and origin a request that names no
        application (today's reference) is judged by. Switched off or not: an application's state is not
        where the org's users sign, and a first app switched off for a moment (the first page's
        app-modifies-own-state case, run against a 2026 server) would otherwise refuse every signature
        made in that moment by another process of the run."""
        return next(iter(self.apps_of(org_id)), None)

    def app_named(self, org_id: str, name: str) -> Application | None:
        return next((a for a in self.apps_of(org_id) if a.name == name), None)

    # -- principals ------------------------------------------------------------

    def add_permission(self, permission: Permission) -> Permission:
        return self.permissions.add(permission)

    def assign(self, permission: Permission, identity: Principal, now: datetime) -> Assignment:
        """Give ``identity`` the permission's operations, from now until the assignment is revoked."""
        assignment = self.permissions.record(Assignment(
            new_id("as"), permission.permission_id, identity.principal_id, permission.org_id, now))
        identity.assigned[assignment.assignment_id] = permission
        return assignment

    def revoke(self, assignment: Assignment) -> None:
        """Delete the assignment: its identity no longer holds the permission through it."""
        self.permissions.remove(assignment)
        identity = self.principals.get(assignment.identity_id)
        if identity is not None:
            identity.assigned.pop(assignment.assignment_id, None)

    def find_identity(self, org_id: str, identity_id: str) -> Principal | None:
        """A live user or service account of the org: whom a permission can be assigned to."""
        identity = self.principals.get(identity_id)
        if identity is None or identity.org_id != org_id or identity.is_archived:
            return None
        return identity

    def find_principal(self, principal_id: str) -> Principal | None:
        return self.principals.get(principal_id)

    def find_user(self, org_id: str, username: str) -> Principal | None:
        """The principal of the org with this username; an archived one too (callers decide)."""
        principal_id = self._usernames.get((org_id, username))
        return self.principals.get(principal_id) if principal_id else None

    def find_live_user(self, org_id: str, username: str) -> Principal | None:
        """A user (employee or end user) of the org who is not archived: who may log in or be logged in."""
        user = self.find_user(org_id, username)
        if user is None or user.is_archived or user.kind is PrincipalKind.SERVICE_ACCOUNT:
            return None
        return user

    def create_principal(
        self,
        kind: PrincipalKind,
        username: str,
        org_id: str,
        now: datetime,
        permission: Permission | None = None,
        external_id: str | None = None,
    ) -> Principal:
        principal = Principal(
            new_id("us"), kind, username, org_id, permission, now, external_id=external_id
        )
        self.principals[principal.principal_id] = principal
        self._usernames[(org_id, username)] = principal.principal_id
        return principal

    def send_registration_code(self, user: Principal, expires_at: datetime) -> RegistrationCode:
        """Give the user a new code and put it in the sandbox mailbox, as the real API emails it."""
        user.registration = RegistrationCode(new_registration_code(), expires_at)
        self.mailbox[user.username] = Mail(user.registration.code, expires_at)
        return user.registration

    def send_login_code(self, user: Principal, expires_at: datetime) -> OneTimeCode:
        """A new login code replaces the last one (Send Login Code), "emailed" to the sandbox."""
        user.login_code = OneTimeCode(new_registration_code(), expires_at)
        self.code_mail[("login", user.username)] = user.login_code
        return user.login_code

    def send_recovery_code(self, user: Principal, expires_at: datetime) -> OneTimeCode:
        """A new recovery verification code replaces the last one (Send Recovery Code Email)."""
        user.recovery_code = OneTimeCode(new_registration_code(), expires_at)
        self.code_mail[("recovery", user.username)] = user.recovery_code
        return user.recovery_code

    # -- credentials -----------------------------------------------------------

    def cred_id_taken(self, cred_id: str) -> bool:
        return cred_id in self._cred_ids

    def add_credential(
        self,
        principal: Principal,
        cred_id: str,
        public_key_pem: str,
        public_key: PublicKey,
        kind: str = KEY,
        encrypted_private_key: str = "",
        name: str = "Default Credential",
        date_created: datetime | None = None,
    ) -> Credential:
        # The first credential takes the uuid the user object announced from creation on.
        uuid = principal.credential_uuid if not principal.credentials else new_id("cr")
        credential = Credential(uuid, cred_id, principal.principal_id, public_key_pem, public_key,
                                name=name, kind=kind, encrypted_private_key=encrypted_private_key,
                                date_created=date_created)
        principal.credentials.append(credential)
        self._cred_ids.add(cred_id)
        return credential
