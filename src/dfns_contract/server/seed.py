"""The world a fresh server starts with, and the target profile that describes it.

One org with two applications, an admin and a "limited" user (both
registered, with Key credentials and tokens), a user with a pending
registration code and one whose code has expired: every scenario of the
contract suite has a subject. Ids, keys and codes are random per server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..wire import keys
from .clock import Clock
from .settings import Settings
from .tokens import TokenKind, TokenService
from .world import (
    AUTH_OPERATIONS,
    Application,
    Permission,
    PrincipalKind,
    World,
    new_cred_id,
    new_id,
)

#: What the limited principal may do: sign, read apps and users, but not update apps.
LIMITED_OPERATIONS = ("Auth:Action:Sign", "Auth:Apps:Read", "Auth:Users:Read")


@dataclass(frozen=True)
class SeededPrincipal:
    principal_id: str
    username: str
    token: str
    cred_id: str
    private_key_pem: str


@dataclass(frozen=True)
class Seeded:
    org_id: str
    app_id: str
    app_origin: str
    other_app_id: str
    admin: SeededPrincipal
    limited: SeededPrincipal
    pending_username: str
    pending_code: str
    expired_username: str
    expired_code: str
    #: How old a nonce this server still accepts (Settings.nonce_max_age), in whole seconds.
    nonce_max_age_seconds: int

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
            "nonceMaxAgeSeconds": self.nonce_max_age_seconds,
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
    admin_permission = world.add_permission(
        Permission(new_id("pm"), "AuthAdmin", frozenset(AUTH_OPERATIONS))
    )
    limited_permission = world.add_permission(
        Permission(new_id("pm"), "AuthReader", frozenset(LIMITED_OPERATIONS))
    )
    app = world.add_app(
        Application(
            new_id("ap"),
            org_id,
            "Reference App",
            settings.rp_id,
            settings.app_origin,
            admin_permission,
        )
    )
    other = world.add_app(
        Application(
            new_id("ap"),
            org_id,
            "Other App",
            settings.rp_id,
            "https://other.%s" % settings.rp_id,
            admin_permission,
        )
    )

    def registered(username: str, permission: Permission, kind: keys.KeyKind) -> SeededPrincipal:
        user = world.create_principal(PrincipalKind.USER, username, org_id, now, permission)
        key = keys.generate_key(kind)
        credential = world.add_credential(
            user, new_cred_id(), keys.public_pem(key), key.public_key()
        )
        user.is_registered = True
        token = tokens.issue(TokenKind.AUTH, user.principal_id, settings.seeded_token_ttl)
        return SeededPrincipal(
            user.principal_id, username, token, credential.cred_id, keys.private_pem(key)
        )

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
        pending_username=pending_username,
        pending_code=pending_code,
        expired_username=expired_username,
        expired_code=expired_code,
        nonce_max_age_seconds=int(settings.nonce_max_age.total_seconds()),
    )
