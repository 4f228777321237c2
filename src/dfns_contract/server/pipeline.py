"""The checks every request goes through, in the documented order.

1. ``X-DFNS-NONCE``: valid, fresh, never seen  -> 400
2. ``X-DFNS-APPID``: a live application         -> 401
   (steps 1 and 2 only where the contract version requires the header,
   ``ContractVersion.requires_nonce`` and ``requires_app_id``: today's
   reference requires neither, and reads neither, however malformed; what the
   app id gave, the org a principal acts in and the origin its credentials
   sign for, then comes from the principal: ``Call.serves_org``, ``Call.app_for``)
3. ``Authorization``: a bearer token we issued   -> 401
   (of a principal archived or deactivated since: 401 too, but where the
   section documents its caller's errors, ``Endpoint.caller_errors``,
   401 ``User not found`` and 400 ``User account has been deactivated.``)
4. the principal holds the endpoint's operation  -> 403
5. the body parses and has the declared fields   -> 400
6. ``X-DFNS-USERACTION`` (mutations): issued for this principal, method,
   path and payload -> 403; already used -> 400
7. the handler

Endpoints declare what they need (``Endpoint``); handlers are plain
synchronous functions of a ``Call``, so the state change they make cannot
interleave with another request's (under a ``*-racy`` fault a handler may
return an awaitable instead, whose wait is the race the fault stands for).

Single use: every one-time value is claimed by one ``OneTimeStore.claim``
call, which checks and records together, with no ``await`` between the
verdict and the state change it allows. The nonce is claimed at step 1
(before the body is read), the user action at step 6, challenges and
temporary tokens in their handlers. A check made before the body's ``await``
and recorded after it would let every concurrent use through, whatever
arrived while the body was on its way; the only ``await`` between a check and
its record is the one a ``*-racy`` fault puts there on purpose. Step 3's
"temporary token already used?" is a pre-check only (so a sequential reuse is
answered in the documented order); the claim in the handler decides.

Every header value and body is judged, never trusted: a nonce longer than
``Settings.nonce_max_length`` is invalid before it is decoded, JSON is read
through ``json_input`` (bounded depth, no exception but a 400), and a token
that cannot be read is a 401.

The faults that stand for deployments gone wrong act here too, each chosen
once in ``Pipeline.__init__``: which spelling of a header name counts
(header_names.py), how long a used nonce or user action is remembered
(``_nonce_forgotten_at``, ``_user_action_forgotten_at``), which store
remembers it (one, or one per connection as per replica), what a replayed
nonce is answered (the documented 400, or the first answer, as a gateway
caching by nonce would), and which of a token's and a user action's
properties are checked (expiry, the key that signed it, the organisation,
the signer).
"""

from __future__ import annotations

import enum
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..wire.encoding import canonical_json
from ..wire.nonce import MIN_UUID_LENGTH, InvalidNonce, Nonce, parse_nonce
from .errors import ApiError, ErrorId
from .faults import FORGETS_AFTER_USE, FORGETS_BY_DATE_AFTER, USER_ACTION_OPTIONAL
from .header_names import header_reader
from .state import ServerState
from .stores import AnswerCache, OneTimeStore, PerConnection
from .tokens import InvalidToken, TokenKind, Verification
from .validation import CHOICES, TYPES, Field, parse_body, validate
from .world import Application, Principal

#: HTTP optional whitespace (RFC 9110 §5.5): all a server may strip around a field value.
#: str.strip() would also eat NBSP and other Unicode spaces, accepting values the client never sent.
OWS = " \t"

_BODYLESS = frozenset({"GET", "HEAD"})

#: Scope key of the nonce a request claimed, under replay-answered-from-cache: (its store key, expiry).
_CLAIMED_NONCE = "dfns.claimed_nonce"


class MalformedJsonCrash(RuntimeError):
    """Raised on purpose (fault malformed-json-500): a server whose JSON parser's error escapes."""


class AnsweredBefore(Exception):
    """Fault replay-answered-from-cache: the nonce was used, and this was the first answer to it."""

    def __init__(self, answer: Response) -> None:
        super().__init__("nonce answered before")
        self.answer = answer


class Access(enum.Enum):
    """Who may call an endpoint."""

    #: Nonce and application only (login, registration init).
    PUBLIC = "public"
    #: An authentication token of a user or service account.
    PRINCIPAL = "principal"
    #: The temporary token of Create User Registration Challenge.
    REGISTRATION = "registration"
    #: The temporary token of Create Recovery Challenge.
    RECOVERY = "recovery"


#: The kind of bearer token each access takes.
_TOKEN_KINDS = {
    Access.PRINCIPAL: TokenKind.AUTH,
    Access.REGISTRATION: TokenKind.REGISTRATION,
    Access.RECOVERY: TokenKind.RECOVERY,
}


@dataclass
class Call:
    """One request that passed the pipeline, as its handler sees it."""

    request: Request
    state: ServerState
    #: The application ``X-DFNS-APPID`` named; None under a version that takes no app id.
    app: Application | None
    principal: Principal | None
    #: The bearer token's claims (empty for public endpoints).
    claims: dict[str, Any]
    body: dict[str, Any]
    now: datetime

    def param(self, name: str) -> str:
        return self.request.path_params[name]

    def serves_org(self, org_id: str) -> bool:
        """Whether this request may act in ``org_id``: the org of the application it named; without
        an app id, whichever org the token's principal or the body names (the handler looked there)."""
        return self.app is None or self.app.org_id == org_id

    def app_for(self, org_id: str) -> Application:
        """The application credentials are made for and signed for (relying party, origin): the one
        the request named; without an app id, the org's own (its first live one), else 401."""
        if self.app is not None:
            return self.app
        app = self.state.world.home_app(org_id)
        if app is None:
            raise ApiError(ErrorId.NOT_AUTHORIZED)
        return app

    @property
    def user(self) -> Principal:
        """The authenticated principal (endpoints with PRINCIPAL, REGISTRATION or RECOVERY access)."""
        assert self.principal is not None
        return self.principal


@dataclass(frozen=True)
class Reply:
    """A handler's answer with a status other than 200 (a request held for approval: 202)."""

    body: Any
    status: int = 200


#: A handler returns the JSON body of a 200, or a ``Reply``.
Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    access: Access = Access.PRINCIPAL
    #: The operation the principal must hold (403 otherwise).
    operation: str | None = None
    #: Whether a user action signature must accompany the request.
    user_action: bool = False
    fields: tuple[Field, ...] = field(default_factory=tuple)
    #: Operations the principal must hold besides ``operation`` (checked in order after it).
    more_operations: tuple[str, ...] = ()
    #: The section documents errors about its caller (User Action Signing): a valid token of an
    #: archived user is 401 ``User not found``, of a deactivated one 400 ``User account has been
    #: deactivated.``; elsewhere both are the common 401 ``Not Authorized.``.
    caller_errors: bool = False
    #: A step of an auth flow (it issues a token, it changes no resource) whose page asks for a user
    #: action all the same (Delegated Login): a version may not (``ContractVersion.flows_need_user_action``).
    flow_step: bool = False


class Pipeline:
    """Turns endpoint declarations into Starlette routes that run the checks first."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        faults = state.faults
        settings = state.settings
        self.renderer = state.renderer
        version = state.contract
        # Faults and the version are read once here, not per request.
        self.check_nonce = "nonce-check-off" not in faults and (
            version.requires_nonce or "nonce-required-2026" in faults
        )
        self.app_id_header = version.requires_app_id
        self.flows_need_user_action = version.flows_need_user_action
        self.json_crashes = "malformed-json-500" in faults
        self.unchecked_fields = frozenset(
            kind for kind, switch in ((TYPES, "field-types-unchecked"), (CHOICES, "field-choices-unchecked"))
            if switch in faults)
        self.nonce_replay = "nonce-replay-off" not in faults
        self.nonce_racy = "nonce-replay-racy" in faults
        self.nonce_keyed_by_text = "nonce-replay-by-encoding" in faults
        self.nonce_max_length = settings.nonce_max_length
        self.nonce_uuid_max_length = settings.nonce_uuid_max_length
        self.max_json_depth = settings.max_json_depth
        self.nonce_options: dict[str, Any] = {
            "max_age": settings.nonce_max_age,
            "max_skew": settings.nonce_max_skew,
            "min_uuid_length": 1 if "nonce-short-uuid" in faults else MIN_UUID_LENGTH,
            "check_freshness": "nonce-freshness-off" not in faults,
        }
        self.header = header_reader("header-names-case-sensitive" in faults)
        self.nonce_forgets_by_date = "nonce-store-forgets-by-date" in faults
        self.nonce_forgets_after_use = "nonce-store-forgets-after-1s" in faults
        self.user_action_forgets_after_use = "useraction-store-forgets-after-1s" in faults
        #: Fault replay-store-per-replica: used nonces and user actions, per connection.
        self.replica_nonces: PerConnection | None = None
        self.replica_user_actions: PerConnection | None = None
        if "replay-store-per-replica" in faults:
            self.replica_nonces = PerConnection(state.clock)
            self.replica_user_actions = PerConnection(state.clock)
            state.sweeper.watch(self.replica_nonces)
            state.sweeper.watch(self.replica_user_actions)
        #: Fault replay-answered-from-cache: the first answer to each nonce.
        self.answers: AnswerCache[Response] | None = None
        if "replay-answered-from-cache" in faults:
            self.answers = AnswerCache(state.clock)
            state.sweeper.watch(self.answers)
        self.auth_off = "auth-off" in faults
        self.bearer_verification = (
            Verification.UNCHECKED
            if "auth-signature-unchecked" in faults
            else Verification.ALLOW_ALG_NONE
            if "auth-alg-none" in faults
            else Verification.TRUST_EMBEDDED_JWK
            if "token-trusts-embedded-jwk" in faults
            else Verification.STRICT
        )
        self.check_token_expiry = "token-expiry-unchecked" not in faults
        self.check_token_org = "token-any-org" not in faults
        self.check_permissions = "forbidden-off" not in faults
        self.check_user_action = "useraction-check-off" not in faults
        #: useraction-optional-*: methods whose requests without the header are served.
        self.user_action_optional = frozenset(
            method for name, method in USER_ACTION_OPTIONAL.items() if name in faults
        )
        self.bind_user_action = "useraction-unbound" not in faults
        self.bind_user_action_to_signer = "useraction-any-principal" not in faults
        self.user_action_single_use = "useraction-reuse-off" not in faults
        self.user_action_racy = "useraction-racy" in faults
        self.archived_caller_allowed = "useraction-archived-user-allowed" in faults
        self.deactivated_caller_allowed = "useraction-deactivated-allowed" in faults

    def route(self, endpoint: Endpoint) -> Route:
        async def run(request: Request) -> Response:
            try:
                response = await self._run(endpoint, request)
            except ApiError as exc:
                response = self.renderer.error(exc)
            except AnsweredBefore as replay:
                return replay.answer
            if self.answers is not None:
                self._remember_answer(request, response)
            return response

        run.__name__ = endpoint.handler.__name__
        return Route(endpoint.path, run, methods=[endpoint.method])

    async def _run(self, endpoint: Endpoint, request: Request) -> Response:
        state = self.state
        if self.check_nonce:
            if self.nonce_racy:
                await self._nonce_racy(request)
            else:
                self._nonce(request)
        app = self._application(request) if self.app_id_header else None
        principal, claims = self._authenticate(request, endpoint, app)
        if endpoint.operation and self.check_permissions:
            for operation in (endpoint.operation, *endpoint.more_operations):
                self._authorize(principal, operation)
        body = await self._body(request, endpoint)
        if self._needs_user_action(endpoint, request):
            assert principal is not None
            if self.user_action_racy:
                await self._user_action_racy(request, principal, body)
            else:
                self._user_action(request, principal, body)
        call = Call(request, state, app, principal, claims, body, state.clock())
        result = endpoint.handler(call)
        if inspect.isawaitable(result):  # only a *-racy fault's slow store makes a handler wait
            result = await result
        if isinstance(result, Reply):
            return self.renderer.json(result.body, result.status)
        return self.renderer.json(result)

    # -- 1. nonce ----------------------------------------------------------------

    def _parse_nonce(self, request: Request) -> tuple[str, datetime | None]:
        """The key the replay store knows a valid nonce by, and when it may forget it.

        The key is the decoded uuid, so a used nonce is refused however it is
        encoded again (key order, whitespace, padding) and whatever date it is
        sent with; the fault nonce-replay-by-encoding keys by the header's text.
        """
        header = (self.header(request, "X-DFNS-NONCE") or "").strip(OWS)
        if len(header) > self.nonce_max_length:
            raise ApiError(ErrorId.NONCE_INVALID)
        try:
            nonce = parse_nonce(header or None, self.state.clock(), **self.nonce_options)
        except (InvalidNonce, ValueError, RecursionError):
            # The shared decoder lets json's digit-limit ValueError and RecursionError through;
            # the length bound above keeps both out of reach, this keeps them a 400 regardless.
            raise ApiError(ErrorId.NONCE_INVALID) from None
        if len(nonce.uuid) > self.nonce_uuid_max_length:
            raise ApiError(ErrorId.NONCE_INVALID)
        return header if self.nonce_keyed_by_text else nonce.uuid, self._nonce_forgotten_at(nonce)

    def _nonce_forgotten_at(self, nonce: Nonce) -> datetime | None:
        """When the store may forget this nonce: once its date is stale (None: never, if dates are not judged).

        The faults forget sooner: by the date but with a window shorter than the
        one dates are accepted in, or a fixed time after the first use.
        """
        if self.nonce_forgets_after_use:
            return self.state.clock() + FORGETS_AFTER_USE
        if self.nonce_forgets_by_date:
            return nonce.date + FORGETS_BY_DATE_AFTER
        if not self.nonce_options["check_freshness"]:
            return None
        return nonce.date + self.state.settings.nonce_max_age

    def _nonce_store(self, request: Request) -> OneTimeStore:
        """The server's store; under replay-store-per-replica, that of this connection's replica."""
        if self.replica_nonces is not None:
            return self.replica_nonces.store(request.scope.get("client"))
        return self.state.nonces

    def _nonce(self, request: Request) -> None:
        key, expires = self._parse_nonce(request)
        if self.nonce_replay and not self._nonce_store(request).claim(key, expires):
            self._replayed(key)
        self._note_claimed(request, key, expires)

    async def _nonce_racy(self, request: Request) -> None:
        key, expires = self._parse_nonce(request)
        if self.nonce_replay and not await self._nonce_store(request).claim_slowly(key, expires):
            self._replayed(key)
        self._note_claimed(request, key, expires)

    def _replayed(self, key: str) -> NoReturn:
        """The documented 400; under replay-answered-from-cache, the first answer if it is ready."""
        if self.answers is not None:
            first = self.answers.recall(key)
            if first is not None:
                raise AnsweredBefore(first)
        raise ApiError(ErrorId.NONCE_REUSED)

    def _note_claimed(self, request: Request, key: str, expires: datetime | None) -> None:
        if self.answers is not None:
            request.scope[_CLAIMED_NONCE] = (key, expires)

    def _remember_answer(self, request: Request, response: Response) -> None:
        """Keep the answer to the request that claimed its nonce, to give it again to its replays.

        Only a whole body can be given again: a streamed one (the chunked
        variation) is not kept, and its replays get the documented 400.
        """
        claimed = request.scope.get(_CLAIMED_NONCE)
        if self.answers is not None and claimed is not None and hasattr(response, "body"):
            key, expires = claimed
            self.answers.remember(key, response, expires)

    # -- 2. application ----------------------------------------------------------

    def _application(self, request: Request) -> Application:
        app = self.state.world.apps.get(self.header(request, "X-DFNS-APPID") or "")
        if app is None or not app.is_active or app.is_archived:
            raise ApiError(ErrorId.NOT_AUTHORIZED)
        return app

    # -- 3. authentication -------------------------------------------------------

    def _authenticate(
        self, request: Request, endpoint: Endpoint, app: Application | None
    ) -> tuple[Principal | None, dict[str, Any]]:
        if endpoint.access is Access.PUBLIC:
            return None, {}
        header = self.header(request, "Authorization")
        if header is None and self.auth_off and endpoint.access is Access.PRINCIPAL:
            return self.state.world.principals[self.state.seeded.admin.principal_id], {}
        token = _bearer(header)
        kind = _TOKEN_KINDS[endpoint.access]
        try:
            claims = (
                self.state.tokens.read(
                    token,
                    kind,
                    self.bearer_verification,
                    check_expiry=self.check_token_expiry or kind is not TokenKind.AUTH,
                )
                if token
                else None
            )
        except InvalidToken:
            claims = None
        principal = self.state.world.find_principal(claims["sub"]) if claims else None
        if claims is None or (principal is None and not endpoint.caller_errors):
            raise ApiError(ErrorId.NOT_AUTHORIZED)
        # A principal acts in its own organisation only: the app (if the version has one) names it.
        if principal is not None and app is not None and self.check_token_org and principal.org_id != app.org_id:
            raise ApiError(ErrorId.NOT_AUTHORIZED)
        principal = self._caller(endpoint, principal)
        # A pre-check (see the module docstring): the registration and recovery handlers claim the token.
        if kind is TokenKind.REGISTRATION and principal.is_registered:
            raise ApiError(ErrorId.NOT_AUTHORIZED)
        if kind is not TokenKind.AUTH and claims["jti"] in self.state.challenges:
            raise ApiError(ErrorId.NOT_AUTHORIZED)
        return principal, claims

    def _caller(self, endpoint: Endpoint, principal: Principal | None) -> Principal:
        """The token's principal, if it may still call: gone (archived) or deactivated, it may not.

        Endpoints with ``caller_errors`` say which (their section documents it); the others
        answer the common 401. Two faults let such a caller through where the section documents it.
        """
        if principal is None or principal.is_archived:
            if not endpoint.caller_errors:
                raise ApiError(ErrorId.NOT_AUTHORIZED)
            if principal is None or not self.archived_caller_allowed:
                raise ApiError(ErrorId.USER_UNKNOWN)
            return principal  # the fault: served as if it still existed (and were active)
        if not principal.is_active:
            if not endpoint.caller_errors:
                raise ApiError(ErrorId.NOT_AUTHORIZED)
            if not self.deactivated_caller_allowed:
                raise ApiError(ErrorId.USER_DEACTIVATED)
        return principal

    # -- 4. permission -----------------------------------------------------------

    def _authorize(self, principal: Principal | None, operation: str) -> None:
        assert principal is not None
        if operation not in principal.operations:
            raise forbidden(principal, operation)

    # -- 5. body -----------------------------------------------------------------

    async def _body(self, request: Request, endpoint: Endpoint) -> dict[str, Any]:
        if endpoint.method in _BODYLESS:
            return {}
        raw = await request.body()
        try:
            body = parse_body(raw, self.max_json_depth)
        except ApiError:
            if self.json_crashes:
                raise MalformedJsonCrash("the request body is not a JSON object") from None
            raise
        validate(body, endpoint.fields, self.unchecked_fields)
        return body

    # -- 6. user action ----------------------------------------------------------

    def _needs_user_action(self, endpoint: Endpoint, request: Request) -> bool:
        """Whether step 6 runs: the endpoint asks for a user action and the version and faults keep it.

        Under a useraction-optional-* switch a request of its method that carries
        no ``X-DFNS-USERACTION`` skips the step; one that carries any is still judged.
        """
        if not (endpoint.user_action and self.check_user_action):
            return False
        if endpoint.flow_step and not self.flows_need_user_action:
            return False
        if endpoint.method in self.user_action_optional:
            return bool((self.header(request, "X-DFNS-USERACTION") or "").strip(OWS))
        return True

    def _read_user_action(
        self, request: Request, principal: Principal, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The claims of a user action signature valid for this request, or 403."""
        header = (self.header(request, "X-DFNS-USERACTION") or "").strip(OWS)
        try:
            claims = self.state.tokens.read(header, TokenKind.USER_ACTION) if header else None
        except InvalidToken:
            claims = None
        if claims is None or (
            self.bind_user_action_to_signer and claims["sub"] != principal.principal_id
        ):
            raise ApiError(ErrorId.USER_ACTION_INVALID)
        if self.bind_user_action and (
            claims.get("method") != request.method
            or claims.get("path") != _target(request)
            or claims.get("payload") != payload_digest(body)
        ):
            raise ApiError(ErrorId.USER_ACTION_INVALID)
        return claims

    def _user_action_forgotten_at(self, claims: dict[str, Any]) -> datetime:
        """When the store may forget a used user action: once it expires (the fault: 1 s after its use)."""
        if self.user_action_forgets_after_use:
            return self.state.clock() + FORGETS_AFTER_USE
        return _expiry(claims)

    def _user_action_store(self, request: Request) -> OneTimeStore:
        """The server's store; under replay-store-per-replica, that of this connection's replica."""
        if self.replica_user_actions is not None:
            return self.replica_user_actions.store(request.scope.get("client"))
        return self.state.user_actions

    def _user_action(self, request: Request, principal: Principal, body: dict[str, Any]) -> None:
        claims = self._read_user_action(request, principal, body)
        if self.user_action_single_use and not self._user_action_store(request).claim(
            claims["jti"], self._user_action_forgotten_at(claims)
        ):
            raise ApiError(ErrorId.USER_ACTION_REUSED)

    async def _user_action_racy(
        self, request: Request, principal: Principal, body: dict[str, Any]
    ) -> None:
        claims = self._read_user_action(request, principal, body)
        store = self._user_action_store(request)
        if self.user_action_single_use and not await store.claim_slowly(
            claims["jti"], self._user_action_forgotten_at(claims)
        ):
            raise ApiError(ErrorId.USER_ACTION_REUSED)


def forbidden(principal: Principal, operation: str) -> ApiError:
    """The 403 of a principal that lacks ``operation``: the message names both (and its org, for a
    fault to name instead); the details too."""
    return ApiError(
        ErrorId.FORBIDDEN,
        details={"principalId": principal.principal_id, "operation": operation},
        principal_kind=principal.kind.value,
        principal_id=principal.principal_id,
        operation=operation,
        org_id=principal.org_id,
    )


def payload_digest(payload: Any) -> str:
    """What a user action is bound to: the SHA-256 of the payload's canonical JSON.

    A digest rather than the payload itself keeps the signature's size
    independent of the body's (it travels in a header). ``surrogatepass``:
    JSON may spell a lone surrogate (``"\\ud800"``), which UTF-8 cannot encode.
    """
    return hashlib.sha256(canonical_json(payload).encode("utf-8", "surrogatepass")).hexdigest()


def _bearer(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme case-insensitive, RFC 9110)."""
    if not header:
        return None
    scheme, _, token = header.strip(OWS).partition(" ")
    token = token.strip(OWS)
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def _target(request: Request) -> str:
    """The path a user action is signed for: the request's path, with its query if any."""
    query = request.scope.get("query_string", b"")
    return request.scope["path"] + ("?" + query.decode("latin-1") if query else "")


def _expiry(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(claims["exp"], UTC)
