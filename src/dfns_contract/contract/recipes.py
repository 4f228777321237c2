"""Request recipes: for each documented error, the faulty request and its control.

A recipe sends a request that differs from a valid one in exactly one way
(the fault), and the valid one too (the control), so that a server which
rejects everything, or answers everything with one error, cannot pass.

Each recipe is registered under the id of the catalog entry it replays, with
the variants it has code for and the profile keys it needs (a case whose keys
are absent is skipped with those names). ``binding.py`` checks, when a catalog
is loaded, that entries and recipes match on all three. The client is imported
only for type checking here: the pytest-xdist controller loads the catalog
(and so this module) but never sends a request.
"""

from __future__ import annotations

import json
import secrets as random_source
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from dfns_contract.contract import permissions
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.pauses import AFTER_A_PAUSE, FirstUse, Pauses
from dfns_contract.contract.profile import Profile
from dfns_contract.contract.shared import Shared, shared_for
from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.wire.nonce import iso_now, make_nonce, reencode_nonce

if TYPE_CHECKING:
    from dfns_contract.client import DfnsClient, Exchange

OTHER_APP = "/auth/apps/{otherAppId}"


@dataclass
class Trial:
    """What a recipe sent: the faulty request and the controls that had to succeed."""

    fault: Exchange
    controls: list[Exchange] = field(default_factory=list)
    #: True for invariant cases: the fault exchanges are checked only if they are 5xx.
    probes: list[Exchange] = field(default_factory=list)
    #: What the recipe itself found broken beyond the fault's answer (e.g. a replayed request that created
    #: a second entity), each a failure message with the exchanges that show it.
    broken: list[str] = field(default_factory=list)


@dataclass
class RecipeContext:
    """What a recipe may use: the profile, clients for its principals, and cleanups."""

    profile: Profile
    client: DfnsClient
    run_id: str
    #: Undone right after the case (so later cases find the target as before).
    cleanups: list[Callable[[], object]] = field(default_factory=list)
    #: Undone at the end of the session, also after a failure or an interrupt.
    cleanup: Cleanup = field(default_factory=Cleanup)
    #: First uses sent early in the session, for the replays after a pause.
    pauses: Pauses = field(default_factory=Pauses)
    #: What this process sends once for all its cases (``shared.py``); the run's, found by its run id.
    shared: Shared | None = None

    def __post_init__(self) -> None:
        if self.shared is None:
            self.shared = shared_for(self.run_id)

    def admin_control(self, method: str, path: str, body: object = None, *, sign: bool = False) -> Exchange:
        """The admin's valid ``method path`` (signed with a user action if ``sign``), sent once per process for
        every case whose control it is (``shared.py``: a control is about the request, not the case)."""
        return self.shared.once(control_key(method, path, body, sign=sign),
                                lambda: self.principal().request(method, path, body, sign=sign))


    def principal(self, prefix: str = "") -> DfnsClient:
        """The admin (prefix "") or the limited principal (prefix "limited")."""
        def key(name: str) -> str:
            return prefix + name[0].upper() + name[1:] if prefix else name

        from dfns_contract.client import KeySigner

        cred, pem = self.profile.get(key("credId")), self.profile.get(key("privateKey"))
        signer = KeySigner(cred, pem) if cred and pem else None
        return self.client.with_identity(self.profile.get(key("authToken")), signer)

    def name(self, what: str) -> str:
        """The name of anything a recipe creates: it carries the run id (``dfns-contract-<hex>-<worker>-what``)."""
        return "%s-%s" % (self.run_id, what)

    def changes_other_app(self) -> None:
        """Call before a request that may activate or deactivate ``otherAppId``: the session leaves it active."""
        self.cleanup.keep_other_app_active(self.profile["otherAppId"])

    def anonymous(self) -> DfnsClient:
        return self.client.with_identity(None)

    def alone(self) -> AbstractContextManager[None]:
        """Send the block's requests when no other request of the process is on its way (``InFlight.alone``)."""
        return self.client.in_flight.alone() if self.client.in_flight is not None else nullcontext()

    def path(self, template: str) -> str:
        return template.format(**self.profile.values)


def control_key(method: str, path: str, body: object = None, *, sign: bool = False) -> tuple:
    """The key of the admin's shared control ``method path`` in ``Shared`` (the preflight seeds one)."""
    return ("control", "admin", method, path, json.dumps(body, sort_keys=True), sign)


Run = Callable[[RecipeContext, str | None], Trial]


@dataclass(frozen=True)
class Recipe:
    """The code that replays one catalog entry: its variants (none: one case) and the profile keys it needs."""

    error_id: str
    run: Run
    needs: tuple[str, ...]
    variants: tuple[str, ...] = ()
    #: Profile keys only some variants need, on top of ``needs`` (e.g. an expired token for ``expired``).
    variant_needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class RecipeError(ValueError):
    """Two recipes for one catalog id: a programming error, raised at import."""


#: Every recipe, by the id of the catalog entry it replays.
RECIPES: dict[str, Recipe] = {}


def recipe(error_id: str, *, needs: tuple[str, ...], variants: Mapping[str, object] | tuple[str, ...] = (),
           variant_needs: Mapping[str, tuple[str, ...]] | None = None) -> Callable[[Run], Run]:
    """Register the decorated function as the recipe of catalog entry ``error_id``.

    ``variants``: the variant names it has code for (a table keyed by them will do);
    ``variant_needs``: profile keys a variant needs beyond ``needs`` (only that case is skipped without them).
    """
    def register(run: Run) -> Run:
        if error_id in RECIPES:
            raise RecipeError("two recipes for catalog id %r: %s and %s" % (error_id, RECIPES[error_id].run.__name__, run.__name__))
        RECIPES[error_id] = Recipe(error_id, run, tuple(needs), tuple(variants), dict(variant_needs or {}))
        return run

    return register


BASE = ("appId", "authToken")
SIGNING = BASE + ("credId", "privateKey", "otherAppId")


def _b64_json(value: object) -> str:
    return b64url_encode(json.dumps(value).encode())


def _uuid() -> str:
    return random_source.token_hex(16)


def _days_from_now(days: int) -> str:
    return iso_now(datetime.now(timezone.utc) + timedelta(days=days))


#: Nonce header values the docs rule out, one per variant (``None``: no header).
BAD_NONCES: dict[str, Callable[[], str | None]] = {
    "missing": lambda: None,
    "empty": lambda: "",
    "not-base64": lambda: "this is not base64!",
    "not-json": lambda: b64url_encode(b"uuid=" + _uuid().encode()),
    "not-object": lambda: _b64_json([_uuid(), iso_now()]),
    "no-uuid": lambda: _b64_json({"date": iso_now()}),
    "short-uuid": lambda: make_nonce(uuid=_uuid()[:12]),
    "no-date": lambda: _b64_json({"uuid": _uuid()}),
    "bad-date": lambda: make_nonce(date="not a date"),
    "stale-date": lambda: make_nonce(date=_days_from_now(-1)),
    "future-date": lambda: make_nonce(date=_days_from_now(1)),
    "latin1-bytes": lambda: make_nonce()[:-4] + "\xe9\xff\xe0\xa0",
}


def bad_nonce(variant: str) -> str | None:
    """A nonce header value the docs rule out."""
    return BAD_NONCES[variant]()


@recipe("nonce-missing-or-invalid", needs=BASE, variants=BAD_NONCES)
def nonce_invalid(ctx: RecipeContext, variant: str | None) -> Trial:
    control = ctx.admin_control("GET", "/auth/apps")
    fault = ctx.principal().request("GET", "/auth/apps", headers={"X-DFNS-NONCE": bad_nonce(variant or "missing")})
    return Trial(fault, [control])


#: How old a nonce the target accepts as fresh unless the profile says (``nonceMaxAgeSeconds``): the reference server's.
DEFAULT_NONCE_MAX_AGE = 300


def replay_sender(admin: DfnsClient, variant: str) -> DfnsClient:
    """Who sends the replay: the same connection, or a new one (a load balancer pins each to one replica)."""
    return admin.on_new_connection() if variant == "other-connection" else admin


def aged_nonce(profile: Profile) -> str:
    """A nonce dated half the acceptance window ago: fresh for the server, yet not new.

    A replay store that forgets a nonce by its date sooner than the server stops
    accepting that date lets its replay through.
    """
    max_age = int(profile.get("nonceMaxAgeSeconds") or DEFAULT_NONCE_MAX_AGE)
    return make_nonce(date=iso_now(datetime.now(timezone.utc) - timedelta(seconds=max_age / 2)))


def first_nonce_use(ctx: RecipeContext) -> FirstUse:
    """A nonce's first use, and how to send it again (``pauses.py``)."""
    admin = ctx.principal()

    def use() -> tuple[Exchange, Callable[[], Exchange]]:
        nonce = make_nonce()
        first = admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})
        return first, lambda: admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})

    return use


def first_user_action_use(ctx: RecipeContext) -> FirstUse:
    """A user action's first use (it activates ``otherAppId``), and how to send it again."""
    admin, path = ctx.principal(), ctx.path(OTHER_APP + "/activate")

    def use() -> tuple[Exchange, Callable[[], Exchange]]:
        ctx.changes_other_app()
        token = admin.user_action("PUT", path, b"{}")
        first = admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
        return first, lambda: admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})

    return use


#: The first use of each replay-after-a-pause case, by case id: the session sends it early (``pauses.py``).
FIRST_USES: dict[str, Callable[[RecipeContext], FirstUse]] = {
    "nonce-reused-" + AFTER_A_PAUSE: first_nonce_use,
    "useraction-reused-" + AFTER_A_PAUSE: first_user_action_use,
}


def replayed_after_a_pause(ctx: RecipeContext, case_id: str) -> Trial:
    first, second = ctx.pauses.first_then_replay(case_id, FIRST_USES[case_id](ctx))
    return Trial(second, [first])


#: How a used nonce is replayed: at once, on another connection, dated well inside the window, seconds later,
#: or encoded again (the same uuid and date in another text: a nonce is what it decodes to).
NONCE_REPLAYS = ("immediately", "other-connection", "aged", AFTER_A_PAUSE, "re-encoded")


@recipe("nonce-reused", needs=BASE, variants=NONCE_REPLAYS)
def nonce_reused(ctx: RecipeContext, variant: str | None) -> Trial:
    admin, variant = ctx.principal(), variant or "immediately"
    if variant == AFTER_A_PAUSE:
        return replayed_after_a_pause(ctx, "nonce-reused-" + variant)
    nonce = aged_nonce(ctx.profile) if variant == "aged" else make_nonce()
    first = admin.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce})
    again = reencode_nonce(nonce) if variant == "re-encoded" else nonce
    second = replay_sender(admin, variant).request("GET", "/auth/apps", headers={"X-DFNS-NONCE": again})
    return Trial(second, [first])


def _forge_unsigned(token: str) -> str:
    """The same claims with ``alg: none`` and no signature: what a forger would send."""
    payload = token.split(".")[1] if token.count(".") == 2 else _b64_json({"sub": "nobody"})
    return "%s.%s." % (_b64_json({"alg": "none", "typ": "JWT"}), payload)


def _tamper(token: str) -> str:
    head, _, signature = token.rpartition(".")
    flipped = "A" if signature[:1] != "A" else "B"
    return "%s.%s%s" % (head, flipped, signature[1:]) if head else token + "x"


def _signed_by_another_key(token: str) -> str:
    """The same claims, validly signed by a key the suite just made, which the token carries as its ``jwk``.

    What an attacker sends to a server that trusts a key named by the token
    itself (an embedded ``jwk``, a ``jku``) instead of its own: a correct
    signature, by the wrong key.
    """
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        claims, header = {"sub": "nobody"}, {}
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    extra = {"jwk": public, **({"kid": header["kid"]} if "kid" in header else {})}
    return jwt.encode(claims, key, algorithm="ES256", headers=extra)


#: Authorization header values that do not authenticate, from the profile (its valid token, or the keys named
#: in the recipe's ``variant_needs``).
BAD_AUTHORIZATIONS: dict[str, Callable[[Profile], str | None]] = {
    "missing": lambda profile: None,
    "not-bearer": lambda profile: "Token " + profile["authToken"],
    "empty-bearer": lambda profile: "Bearer",
    "garbage": lambda profile: "Bearer not-a-jwt",
    "tampered-signature": lambda profile: "Bearer " + _tamper(profile["authToken"]),
    "alg-none": lambda profile: "Bearer " + _forge_unsigned(profile["authToken"]),
    "other-key": lambda profile: "Bearer " + _signed_by_another_key(profile["authToken"]),
    # Issued by the target, then expired: a server must judge a token's lifetime, not only its signature.
    "expired": lambda profile: "Bearer " + profile["expiredAuthToken"],
    # Valid, but another organisation's: the app named by X-DFNS-APPID is not its org's.
    "other-org": lambda profile: "Bearer " + profile["otherOrgAuthToken"],
}


@recipe("no-jwt", needs=BASE, variants=BAD_AUTHORIZATIONS,
        variant_needs={"expired": ("expiredAuthToken",), "other-org": ("otherOrgAuthToken",)})
def not_authenticated(ctx: RecipeContext, variant: str | None) -> Trial:
    control = ctx.admin_control("GET", "/auth/apps")
    value = BAD_AUTHORIZATIONS[variant or "missing"](ctx.profile)
    fault = ctx.principal().request("GET", "/auth/apps", headers={"Authorization": value})
    return Trial(fault, [control])


# The principal's kind and id are needed where the version's message names them (the pages' template).
@recipe("forbidden-operation", needs=SIGNING + ("limitedAuthToken",))
def forbidden(ctx: RecipeContext, variant: str | None) -> Trial:
    """The limited principal sends the admin's valid request (signed with its own key if it has one)."""
    path = ctx.path(OTHER_APP + "/activate")
    limited = ctx.principal("limited")
    ctx.changes_other_app()
    control = ctx.admin_control("PUT", path, sign=True)
    fault = limited.request("PUT", path, sign=limited.signer is not None)
    return Trial(fault, [control])


@recipe("useraction-reused", needs=SIGNING, variants=("immediately", "other-connection", AFTER_A_PAUSE))
def useraction_reused(ctx: RecipeContext, variant: str | None) -> Trial:
    if variant == AFTER_A_PAUSE:
        return replayed_after_a_pause(ctx, "useraction-reused-" + variant)
    admin, path = ctx.principal(), ctx.path(OTHER_APP + "/activate")
    ctx.changes_other_app()
    token = admin.user_action("PUT", path, b"{}")
    first = admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
    second = replay_sender(admin, variant or "immediately").request("PUT", path, headers={"X-DFNS-USERACTION": token})
    return Trial(second, [first])


#: User-action header values that do not sign this request: (the case's context, the request's path) → value.
BAD_USER_ACTIONS: dict[str, Callable[[RecipeContext, str], str | None]] = {
    "missing": lambda ctx, path: None,
    "garbage": lambda ctx, path: "not-a-user-action",
    "other-path": lambda ctx, path: ctx.principal().user_action("PUT", path.rsplit("/", 1)[0], b"{}"),
    "other-payload": lambda ctx, path: ctx.principal().user_action("PUT", path, b'{"externalId":"other"}'),
    "other-method": lambda ctx, path: ctx.principal().user_action("POST", path, b"{}"),
    # Signed for exactly this request, by another principal: a user action is bound to its signer.
    "other-principal": lambda ctx, path: ctx.principal("limited").user_action("PUT", path, b"{}"),
}


def _unsigned_post(ctx: RecipeContext) -> Trial:
    """Create Permission without a user action (fault), next to the signed creation of the process's shared
    permission (control, ``permissions.shared_permission``): the 2026 page's POST."""
    shared = permissions.shared_permission(ctx)
    fault = permissions.create_permission(ctx, permissions.permission_body(ctx), sign=False, at_the_end=True)
    return Trial(fault, [shared.created])


def _unsigned_delete(ctx: RecipeContext) -> Trial:
    """Revoke the shared permission's assignment without a user action (fault), then signed (control): the 2026
    page's DELETE (``permissions.assignment_sequence``). The permission and the assignment are controls too."""
    shared = permissions.shared_permission(ctx)
    if shared.permission_id is None:
        return Trial(shared.created, [shared.created])  # its control failed, which says so
    sequence = permissions.assignment_sequence(ctx, shared.permission_id)
    if sequence.unsigned_revoke is None or sequence.revoke is None:
        return Trial(sequence.assigned, [shared.created, sequence.assigned])
    return Trial(sequence.unsigned_revoke, [shared.created, sequence.assigned, sequence.revoke])


#: The 2026 page's other state-changing methods: POST and DELETE without a user action, each next to its
#: signed control (the PUT is ``missing``).
UNSIGNED_METHODS: dict[str, Callable[[RecipeContext], Trial]] = {
    "missing-post": _unsigned_post,
    "missing-delete": _unsigned_delete,
}


@recipe("useraction-missing-or-invalid", needs=SIGNING, variants=(*BAD_USER_ACTIONS, *UNSIGNED_METHODS),
        variant_needs={"other-principal": ("limitedAuthToken", "limitedCredId", "limitedPrivateKey"),
                       "missing-delete": ("limitedPrincipalId",)})
def useraction_invalid(ctx: RecipeContext, variant: str | None) -> Trial:
    if variant in UNSIGNED_METHODS:
        return UNSIGNED_METHODS[variant](ctx)
    admin, path = ctx.principal(), ctx.path(OTHER_APP + "/activate")
    ctx.changes_other_app()
    control = ctx.admin_control("PUT", path, sign=True)
    token = BAD_USER_ACTIONS[variant or "missing"](ctx, path)
    fault = admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
    return Trial(fault, [control])


@recipe("app-modifies-own-state", needs=SIGNING, variants=("deactivate",))
def own_app_state(ctx: RecipeContext, variant: str | None) -> Trial:
    """Deactivate the other app (control), then the calling app itself (fault).

    The other app is switched on again before the fault is sent: if a broken
    server lets the calling app switch itself off, the other app is the only
    way left to switch it back on, at once. Until then every other request of
    the run would be refused, so the fault and that rescue are sent alone.
    """
    admin, action = ctx.principal(), variant or "deactivate"
    ctx.changes_other_app()
    # Registered after the other app, so it runs first: the other app is the way back in.
    ctx.cleanup.keep_app_active(ctx.profile["appId"], label="appId", fallback_app_id=ctx.profile["otherAppId"])
    control = admin.request("PUT", ctx.path(OTHER_APP + "/" + action), sign=True)
    if 200 <= control.status < 300:
        admin.request("PUT", ctx.path(OTHER_APP + "/activate"), sign=True)
    path = ctx.path("/auth/apps/{appId}/" + action)
    token = admin.user_action("PUT", path, b"{}")
    with ctx.alone():
        fault = admin.request("PUT", path, headers={"X-DFNS-USERACTION": token})
        if 200 <= fault.status < 300:
            rescuer = admin.with_identity(admin.auth_token, admin.signer, app_id=ctx.profile["otherAppId"])
            rescuer.app_origin = None  # the other app's origin is unknown; origin is optional in client data
            rescuer.request("PUT", ctx.path("/auth/apps/{appId}/activate"), sign=True)
    return Trial(fault, [control])


def unknown_app_id() -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    pick = lambda n: "".join(random_source.choice(alphabet) for _ in range(n))  # noqa: E731
    return "ap-%s-%s-%s" % (pick(5), pick(5), pick(16))


def _read_unknown_app(ctx: RecipeContext, known: str, unknown: str) -> Trial:
    admin = ctx.principal()
    return Trial(admin.request("GET", unknown), [admin.request("GET", known)])


def _activate_unknown_app(ctx: RecipeContext, known: str, unknown: str) -> Trial:
    ctx.changes_other_app()
    control = ctx.admin_control("PUT", known + "/activate", sign=True)
    return Trial(ctx.principal().request("PUT", unknown + "/activate", sign=True), [control])


#: The requests that name an app: (context, the other app's path, an unknown app's path) → trial.
UNKNOWN_APP_REQUESTS: dict[str, Callable[[RecipeContext, str, str], Trial]] = {
    "get": _read_unknown_app,
    "activate": _activate_unknown_app,
}


@recipe("unknown-app", needs=SIGNING, variants=UNKNOWN_APP_REQUESTS)
def unknown_app(ctx: RecipeContext, variant: str | None) -> Trial:
    return UNKNOWN_APP_REQUESTS[variant or "get"](ctx, ctx.path(OTHER_APP), "/auth/apps/" + unknown_app_id())


REGISTRATION_INIT = "/auth/registration/init"


def _registration_init(ctx: RecipeContext, username: str, code: str) -> Exchange:
    body = {"username": username, "registrationCode": code, "orgId": ctx.profile["orgId"]}
    return ctx.anonymous().request("POST", REGISTRATION_INIT, body)


@recipe(
    "registration-code-expired",
    needs=("appId", "orgId", "pendingUsername", "pendingRegistrationCode", "expiredUsername", "expiredRegistrationCode"),
)
def registration_code_expired(ctx: RecipeContext, variant: str | None) -> Trial:
    p = ctx.profile
    control = _registration_init(ctx, p["pendingUsername"], p["pendingRegistrationCode"])
    fault = _registration_init(ctx, p["expiredUsername"], p["expiredRegistrationCode"])
    return Trial(fault, [control])


@recipe(
    "user-already-exists",
    needs=("appId", "orgId", "pendingUsername", "pendingRegistrationCode", "registeredUsername"),
)
def user_already_exists(ctx: RecipeContext, variant: str | None) -> Trial:
    """The pending user's valid request, with the username of one who already registered."""
    p = ctx.profile
    control = _registration_init(ctx, p["pendingUsername"], p["pendingRegistrationCode"])
    fault = _registration_init(ctx, p["registeredUsername"], p["pendingRegistrationCode"])
    return Trial(fault, [control])


@recipe("internal-error-shape", needs=BASE)
def internal_error_probe(ctx: RecipeContext, variant: str | None) -> Trial:
    """Odd but legal header bytes: whatever the server answers, a 5xx must be the documented one."""
    admin = ctx.principal()
    control = ctx.admin_control("GET", "/auth/apps")
    odd = {
        "X-DFNS-APPID": ctx.profile["appId"] + "\xe9\xff",
        "Authorization": "Bearer " + ctx.profile["authToken"] + "\xa0\xff",
        "X-DFNS-NONCE": make_nonce() + "\xfe" * 8192,
    }
    probes = [admin.request("GET", "/auth/apps", headers={name: value}) for name, value in odd.items()]
    return Trial(probes[0], [control], probes=probes)
