"""The world a fresh server starts with, and the target profile that describes it.

One org with two applications, an admin and a "limited" user (both
registered, with Key credentials and tokens), a user with a pending
registration code and one whose code has expired, two wallets on one network
and two addresses there to transfer to: every scenario of the contract suite has a subject. The
admin holds the Auth:*, Wallets:* and Permissions:* operations; the limited user neither
Auth:Apps:Update nor any Wallets:* or Permissions:* one. The org's permissions are
Dfns-managed (immutable); its policies are those ``Settings.policies`` names, and an archived one that
holds nothing, for Get Policy to read. Besides, a token of the admin that
has expired, and a second organisation with an application, an admin of its
own (the same operations), a wallet with a transfer and an end user, whose
token this org's applications must refuse and whose resources (application,
wallet, transfer, user) this org's principals must not find.

For the flows the extended edit of the errors page documents errors for
(``seed_flows.py`` seeds them): a service account that logs users in by delegation,
a deactivated user, a user without a credential the application accepts, an
end user the suite may deactivate and activate again, the still valid token
of an archived user, a login code the admin was sent, and a user with a
recovery credential and a recovery verification code.
Ids, keys and codes are random per server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..wire import keys
from .clock import Clock
from .faults import FORGETS_AFTER_USE
from .seed_flows import SeededFlows, seed_flows
from .settings import Settings
from .tokens import TokenService
from .wallet_store import NETWORKS, Transfer
from .world import (
    AUTH_OPERATIONS,
    PERMISSION_OPERATIONS,
    WALLET_OPERATIONS,
    Application,
    Permission,
    PrincipalKind,
    World,
    new_cred_id,
    new_id,
)

#: What an org's admin may do: everything of the auth domain, of wallets and of permissions.
ADMIN_OPERATIONS = frozenset((*AUTH_OPERATIONS, *WALLET_OPERATIONS, *PERMISSION_OPERATIONS))
#: The network of the seeded wallets: an EVM testnet, as the pages' examples.
WALLET_NETWORK = "EthereumSepolia"
#: What a transfer of the suite moves from the seeded wallet: the smallest unit (the server moves nothing).
TRANSFER_AMOUNT = "1"
#: What the limited principal may do: sign, read apps and users, but not update apps.
LIMITED_OPERATIONS = ("Auth:Action:Sign", "Auth:Apps:Read", "Auth:Users:Read")
#: How long after a first use the suite should replay a nonce or user action: past the time the
#: forgetful stores of the *-forgets-after-1s faults remember one, with half as much again to spare.
REPLAY_PAUSE_SECONDS = 1.5 * FORGETS_AFTER_USE.total_seconds()


@dataclass(frozen=True)
class SeededPrincipal:
    principal_id: str
    username: str
    token: str
    cred_id: str
    private_key_pem: str


@dataclass(frozen=True)
class SeededOrg:
    """Another organisation: its application, an admin holding the same operations as ours, and what
    its admin may read and ours must not find (a wallet, a transfer of it, an end user)."""

    org_id: str
    app_id: str
    admin: SeededPrincipal
    wallet_id: str
    transfer_id: str
    user_id: str


@dataclass(frozen=True)
class Seeded:
    org_id: str
    app_id: str
    app_origin: str
    other_app_id: str
    admin: SeededPrincipal
    limited: SeededPrincipal
    #: An authentication token of the admin, issued by this server, expired an hour ago.
    expired_token: str
    other_org: SeededOrg
    pending_username: str
    pending_code: str
    expired_username: str
    expired_code: str
    #: How old a nonce this server still accepts (Settings.nonce_max_age), in whole seconds.
    nonce_max_age_seconds: int
    #: The subjects of the delegated-auth, login-code, signing and recovery cases.
    flows: SeededFlows
    #: A wallet of the org, and an address on its network to transfer to.
    wallet_id: str
    transfer_to: str
    #: A second wallet of the org on the same network, and a second address there (the 409's other
    #: wallet and other body).
    other_wallet_id: str
    other_transfer_to: str
    #: A policy of the org for Get Policy to read (archived: it holds nothing).
    policy_id: str

    def profile(self, base_url: str) -> dict[str, Any]:
        """The target profile (schemas/profile.json), every key filled."""
        return {
            "baseUrl": base_url,
            "orgId": self.org_id,
            "appId": self.app_id,
            "appOrigin": self.app_origin,
            "otherAppId": self.other_app_id,
            "authToken": self.admin.token,
            "credId": self.admin.cred_id,
            "privateKey": self.admin.private_key_pem,
            "limitedAuthToken": self.limited.token,
            "limitedPrincipalKind": PrincipalKind.USER.value,
            "limitedPrincipalId": self.limited.principal_id,
            "limitedCredId": self.limited.cred_id,
            "limitedPrivateKey": self.limited.private_key_pem,
            "pendingUsername": self.pending_username,
            "pendingRegistrationCode": self.pending_code,
            "expiredUsername": self.expired_username,
            "expiredRegistrationCode": self.expired_code,
            "registeredUsername": self.admin.username,
            "expiredAuthToken": self.expired_token,
            "otherOrgAuthToken": self.other_org.admin.token,
            "otherOrgAppId": self.other_org.app_id,
            "otherOrgWalletId": self.other_org.wallet_id,
            "otherOrgTransferId": self.other_org.transfer_id,
            "otherOrgUserId": self.other_org.user_id,
            "replayPauseSeconds": REPLAY_PAUSE_SECONDS,
            "nonceMaxAgeSeconds": self.nonce_max_age_seconds,
            "walletId": self.wallet_id,
            "transferTo": self.transfer_to,
            "transferAmount": TRANSFER_AMOUNT,
            "otherWalletId": self.other_wallet_id,
            "otherTransferTo": self.other_transfer_to,
            "policyId": self.policy_id,
            **self.flows.profile(),
        }


@dataclass(frozen=True)
class SeededWorld:
    """A world, its token service and what was seeded in it: a server's state before any HTTP.

    Made apart from the app, without Starlette or uvicorn, so that the URL and
    profile of a server are known before it is started (see ``runner.prepare_server``).
    """

    world: World
    tokens: TokenService
    seeded: Seeded


def new_seeded_world(settings: Settings, clock: Clock) -> SeededWorld:
    world, tokens = World(), TokenService(clock, record=settings.record_secrets)
    return SeededWorld(world, tokens, seed_world(world, tokens, settings, clock))


def seed_world(world: World, tokens: TokenService, settings: Settings, clock: Clock) -> Seeded:
    now = clock()
    org_id = new_id("or")
    admin_permission = _add_permission(world, org_id, "AuthAdmin", ADMIN_OPERATIONS, now)
    limited_permission = _add_permission(world, org_id, "AuthReader", frozenset(LIMITED_OPERATIONS), now)
    _add_policies(world, org_id, settings.policies, now)
    rp_id = settings.rp_id
    app = _add_app(world, org_id, "Reference App", rp_id, settings.app_origin, admin_permission)
    other = _add_app(
        world, org_id, "Other App", rp_id, "https://other.%s" % rp_id, admin_permission
    )

    def registered(username: str, permission: Permission, kind: keys.KeyKind) -> SeededPrincipal:
        return _registered(world, tokens, settings, now, org_id, username, permission, kind)

    def invited(username: str, expires_in: timedelta) -> tuple[str, str]:
        user = world.create_principal(PrincipalKind.USER, username, org_id, now)
        return username, world.send_registration_code(user, now + expires_in).code

    admin = registered("admin@%s" % settings.rp_id, admin_permission, keys.KeyKind.P256)
    limited = registered("limited@%s" % settings.rp_id, limited_permission, keys.KeyKind.ED25519)
    pending_username, pending_code = invited(
        "pending@%s" % settings.rp_id, settings.registration_code_ttl
    )
    expired_username, expired_code = invited("expired@%s" % settings.rp_id, -timedelta(days=1))
    return Seeded(
        org_id=org_id,
        app_id=app.app_id,
        app_origin=app.origin,
        other_app_id=other.app_id,
        admin=admin,
        limited=limited,
        expired_token=_expired_token(tokens, settings, now, admin.principal_id, org_id),
        other_org=_seed_other_org(world, tokens, settings, now),
        pending_username=pending_username,
        pending_code=pending_code,
        expired_username=expired_username,
        expired_code=expired_code,
        nonce_max_age_seconds=int(settings.nonce_max_age.total_seconds()),
        flows=seed_flows(world, tokens, settings, now, org_id, admin_permission, admin.principal_id),
        wallet_id=_seed_wallet(world, org_id, now, "Reference Wallet"),
        transfer_to=_address_on(WALLET_NETWORK),
        other_wallet_id=_seed_wallet(world, org_id, now, "Other Reference Wallet"),
        other_transfer_to=_address_on(WALLET_NETWORK),
        policy_id=world.approvals.add_policy(org_id, "Permissions:Assign", name="Reference Policy",
                                             status="Archived", now=now).policy_id,
    )


def _add_permission(
    world: World, org_id: str, name: str, operations: frozenset[str], now: datetime
) -> Permission:
    """A Dfns-managed permission of the org (immutable, as the docs' DfnsFullAdminAccess)."""
    return world.add_permission(Permission(new_id("pm"), name, operations, org_id, is_immutable=True,
                                           date_created=now, date_updated=now))


def _add_policies(world: World, org_id: str, activities: tuple[str, ...], now: datetime) -> None:
    """The org's policies: each named activity held for approval (``Settings.policies``)."""
    for activity in activities:
        world.approvals.add_policy(org_id, activity, now=now)


def _seed_wallet(world: World, org_id: str, now: datetime, name: str) -> str:
    return world.wallets.create_wallet(org_id, WALLET_NETWORK, now, name=name).wallet_id


def _seed_transfer(world: World, wallet_id: str, requester_id: str, now: datetime) -> str:
    """A transfer request of the wallet, as its org's principal would have made it (without a token)."""
    wallet = world.wallets.wallets[wallet_id]
    body = {"kind": "Native", "to": _address_on(wallet.network), "amount": TRANSFER_AMOUNT}
    transfer = Transfer(new_id("xfr"), wallet.wallet_id, wallet.org_id, wallet.network,
                        {"userId": requester_id}, body, now)
    return world.wallets.record(transfer).transfer_id


def _address_on(network: str) -> str:
    """A new address on ``network``: nobody's, a destination the server accepts."""
    kind = NETWORKS[network].address
    assert kind is not None, "the seeded wallet's network has addresses"
    return kind.make()


def _add_app(
    world: World, org_id: str, name: str, rp_id: str, origin: str, permission: Permission
) -> Application:
    return world.add_app(Application(new_id("ap"), org_id, name, rp_id, origin, permission))


def _registered(
    world: World,
    tokens: TokenService,
    settings: Settings,
    now: datetime,
    org_id: str,
    username: str,
    permission: Permission,
    kind: keys.KeyKind,
) -> SeededPrincipal:
    """A registered user of ``org_id`` with a Key credential and a token lasting a test run."""
    user = world.create_principal(PrincipalKind.USER, username, org_id, now, permission)
    key = keys.generate_key(kind)
    credential = world.add_credential(user, new_cred_id(), keys.public_pem(key), key.public_key())
    user.is_registered = True
    token = tokens.issue_auth(user.principal_id, org_id, settings.seeded_token_ttl)
    return SeededPrincipal(
        user.principal_id, username, token, credential.cred_id, keys.private_pem(key)
    )


def _expired_token(
    tokens: TokenService, settings: Settings, now: datetime, principal_id: str, org_id: str
) -> str:
    """A login token of the principal, issued two lifetimes ago: it expired one lifetime ago.

    Its signature, issuer, kind and subject are all good, so the only reason
    to refuse it is its ``exp``.
    """
    ttl = settings.login_token_ttl
    return tokens.issue_auth(principal_id, org_id, ttl, issued_at=now - 2 * ttl)


def _seed_other_org(
    world: World, tokens: TokenService, settings: Settings, now: datetime
) -> SeededOrg:
    """A second organisation, with an application, an admin holding every operation, a wallet with a
    transfer, and an end user.

    Its admin's token is valid (it works with its own org's application), so
    the only reason for this org's applications to refuse it is the org; and
    its admin reads each of its resources, so the only reason for ours not to
    find them is the org too. Permissions belong to an org, so it has its own,
    with the same operations.
    """
    org_id = new_id("or")
    permission = _add_permission(world, org_id, "AuthAdmin", ADMIN_OPERATIONS, now)
    rp_id = "other-org.%s" % settings.rp_id
    app = _add_app(world, org_id, "Other Org App", rp_id, "https://%s" % rp_id, permission)
    admin = _registered(
        world, tokens, settings, now, org_id, "admin@%s" % rp_id, permission, keys.KeyKind.ED25519
    )
    wallet_id = _seed_wallet(world, org_id, now, "Other Org Wallet")
    end_user = world.create_principal(PrincipalKind.END_USER, "end-user@%s" % rp_id, org_id, now)
    return SeededOrg(org_id, app.app_id, admin, wallet_id,
                     transfer_id=_seed_transfer(world, wallet_id, admin.principal_id, now),
                     user_id=end_user.principal_id)
