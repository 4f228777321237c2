"""The one place that builds requests to a Dfns API.

Every request of the suite, valid or deliberately broken, goes through
``DfnsClient.request``: it adds the headers the docs require (app id, a fresh
nonce, the bearer token), signs mutating requests on demand, records the
exchange so a failure can show it as a runnable ``curl``, and hands every
response to the observers (the suite's response audit).
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import requests

from dfns_contract.client.exchange import (
    EnvironmentAnswer,
    Exchange,
    FlowError,
    NotJSON,
    RateLimited,
    TransportError,
    is_gateway_answer,
    is_rate_limit,
)
from dfns_contract.client.chains import CHAINS
from dfns_contract.client.guard import TargetGuard
from dfns_contract.client.pacing import InFlight, Pacing
from dfns_contract.client.secrets import SECRETS
from dfns_contract.client.retries import NO_ANSWER_KINDS, RETRIES, Retries, count_rate_limited, count_reset
from dfns_contract.client.transport import DfnsAdapter, mount_adapter, prepare, send_settings
from dfns_contract.wire import keys
from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.wire.headers import AS_DOCUMENTED, Spelling
from dfns_contract.wire.nonce import make_nonce

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Headers whose value is good for one request: a request whose caller chose one is never sent again on its own.
ONE_TIME_HEADERS = frozenset({"x-dfns-nonce", "x-dfns-useraction"})

_UNSET: Any = object()


@dataclass(frozen=True)
class KeySigner:
    """A Key credential: its id as registered and its private key."""

    cred_id: str
    private_key_pem: str = field(repr=False)

    def __post_init__(self) -> None:
        SECRETS.add(self.private_key_pem, "privateKey")

    @cached_property
    def _key(self) -> keys.PrivateKey:
        return keys.load_private_key(self.private_key_pem)

    def sign(self, data: bytes) -> bytes:
        return keys.sign(self._key, data)


Observer = Callable[[Exchange], None]


class DfnsClient:
    """A principal talking to one environment: app id, token and, optionally, a signer."""

    def __init__(
        self,
        base_url: str,
        app_id: str | None,
        *,
        auth_token: str | None = None,
        signer: KeySigner | None = None,
        app_origin: str | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        observers: Iterable[Observer] = (),
        retry_transport: int = 0,
        pacer: Pacing | None = None,
        in_flight: InFlight | None = None,
        guard: TargetGuard | None = None,
        spelling: Spelling = AS_DOCUMENTED,
        sends_nonce: bool = True,
        retries: Retries | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.auth_token = auth_token
        self.signer = signer
        self.app_origin = app_origin
        self.timeout = timeout
        self.session = session or requests.Session()
        self.observers = list(observers)
        #: Connection failures (nothing sent yet) are retried this often; see ``transport``.
        self.retry_transport = retry_transport
        #: ``--dfns-rate-limit`` (a rate, or ``auto``: the target's quota): shared by every client of the process,
        #: copied to each new identity; told of each request before it leaves and of each answer.
        self.pacer = pacer
        #: ``--dfns-concurrency``: at most so many requests of the process at once; None: unbounded.
        self.in_flight = in_flight
        #: A race's sender: takes no ``in_flight`` slot (``contract/races.py``).
        self.bursting = False
        #: Requests the pacer already counted (a race's senders leave together: ``Pacing.before_burst``).
        self.paced_ahead = 0
        #: The run's breaker and deadline (``guard.py``), shared by every client of the process; None: unguarded.
        self.guard = guard
        #: How header names are spelled (``wire/headers.py``): the same request must work under any case.
        self.spelling = spelling
        #: Whether each request carries a fresh ``X-DFNS-NONCE``: the 2024 and 2025 pages require one, the
        #: 2026 reference has none (``X-DFNS-APPID`` goes with ``app_id``: None sends none).
        self.sends_nonce = sends_nonce
        #: The 429 budget of a client without a guard (``_retries``); None: the process's (``RETRIES``).
        self.retries = retries
        mount_adapter(self.session, self.base_url, retry_transport)
        SECRETS.add(auth_token, "authToken")

    def with_identity(
        self, auth_token: str | None, signer: KeySigner | None = None, app_id: str | None = _UNSET
    ) -> "DfnsClient":
        """Another principal (or app) on the same connection pool and observers."""
        return DfnsClient(
            self.base_url,
            self.app_id if app_id is _UNSET else app_id,
            auth_token=auth_token,
            signer=signer,
            app_origin=self.app_origin,
            timeout=self.timeout,
            session=self.session,
            observers=self.observers,
            retry_transport=self.retry_transport,
            pacer=self.pacer,
            in_flight=self.in_flight,
            guard=self.guard,
            spelling=self.spelling,
            sends_nonce=self.sends_nonce,
            retries=self.retries,
        )

    def spelled(self, spelling: Spelling) -> "DfnsClient":
        """The same principal, sending header names spelled this way."""
        clone = self.with_identity(self.auth_token, self.signer)
        clone.spelling = spelling
        return clone

    def for_cleanup(self) -> "DfnsClient":
        """The same principal for the session cleanup: the run's breaker and deadline do not stop it.

        Its guard has a breaker of its own and no deadline (``TargetGuard.for_cleanup``):
        each request is bounded by the timeout, and once one fails at transport level
        the cleanup's later requests are not sent.
        """
        clone = self.with_identity(self.auth_token, self.signer)
        clone.guard = self.guard.for_cleanup() if self.guard is not None else None
        return clone

    def on_new_connection(self) -> "DfnsClient":
        """The same principal on a connection pool of its own (one per concurrent sender)."""
        clone = self.with_identity(self.auth_token, self.signer)
        clone.session = requests.Session()
        mount_adapter(clone.session, clone.base_url, clone.retry_transport)
        return clone

    def headers(self, *, auth: bool = True) -> dict[str, str]:
        spell = self.spelling
        headers = {spell("X-DFNS-NONCE"): make_nonce()} if self.sends_nonce else {}
        if self.app_id is not None:
            headers[spell("X-DFNS-APPID")] = self.app_id
        if auth and self.auth_token:
            headers[spell("Authorization")] = "Bearer " + self.auth_token
        return headers

    def request(
        self,
        method: str,
        path: str,
        json: Any = _UNSET,
        *,
        headers: Mapping[str, str | None] | None = None,
        sign: bool = False,
        auth: bool = True,
    ) -> Exchange:
        """Send one request; ``headers`` override the defaults, ``None`` removes one.

        A mutating request always carries a JSON body (``{}`` when none is
        given), because the user-action signature covers the exact payload.
        The headers are built again for each sending (``send``'s ``rebuild``): a
        request sent again gets a new nonce and, when signed, a new user action.
        """
        method = method.upper()
        if json is _UNSET:
            json = {} if method in MUTATING_METHODS else None
        body = None if json is None else jsonlib.dumps(json, separators=(",", ":")).encode()

        def build() -> dict[str, str]:
            final = self.headers(auth=auth)
            spell = self.spelling
            if body is not None:
                final[spell("Content-Type")] = "application/json"
            if sign:
                final[spell("X-DFNS-USERACTION")] = self.user_action(method, path, body or b"")
            for name, value in (headers or {}).items():
                for existing in [k for k in final if k.lower() == name.lower()]:
                    del final[existing]
                if value is not None:
                    final[spell(name)] = value
            return final

        chosen = [name for name, value in (headers or {}).items()
                  if value is not None and name.lower() in ONE_TIME_HEADERS]
        return self.send(method, path, build(), body, rebuild=build, chosen=tuple(chosen))

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes | None, *,
             rebuild: Callable[[], dict[str, str]] | None = None, chosen: tuple[str, ...] = ()) -> Exchange:
        """Send exactly these headers and body: no defaults added (fuzzing uses it directly).

        The environment's answers are handled here, once for every request of
        the run (``client/retries.py``, ``docs/environment-answers.md``): a
        connection reset or closed before any answer is sent again once, on a
        new connection, with the headers ``rebuild`` makes (fresh one-time
        values), unless the caller chose a one-time value (``chosen``) or gave
        no ``rebuild``; a 429 is waited out and the request sent again; a 502,
        503 or 504 is ``EnvironmentAnswer``. Nothing of these reaches an observer.
        """
        sent_again = False
        attempt = 0
        while True:
            try:
                return self._send_once(method, path, headers, body)
            except TransportError as failure:
                if failure.kind not in NO_ANSWER_KINDS:
                    raise self._failed(failure) from None
                if sent_again:
                    failure.add_note_line("sent again once, on a new connection with fresh one-time values: it "
                                          "failed too, so the target is taken as unreachable")
                    raise self._failed(failure) from None
                refusal = self._not_again(rebuild, chosen)
                if refusal:
                    failure.add_note_line("not sent again: %s" % refusal)
                    raise failure from None  # one request's loss: the breaker stays closed
                sent_again = True
                count_reset()
                self._new_connections()
            except RateLimited as limited:
                count_rate_limited()
                retries = self._retries()
                remaining = self.guard.remaining() if self.guard is not None else None
                wait = retries.allowance(limited.retry_after, attempt, remaining)
                if wait is None:
                    raise RateLimited(limited.exchange, why=(
                        "waiting again would pass the rate-limit budget (%.0f s, --dfns-rate-limit-budget) or the "
                        "run's deadline" % retries.budget)) from None
                retries.wait(wait)
                attempt += 1
            if rebuild is not None:
                headers = rebuild()

    @staticmethod
    def _not_again(rebuild: Callable[[], dict[str, str]] | None, chosen: tuple[str, ...]) -> str:
        """Why a request whose connection failed before any answer may not be sent again ("" when it may)."""
        if rebuild is None:
            return "its headers were given exactly (they may hold a one-time value the first sending used)"
        if chosen:
            return ("the case chose its one-time value (%s): the first sending may have been processed, and a second "
                    "would be a reuse the case did not mean" % ", ".join(chosen))
        return ""

    def _retries(self) -> Retries:
        """The budget for 429s: the guard's (the run's, or the cleanup's), else the client's, else the process's."""
        if self.guard is not None:
            return self.guard.retries
        return self.retries if self.retries is not None else RETRIES

    def _new_connections(self) -> None:
        """The next request goes out on a new connection (the idle ones may be as dead as the one that failed)."""
        adapter = self.session.get_adapter(self.base_url + "/")
        if isinstance(adapter, DfnsAdapter):
            adapter.drop_idle()

    def _send_once(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Exchange:
        """One sending: ``TransportError`` without an answer, ``RateLimited`` for a 429, ``EnvironmentAnswer``
        for a gateway's answer, else the exchange after every observer saw it."""
        url = self.base_url + path
        # What Session.prepare_request and merge_environment_settings would give, cached (see transport).
        prepared = prepare(self.session, method, url, body)
        # Set after preparing: requests refuses values with surrounding whitespace,
        # which servers strip and the fuzzing must be able to send.
        prepared.headers.update(headers)
        settings = send_settings(self.session, self.base_url)
        settings["stream"] = True  # the body is read below, where a cut inside it is a transport failure
        with self.in_flight.slot(burst=self.bursting) if self.in_flight is not None else nullcontext():
            if self.paced_ahead:
                self.paced_ahead -= 1
            elif self.pacer is not None:
                self.pacer.before_send()
            if self.guard is not None:
                self.guard.before_send(method, url, headers, body)
            CHAINS.sent()
            started = time.monotonic()
            try:
                response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False, **settings)
            except requests.RequestException as exc:
                raise TransportError(method, url, headers, body, exc, waited=time.monotonic() - started) from None
            try:
                response.content  # noqa: B018 - reads the body
            except requests.RequestException as exc:
                response.close()
                raise TransportError(method, url, headers, body, exc, waited=time.monotonic() - started,
                                     answer=response) from None
        exchange = Exchange(method, url, dict(headers), body, response)
        if self.pacer is not None:
            self.pacer.observe(response.status_code, response.headers)  # a 429's too: the quota is learned from it
        if is_rate_limit(response.status_code):
            raise RateLimited(exchange)  # before any observer: a rate limiter's answer is not the contract's
        if is_gateway_answer(response.status_code):
            raise EnvironmentAnswer(exchange)  # nor is a gateway's, whatever its shape
        for observe in self.observers:
            observe(exchange)
        return exchange

    def _failed(self, error: TransportError) -> TransportError:
        """Tell the guard (its breaker opens), and hand the error back to be raised."""
        if self.guard is not None:
            self.guard.failed(error)
        return error

    # -- flows -----------------------------------------------------------------

    def user_action(self, method: str, path: str, payload: bytes | str) -> str:
        """Init, sign and complete a user action for exactly this request."""
        if self.signer is None:
            raise ValueError("this principal has no Key credential to sign user actions with")
        payload_text = payload.decode() if isinstance(payload, bytes) else payload
        init = self.request(
            "POST",
            "/auth/action/init",
            {
                "userActionPayload": payload_text,
                "userActionHttpMethod": method,
                "userActionHttpPath": path,
                "userActionServerKind": "Api",
            },
        )
        challenge = self._json_of(init, "user action init", 200, "challengeIdentifier")
        allowed = [c.get("id") for c in challenge.get("allowCredentials", {}).get("key", [])]
        if self.signer.cred_id not in allowed:
            raise FlowError("user action init", init, "credential not in allowCredentials.key")
        assertion = self._assertion(challenge["challenge"], "key.get")
        complete = self.request(
            "POST",
            "/auth/action",
            {"challengeIdentifier": challenge["challengeIdentifier"], "firstFactor": assertion},
        )
        token = self._json_of(complete, "user action signing", 200, "userAction")["userAction"]
        SECRETS.add(token, "userAction")
        return token

    def login(self, username: str, org_id: str) -> str:
        """Log in with this client's Key credential; returns the authentication token."""
        init = self.request("POST", "/auth/login/init", {"username": username, "orgId": org_id}, auth=False)
        challenge = self._json_of(init, "login init", 200, "challengeIdentifier")
        assertion = self._assertion(challenge["challenge"], "key.get")
        done = self.request(
            "POST",
            "/auth/login",
            {"challengeIdentifier": challenge["challengeIdentifier"], "firstFactor": assertion},
            auth=False,
        )
        token = self._json_of(done, "login", 200, "token")["token"]
        SECRETS.add(token, "authToken")
        return token

    def register(
        self, username: str, registration_code: str, org_id: str, private_key_pem: str, cred_id: str
    ) -> dict[str, Any]:
        """Complete a user's registration with a new Key credential."""
        SECRETS.add(registration_code, "registrationCode")
        init = self.request(
            "POST",
            "/auth/registration/init",
            {"username": username, "registrationCode": registration_code, "orgId": org_id},
            auth=False,
        )
        challenge = self._json_of(init, "registration init", 200, "temporaryAuthenticationToken")
        return self.complete_registration(challenge, private_key_pem, cred_id)

    def complete_registration(self, challenge: Mapping[str, Any], private_key_pem: str, cred_id: str) -> dict[str, Any]:
        """Complete a registration whose challenge is in hand (registration init's, or delegated registration's)
        with a new Key credential; returns the answer's ``user``."""
        temporary = challenge["temporaryAuthenticationToken"]
        SECRETS.add(temporary, "temporaryAuthenticationToken")
        client_data = self._client_data(challenge["challenge"], "key.create")
        key = keys.load_private_key(private_key_pem)
        credential = {
            "credentialKind": "Key",
            "credentialInfo": {
                "credId": cred_id,
                "clientData": b64url_encode(client_data),
                "attestationData": keys.attestation_data(key, client_data),
            },
        }
        done = self.with_identity(temporary).request(
            "POST", "/auth/registration", {"firstFactorCredential": credential}
        )
        return self._json_of(done, "registration", 200, "user")

    def _client_data(self, challenge: str, kind: str) -> bytes:
        data: dict[str, Any] = {"type": kind, "challenge": challenge}
        if self.app_origin:
            data.update(origin=self.app_origin, crossOrigin=False)
        return jsonlib.dumps(data, separators=(",", ":")).encode()

    def _assertion(self, challenge: str, kind: str) -> dict[str, Any]:
        assert self.signer is not None
        client_data = self._client_data(challenge, kind)
        return {
            "kind": "Key",
            "credentialAssertion": {
                "credId": self.signer.cred_id,
                "clientData": b64url_encode(client_data),
                "signature": b64url_encode(self.signer.sign(client_data)),
            },
        }

    @staticmethod
    def _json_of(exchange: Exchange, step: str, status: int, required: str) -> dict[str, Any]:
        if exchange.status != status:
            raise FlowError(step, exchange)
        try:
            body = exchange.json
        except NotJSON as exc:
            raise FlowError(step, exchange, str(exc)) from exc
        if not isinstance(body, dict) or required not in body:
            raise FlowError(step, exchange, "no %r in the response" % required)
        return body
