"""What a version's cases need from a profile, which of it bootstrap makes, and how to obtain the rest.

The needs are read from the version's catalog (each entry's recipe and every variant's keys,
``contract/binding.required_keys``), so a new case's key is planned without touching this module. A key
is either the admin's (read from ``admin.json``), made by one of ``steps.STEPS``, or in ``CANNOT``: what
no documented endpoint can make for a run (it is listed with how a person obtains it, and stays absent).
"""

from __future__ import annotations

from dataclasses import dataclass

from dfns_contract.contract.binding import load_contract, required_keys
from dfns_contract.contract.catalog import Catalog

#: Keys the admin brings: a token, its Key credential, and for the pages' versions the app and org.
ADMIN_KEYS = ("authToken", "credId", "privateKey")
#: Of the admin keys, those only the versions whose requests carry X-DFNS-APPID need; appOrigin is optional.
APP_KEYS = ("appId", "orgId")
OPTIONAL_ADMIN_KEYS = ("appOrigin",)

#: What no documented endpoint makes for a run, grouped as a person obtains it.
CANNOT: tuple[tuple[tuple[str, ...], str], ...] = (
    (("expiredAuthToken",), "keep a token of this org from an earlier login until it expires "
     "(a login token lasts hours; an expired one cannot be minted)"),
    (("otherOrgAuthToken", "otherOrgAppId", "otherOrgWalletId", "otherOrgTransferId", "otherOrgUserId"),
     "need a second organisation of the same region: a token of it with read permissions there, "
     "and the ids of one of its applications, wallets, transfers and users"),
    (("pendingUsername", "pendingRegistrationCode"),
     "create a user with POST /auth/users (dashboard: Settings > Users > Invite) and copy the registration "
     "code Dfns emails them; do not complete the registration"),
    (("expiredUsername", "expiredRegistrationCode"),
     "as for pendingUsername, then wait until the emailed code has expired"),
    (("loginCode",), "send a login code to registeredUsername (POST /auth/login/code) and copy it from their "
     "email, unused"),
    (("recoveryUsername", "recoveryCredId", "recoveryUserCredId", "recoveryVerificationCode"),
     "a user with a recovery credential (POST /auth/credentials, kind RecoveryKey) and a Key credential, "
     "and the code of their last recovery email (PUT /auth/recover/user/code), unspent"),
)
CANNOT_KEYS = frozenset(key for keys, _ in CANNOT for key in keys)


@dataclass(frozen=True)
class Plan:
    """One version's needs, split by who provides each key."""

    version: str
    catalog: Catalog
    needed: tuple[str, ...]
    admin: tuple[str, ...]
    absent: tuple[tuple[tuple[str, ...], str], ...]

    @property
    def sends_app_id(self) -> bool:
        return self.catalog.has_header("X-DFNS-APPID")

    @property
    def sends_nonce(self) -> bool:
        return self.catalog.has_header("X-DFNS-NONCE")

    def wants(self, *keys: str) -> bool:
        """Whether any of ``keys`` is needed by a case of this version."""
        return any(key in self.needed for key in keys)


def version_needs(catalog: Catalog) -> tuple[str, ...]:
    """Every profile key a case of the catalog needs, with every variant's, in a stable order."""
    keys: dict[str, None] = {}
    for error in catalog.errors:
        for variant in (None, *error.variants):
            keys.update(dict.fromkeys(required_keys(error, variant)))
    return tuple(keys)


def plan_for(version: str) -> Plan:
    """The plan of a published version (CatalogError naming the versions for another)."""
    catalog = load_contract(version)
    needed = version_needs(catalog)
    admin = ADMIN_KEYS + (APP_KEYS if catalog.has_header("X-DFNS-APPID") else ())
    absent = tuple((tuple(k for k in keys if k in needed), how) for keys, how in CANNOT
                   if any(k in needed for k in keys))
    return Plan(version, catalog, needed, admin, absent)
