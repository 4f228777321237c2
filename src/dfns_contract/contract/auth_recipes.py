"""Recipes of the errors the extended edit of the errors page documents (2024-08-19, later that day).

Delegated Authentication, User Login, User Action Signing and User Recovery:
eleven entries of ``schemas/contracts/2024-08-19-extended.json``, each
replayed as a fault next to a control that must succeed, like the recipes of
the first edit (``recipes.py``, whose registry these join when ``binding``
loads a catalog). Which request provokes each error, where the page leaves it
open, is said in the entry's ``why``; in short:

* the users a case names are profile keys (a deactivated user, a user without
  a credential usable for the app, a user with a recovery credential), and the
  control sends the same request for a user who may (``registeredUsername``);
* the delegated requests are the service account's (``serviceAccount*``), as
  the docs require, each signed with a user action;
* one case changes state: ``useraction-user-deactivated`` deactivates
  ``endUserId`` to show that its token is then refused; it registers the undo
  first (``KeepUserActive``), and activates the user again right after the case;
  since other runs against the target switch the same user, it confirms a
  disagreement before blaming it (docs/shared-environments.md).
"""

from __future__ import annotations

import json
import secrets as random_source
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.contract.recipes import BASE, RecipeContext, Trial, recipe
from dfns_contract.wire.encoding import b64url_encode

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient, Exchange

SERVICE_ACCOUNT = ("serviceAccountAuthToken", "serviceAccountCredId", "serviceAccountPrivateKey")
LOGIN = ("appId", "orgId", "registeredUsername")
DELEGATED = ("appId", *SERVICE_ACCOUNT, "registeredUsername")
ACTION_INIT = "/auth/action/init"


def unknown_username(ctx: RecipeContext) -> str:
    """A username no org has: the run's name for it, at a domain that cannot exist (RFC 2606)."""
    return "%s@users.invalid" % ctx.name("nobody-" + random_source.token_hex(4))


def delegated_login(ctx: RecipeContext, username: str) -> Exchange:
    """The service account logs ``username`` in (Delegated Login, signed with a user action)."""
    return ctx.principal("serviceAccount").request(
        "POST", "/auth/login/delegated", {"username": username}, sign=True
    )


def login_init(ctx: RecipeContext, username: str, **extra: str) -> Exchange:
    """Create User Login Challenge for ``username`` of the profile's org, without a token."""
    body = {"username": username, "orgId": ctx.profile["orgId"], **extra}
    return ctx.anonymous().request("POST", "/auth/login/init", body, auth=False)


def action_init(client: DfnsClient, ctx: RecipeContext) -> Exchange:
    """Create User Action Signature Challenge for a request the suite never sends (nothing changes)."""
    body = {
        "userActionPayload": "{}",
        "userActionHttpMethod": "PUT",
        "userActionHttpPath": ctx.path("/auth/apps/{appId}"),
        "userActionServerKind": "Api",
    }
    return client.request("POST", ACTION_INIT, body)


def field_of(exchange: Exchange, step: str, name: str) -> Any:
    """``name`` of a 200 answer, or stop the case at this step (``FlowError``: not the contract's verdict)."""
    from dfns_contract.client import FlowError, NotJSON

    if exchange.status != 200:
        raise FlowError(step, exchange)
    try:
        body = exchange.json
    except NotJSON as exc:
        raise FlowError(step, exchange, str(exc)) from exc
    if not isinstance(body, dict) or name not in body:
        raise FlowError(step, exchange, "no %r in the response" % name)
    return body[name]


def as_user(ctx: RecipeContext, username: str) -> DfnsClient:
    """A client holding ``username``'s token from delegated login (a step, not the case's request)."""
    token = field_of(delegated_login(ctx, username), "delegated login of %s" % username, "token")
    from dfns_contract.client.secrets import SECRETS

    SECRETS.add(token, "authToken")
    return ctx.client.with_identity(token)


# -- Delegated Authentication ---------------------------------------------------


@recipe("delegated-auth-user-deactivated", needs=DELEGATED + ("deactivatedUsername",))
def delegated_user_deactivated(ctx: RecipeContext, variant: str | None) -> Trial:
    control = delegated_login(ctx, ctx.profile["registeredUsername"])
    return Trial(delegated_login(ctx, ctx.profile["deactivatedUsername"]), [control])


@recipe("delegated-auth-user-not-found", needs=DELEGATED)
def delegated_user_not_found(ctx: RecipeContext, variant: str | None) -> Trial:
    control = delegated_login(ctx, ctx.profile["registeredUsername"])
    return Trial(delegated_login(ctx, unknown_username(ctx)), [control])


# -- User Login -----------------------------------------------------------------


@recipe("login-user-deactivated", needs=LOGIN + ("deactivatedUsername",))
def login_user_deactivated(ctx: RecipeContext, variant: str | None) -> Trial:
    control = login_init(ctx, ctx.profile["registeredUsername"])
    return Trial(login_init(ctx, ctx.profile["deactivatedUsername"]), [control])


@recipe("login-user-not-found", needs=LOGIN)
def login_user_not_found(ctx: RecipeContext, variant: str | None) -> Trial:
    control = login_init(ctx, ctx.profile["registeredUsername"])
    return Trial(login_init(ctx, unknown_username(ctx)), [control])


@recipe("login-no-credential-for-app", needs=LOGIN + ("credentiallessUsername",))
def login_no_credential(ctx: RecipeContext, variant: str | None) -> Trial:
    control = login_init(ctx, ctx.profile["registeredUsername"])
    return Trial(login_init(ctx, ctx.profile["credentiallessUsername"]), [control])


def never_sent_code() -> str:
    """A code shaped like Send Login Code's (``1234-1234-1234-1234``) that nobody was sent."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "-".join("".join(random_source.choice(alphabet) for _ in range(4)) for _ in range(4))


def _code_never_sent(ctx: RecipeContext) -> Trial:
    """The same login without a code succeeds (the code is optional); with a code nobody sent, 403."""
    username = ctx.profile["registeredUsername"]
    control = login_init(ctx, username)
    return Trial(login_init(ctx, username, loginCode=never_sent_code()), [control])


def _code_reused(ctx: RecipeContext) -> Trial:
    """The profile's unused code opens one login session; the second use of it is refused.

    A code is single use: when its first use is already refused as invalid, an
    earlier run spent it (or it expired), which is the profile's state, not the
    contract's: the case is not verified, and says how to give a fresh one.
    """
    username, code = ctx.profile["registeredUsername"], ctx.profile["loginCode"]
    first = login_init(ctx, username, loginCode=code)
    if first.status == 403:
        pytest.skip("not verified: the profile's loginCode was refused at its first use (HTTP 403): an earlier run "
                    "spent it, or it expired; send a fresh one (POST /auth/login/code) and give it as loginCode "
                    "(DFNS_LOGIN_CODE)")
    return Trial(login_init(ctx, username, loginCode=code), [first])


LOGIN_CODES = {"never-sent": _code_never_sent, "reused": _code_reused}


@recipe("login-invalid-code", needs=LOGIN, variants=LOGIN_CODES, variant_needs={"reused": ("loginCode",)})
def login_invalid_code(ctx: RecipeContext, variant: str | None) -> Trial:
    return LOGIN_CODES[variant or "never-sent"](ctx)


# -- User Action Signing ----------------------------------------------------------


#: How many times useraction-user-deactivated is tried before a refused control or an accepted fault is blamed.
ATTEMPTS = 3


def _succeeded(exchange: Exchange) -> bool:
    return 200 <= exchange.status < 300


@recipe(
    "useraction-user-deactivated",
    needs=BASE + ("credId", "privateKey", *SERVICE_ACCOUNT, "endUserUsername", "endUserId"),
)
def useraction_user_deactivated(ctx: RecipeContext, variant: str | None) -> Trial:
    """The end user's token starts signing (control); deactivated, the same token may not (fault).

    The undo is registered before the user is touched; the user is activated
    first (a run cut short may have left it off) and again right after the case.
    ``endUserId`` is shared with every other run against the target, and each
    of them activates it first too: a refused control or an accepted fault is
    tried again before it is blamed (``ATTEMPTS``), since another run may have
    switched the user between two of these requests; a broken server answers
    the same every time, a neighbour's switch does not.
    """
    from dfns_contract.client import FlowError

    admin, user_path = ctx.principal(), "/auth/users/" + ctx.profile["endUserId"]
    ctx.cleanup.keep_user_active(ctx.profile["endUserId"], label="endUserId")
    ctx.cleanups.append(lambda: admin.request("PUT", user_path + "/activate", sign=True))
    for attempt in range(1, ATTEMPTS + 1):
        last = attempt == ATTEMPTS
        field_of(admin.request("PUT", user_path + "/activate", sign=True), "activate endUserId", "userId")
        try:
            end_user = as_user(ctx, ctx.profile["endUserUsername"])
        except FlowError:
            if last:
                raise
            continue  # another run has the user off just now
        control = action_init(end_user, ctx)
        field_of(admin.request("PUT", user_path + "/deactivate", sign=True), "deactivate endUserId", "userId")
        fault = action_init(end_user, ctx)
        if last or (_succeeded(control) and not _succeeded(fault)):
            return Trial(fault, [control])
    raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover


def assertion(client: DfnsClient, challenge: str) -> dict[str, Any]:
    """The client's Key credential signing ``challenge`` (client data as the official key signer writes it)."""
    assert client.signer is not None
    data: dict[str, Any] = {"type": "key.get", "challenge": challenge}
    if client.app_origin:
        data.update(origin=client.app_origin, crossOrigin=False)
    client_data = json.dumps(data, separators=(",", ":")).encode()
    return {
        "kind": "Key",
        "credentialAssertion": {
            "credId": client.signer.cred_id,
            "clientData": b64url_encode(client_data),
            "signature": b64url_encode(client.signer.sign(client_data)),
        },
    }


def tampered(token: str) -> str:
    """The same token with the first character of its signature changed: its claims intact."""
    head, _, signature = token.rpartition(".")
    flipped = "A" if signature[:1] != "A" else "B"
    return "%s.%s%s" % (head, flipped, signature[1:]) if head else token + "x"


#: The challenge identifier the fault sends, from the one the server issued.
BAD_CHALLENGES = {
    "garbage": lambda identifier: "not-a-challenge-token",
    "tampered": tampered,
    "reused": lambda identifier: identifier,
}


@recipe("useraction-challenge-invalid", needs=BASE + ("credId", "privateKey"), variants=BAD_CHALLENGES)
def useraction_challenge_invalid(ctx: RecipeContext, variant: str | None) -> Trial:
    """Complete a user action, correctly signed, naming a challenge that is not (or no longer) valid.

    The fault goes first, so a server that reads a tampered identifier without
    checking it cannot hide behind the real one having been spent already;
    for ``reused`` the control is the first completion.
    """
    admin, variant = ctx.principal(), variant or "garbage"
    init = action_init(admin, ctx)
    identifier = field_of(init, "user action init", "challengeIdentifier")
    signed = assertion(admin, field_of(init, "user action init", "challenge"))

    def complete(challenge_identifier: str) -> Exchange:
        return admin.request("POST", "/auth/action", {"challengeIdentifier": challenge_identifier, "firstFactor": signed})

    if variant == "reused":
        first = complete(identifier)
        return Trial(complete(identifier), [first])
    fault = complete(BAD_CHALLENGES[variant](identifier))
    return Trial(fault, [complete(identifier)])


@recipe("useraction-user-not-found", needs=BASE + ("archivedUserAuthToken",))
def useraction_user_not_found(ctx: RecipeContext, variant: str | None) -> Trial:
    control = action_init(ctx.principal(), ctx)
    gone = ctx.client.with_identity(ctx.profile["archivedUserAuthToken"])
    return Trial(action_init(gone, ctx), [control])


@recipe("useraction-no-credential-for-app", needs=DELEGATED + ("credentiallessUsername",))
def useraction_no_credential(ctx: RecipeContext, variant: str | None) -> Trial:
    control = action_init(as_user(ctx, ctx.profile["registeredUsername"]), ctx)
    return Trial(action_init(as_user(ctx, ctx.profile["credentiallessUsername"]), ctx), [control])


# -- User Recovery ----------------------------------------------------------------


def recovery_init(ctx: RecipeContext, credential_id: str) -> Exchange:
    p = ctx.profile
    body = {
        "username": p["recoveryUsername"],
        "verificationCode": p["recoveryVerificationCode"],
        "orgId": p["orgId"],
        "credentialId": credential_id,
    }
    return ctx.anonymous().request("POST", "/auth/recover/user/init", body, auth=False)


@recipe(
    "recovery-credential-not-recovery-factor",
    needs=("appId", "orgId", "recoveryUsername", "recoveryVerificationCode", "recoveryCredId", "recoveryUserCredId"),
)
def recovery_not_recovery_factor(ctx: RecipeContext, variant: str | None) -> Trial:
    control = recovery_init(ctx, ctx.profile["recoveryCredId"])
    return Trial(recovery_init(ctx, ctx.profile["recoveryUserCredId"]), [control])
