"""The creations, one function per thing a case needs, each through documented endpoints only.

Every request goes through the suite's one client (``client/api.py``: headers, nonce, user-action
signing). Each step registers its undo in the ledger *before* the create leaves, then records the id.
Pages followed: 2024 ``dfns-docs/api-docs/authentication`` (Create Client Side Application, Create
Service Account, Delegated Registration and Login, Complete User Registration, Deactivate/Archive User),
the 2024-10 permission pages (``dfns-docs-2026/legacy-gitbook-2024-10``: Create Permission), and for 2026
the index's Create User, Create Service Account, Create Wallet and Delete Key (``dfns-docs-2026``).
"""

from __future__ import annotations

import secrets as random_source
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dfns_contract.bootstrap.creations import (
    ArchiveApp,
    ArchivePermission,
    ArchiveServiceAccount,
    ArchiveUser,
    DeleteWalletKey,
    Ledger,
)
from dfns_contract.bootstrap.plan import Plan
from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.client.exchange import Exchange, FlowError
from dfns_contract.wire import keys

#: What the limited principal may do: sign and read, never update an app (the reference server's seed too).
LIMITED_OPERATIONS = ("Auth:Action:Sign", "Auth:Apps:Read", "Auth:Users:Read")
#: What the delegating service account needs: log users in and register them, of both kinds.
DELEGATING_OPERATIONS = ("Auth:Action:Sign", "Auth:Users:Read", "Auth:Users:Create", "Auth:Users:Delegate",
                         "Auth:Types:EndUser", "Auth:Types:Employee")
#: A test network (the pages' examples use it); wallets there move no real value.
WALLET_NETWORK = "EthereumSepolia"
#: Reserved for examples (RFC 2606): a user made by Create User gets its email nowhere real.
EMAIL_DOMAIN = "example.com"


class StepFailed(RuntimeError):
    """A create the target refused: one line, with the status and the step."""


@dataclass
class Context:
    plan: Plan
    admin: DfnsClient
    ledger: Ledger
    run_id: str
    #: The delegating service account, once made (users need it).
    delegator: DfnsClient | None = None
    made: dict[str, Any] = field(default_factory=dict)

    def name(self, what: str) -> str:
        """A name unique to this run, so a person finds it in the dashboard and runs never collide."""
        return "%s-%s" % (self.run_id, what)


def _body(exchange: Exchange, step: str) -> dict[str, Any]:
    if not 200 <= exchange.status < 300:
        raise StepFailed("%s: %s %s answered HTTP %d" % (step, exchange.method, exchange.url, exchange.status))
    try:
        body = exchange.json
    except ValueError:
        raise StepFailed("%s: the answer is not JSON" % step) from None
    if not isinstance(body, dict):
        raise StepFailed("%s: the answer is not a JSON object" % step)
    return body


def _permission(ctx: Context, what: str, operations: tuple[str, ...]) -> str:
    """Create Permission named for the run, its archive registered first; its id."""
    name = ctx.name(what)
    ctx.ledger.register(ArchivePermission(name))
    got = ctx.admin.request("POST", "/permissions", {"name": name, "operations": list(operations)}, sign=True)
    return str(_body(got, "create permission %s" % name)["id"])


def _service_account(ctx: Context, what: str, operations: tuple[str, ...]) -> tuple[DfnsClient, dict[str, Any]]:
    """A service account holding ``operations`` and a fresh Key: a client of it, and its userInfo."""
    permission_id = _permission(ctx, what, operations)
    name = ctx.name(what)
    key = keys.generate_key(keys.KeyKind.ED25519)
    pem = keys.private_pem(key)
    index = ctx.ledger.register(ArchiveServiceAccount(name))
    got = ctx.admin.request("POST", "/auth/service-accounts",
                            {"name": name, "publicKey": keys.public_pem(key), "permissionId": permission_id},
                            sign=True)
    body = _body(got, "create service account %s" % name)
    info, token = body["userInfo"], body["accessTokens"][0]
    ctx.ledger.created(index, ArchiveServiceAccount(name, str(info["userId"])))
    client = ctx.admin.with_identity(token["accessToken"], KeySigner(str(token["credId"]), pem))
    return client, {**info, "credId": token["credId"], "privateKey": pem, "token": token["accessToken"]}


def other_app(ctx: Context) -> None:
    """A second application the suite may deactivate and re-activate (otherAppId)."""
    name = ctx.name("other-app")
    origin = ctx.admin.app_origin or "https://%s" % (urlsplit(ctx.admin.base_url).hostname or "localhost")
    index = ctx.ledger.register(ArchiveApp(name))
    got = ctx.admin.request("POST", "/auth/apps", {"name": name, "kind": "ClientSideApplication",
                                                    "relyingPartyId": urlsplit(origin).hostname, "origin": origin},
                            sign=True)
    app_id = str(_body(got, "create application %s" % name)["appId"])
    ctx.ledger.created(index, ArchiveApp(name, app_id))
    ctx.ledger.set(otherAppId=app_id)


def limited_principal(ctx: Context) -> None:
    """A service account without Auth:Apps:Update, and its Key (the limited* keys)."""
    client, info = _service_account(ctx, "limited", LIMITED_OPERATIONS)
    ctx.ledger.set(limitedAuthToken=info["token"], limitedPrincipalKind=_named_kind(client, info),
                   limitedPrincipalId=info["userId"], limitedCredId=info["credId"],
                   limitedPrivateKey=info["privateKey"])


def _named_kind(client: DfnsClient, info: dict[str, Any]) -> str | None:
    """How the target's 403 names this principal's kind: the pages' message is "<kind> <id> is not authorized
    to perform operation (<operation>)", and a service account's userInfo.kind need not be that word. Read
    from one GET it may not make (List Permissions, which it lacks); its userInfo.kind when no such 403 comes."""
    got = client.request("GET", "/permissions")
    try:
        message = str(got.json["error"]["message"]) if got.status == 403 else ""
    except (ValueError, KeyError, TypeError):
        message = ""
    words = message.split()
    if len(words) > 1 and words[1] == info.get("userId"):
        return words[0]
    return info.get("kind")


def delegator(ctx: Context) -> DfnsClient:
    """The service account that registers and logs in users by delegation (serviceAccount* keys)."""
    if ctx.delegator is None:
        ctx.delegator, info = _service_account(ctx, "delegator", DELEGATING_OPERATIONS)
        ctx.ledger.set(serviceAccountAuthToken=info["token"], serviceAccountCredId=info["credId"],
                       serviceAccountPrivateKey=info["privateKey"])
    return ctx.delegator


def _delegated_user(ctx: Context, what: str, *, register: bool = True) -> tuple[str, str, KeySigner | None]:
    """An end user registered by delegation (no email is sent): username, id, and its Key when registered."""
    via = delegator(ctx)
    email = "%s@%s" % (ctx.name(what), EMAIL_DOMAIN)
    index = ctx.ledger.register(ArchiveUser(email))
    challenge = _body(via.request("POST", "/auth/registration/delegated", {"email": email, "kind": "EndUser"},
                                  sign=True), "delegated registration of %s" % email)
    user_id = str(challenge["user"]["id"])
    ctx.ledger.created(index, ArchiveUser(email, user_id))
    if not register:
        return email, user_id, None
    key = keys.generate_key(keys.KeyKind.ED25519)
    signer = KeySigner(_cred_id(), keys.private_pem(key))
    try:
        via.with_identity(None).complete_registration(challenge, signer.private_key_pem, signer.cred_id)
    except FlowError as exc:
        raise StepFailed("registration of %s: %s" % (email, str(exc).splitlines()[0])) from None
    return email, user_id, signer


def _cred_id() -> str:
    return random_source.token_urlsafe(32)


def end_users(ctx: Context) -> None:
    """The end users of the user-action and login cases: active, deactivated, without a credential, archived."""
    plan = ctx.plan
    if plan.wants("endUserUsername", "registeredUsername") or (plan.wants("endUserId") and plan.sends_app_id):
        username, user_id, _ = _delegated_user(ctx, "end-user")
        ctx.ledger.set(endUserUsername=username, endUserId=user_id, registeredUsername=username)
    elif plan.wants("endUserId"):
        created_user(ctx)
    if plan.wants("deactivatedUsername"):
        username, user_id, _ = _delegated_user(ctx, "deactivated")
        _body(ctx.admin.request("PUT", "/auth/users/%s/deactivate" % user_id, sign=True), "deactivate user")
        ctx.ledger.set(deactivatedUsername=username)
    if plan.wants("credentiallessUsername"):
        username, _, _ = _delegated_user(ctx, "no-credential", register=False)
        ctx.ledger.set(credentiallessUsername=username)
    if plan.wants("archivedUserAuthToken"):
        username, user_id, _ = _delegated_user(ctx, "archived")
        token = _body(delegator(ctx).request("POST", "/auth/login/delegated", {"username": username}, sign=True),
                      "delegated login of %s" % username)["token"]
        _body(ctx.admin.request("DELETE", "/auth/users/%s" % user_id, sign=True), "archive user")
        ctx.ledger.set(archivedUserAuthToken=token)


def created_user(ctx: Context) -> None:
    """2026: a user of the org for endUserId (Create User; its email goes to a reserved domain)."""
    email = "%s@%s" % (ctx.name("user"), EMAIL_DOMAIN)
    index = ctx.ledger.register(ArchiveUser(email))
    user_id = str(_body(ctx.admin.request("POST", "/auth/users", {"email": email, "kind": "CustomerEmployee"},
                                          sign=True), "create user %s" % email)["userId"])
    ctx.ledger.created(index, ArchiveUser(email, user_id))
    ctx.ledger.set(endUserId=user_id)


def _wallet(ctx: Context, what: str) -> dict[str, Any]:
    name = ctx.name(what)
    index = ctx.ledger.register(DeleteWalletKey(name))
    wallet = _body(ctx.admin.request("POST", "/wallets", {"network": WALLET_NETWORK, "name": name}, sign=True),
                   "create wallet %s" % name)
    key_id = str((wallet.get("signingKey") or {}).get("id") or "")
    ctx.ledger.created(index, DeleteWalletKey(name, key_id))
    return wallet


def wallets(ctx: Context) -> None:
    """Three wallets on a test network: the one the transfers leave, a second one, and a destination."""
    first, second, destination = (_wallet(ctx, what) for what in ("wallet", "other-wallet", "destination"))
    ctx.ledger.set(walletId=first["id"], otherWalletId=second["id"], transferTo=destination["address"],
                   otherTransferTo=second["address"], transferAmount="1")


def policy(ctx: Context) -> None:
    """A policy of the org to read (List Policies: read-only, nothing created); an org without one has none
    to give, and the key stays absent (``NOT_FOUND``)."""
    listed = _body(ctx.admin.request("GET", "/v2/policies"), "list policies")
    ids = [item.get("id") for item in listed.get("items") or () if isinstance(item, dict)]
    if ids and isinstance(ids[0], str) and ids[0]:
        ctx.ledger.set(policyId=ids[0])


#: What a person does when a step finds nothing to read for a key (it creates nothing for it).
NOT_FOUND = {
    "policyId": "the org has no policy to read (GET /v2/policies is empty): create one (an archived policy "
                "holds nothing) and give its id",
}

#: The steps, each with the keys it provides: run when the version needs any of them.
STEPS: tuple[tuple[tuple[str, ...], Callable[[Context], None]], ...] = (
    (("otherAppId",), other_app),
    (("limitedAuthToken", "limitedPrincipalKind", "limitedPrincipalId", "limitedCredId", "limitedPrivateKey"),
     limited_principal),
    (("serviceAccountAuthToken", "serviceAccountCredId", "serviceAccountPrivateKey"), delegator),
    (("endUserUsername", "endUserId", "registeredUsername", "deactivatedUsername", "credentiallessUsername",
      "archivedUserAuthToken"), end_users),
    (("walletId", "otherWalletId", "transferTo", "otherTransferTo"), wallets),
    (("policyId",), policy),
)
STEP_KEYS = frozenset(key for provided, _ in STEPS for key in provided)
