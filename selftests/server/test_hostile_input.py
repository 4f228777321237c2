"""No 5xx from client input: any header value, nonce or body gets a 4xx in the envelope, or passes.

Properties over raw requests (written byte by byte, see raw_http.py), beside
the suite's own fuzzing of the documented headers: header values of any
bytes a header line can carry, nonces whose JSON has any shape (deep, huge
numbers, wrong types, lone surrogates), bodies of any bytes or JSON
(deep, huge, invalid UTF-8, under any content type) on every endpoint,
reaching the handlers with a valid nonce, app, token and, for mutations, a
user action signed for that very body. Each answer must be a success or a
4xx in the documented envelope, and the server must log no traceback: a 500
is for a fault of the server, never for what a client sent.

Derandomized with a fixed budget, so every run tries the same examples.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.server.endpoints import ENDPOINTS
from dfns_contract.server.runner import RunningServer
from dfns_contract.server.world import new_cred_id
from dfns_contract.wire.encoding import b64url_encode
from dfns_contract.wire.nonce import iso_now, make_nonce

from .raw_http import RawResponse, exchange, request

BUDGET = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROUTES = sorted({(e.method, e.path) for e in ENDPOINTS})


class Tracebacks(logging.Handler):
    """Every log record that carries an exception, from any logger (uvicorn's, asyncio's too)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text:
            self.records.append(record)


@pytest.fixture(scope="module")
def tracebacks() -> Iterator[Tracebacks]:
    handler = Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


class World(dict):
    """The profile and the values the routes need, shown without its contents: Hypothesis prints a failing
    example's arguments, fixtures included, and this one holds the server's tokens and private keys."""

    def __repr__(self) -> str:
        return "<world: the module server's profile, %d keys, not shown (secrets)>" % len(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # noqa: ANN001 - Hypothesis' pretty printer asks this first
        printer.text(repr(self))


@pytest.fixture(scope="module")
def world(server: RunningServer, principals) -> World:
    """The module server's profile, with path parameters that exist and, per route, the field
    values that get a body past its own checks: live challenges, the admin's credential id, a
    temporary token for Complete User Registration (with its route's ``token``)."""
    p, admin = server.profile, principals.admin(server)
    login = admin.request("POST", "/auth/login/init",
                          {"username": p["registeredUsername"], "orgId": p["orgId"]}, auth=False).json
    action = admin.request("POST", "/auth/action/init", {
        "userActionPayload": "{}", "userActionHttpMethod": "GET", "userActionHttpPath": "/auth/apps",
    }).json
    registration = admin.request("POST", "/auth/registration/init", {
        "username": p["pendingUsername"], "registrationCode": p["pendingRegistrationCode"],
        "orgId": p["orgId"],
    }, auth=False).json
    people = {"username": p["registeredUsername"], "orgId": p["orgId"]}
    return World({
        **p,
        "userId": server.state.seeded.admin.principal_id,
        "known": {
            "/auth/login/init": people,
            "/auth/registration/init": {**people, "username": p["pendingUsername"],
                                        "registrationCode": p["pendingRegistrationCode"]},
            "/auth/login": {"challengeIdentifier": login["challengeIdentifier"], "credId": p["credId"]},
            "/auth/action": {"challengeIdentifier": action["challengeIdentifier"],
                             "credId": p["credId"]},
            "/auth/registration": {"credId": new_cred_id(),
                                   "token": registration["temporaryAuthenticationToken"]},
        },
    })


def judged(answer: RawResponse, tracebacks: Tracebacks, logged_before: int) -> None:
    """A success or a 4xx in the envelope, and no traceback logged since ``logged_before``
    (the server logs a fault before it answers, so the answer's arrival is late enough)."""
    assert answer.status < 500, (answer.status, answer.body[:300])
    if answer.status >= 400:
        assert answer.is_envelope(), (answer.status, answer.headers, answer.body[:300])
    new = tracebacks.records[logged_before:]
    assert new == [], [r.getMessage() for r in new]


def target(path: str, world: dict) -> str:
    return (
        path.replace("{appId}", world["otherAppId"])
        .replace("{userId}", world["userId"])
        .replace("{username}", world["pendingUsername"])
    )


# -- what a client can send ---------------------------------------------------------------

#: Bytes a header value can carry on one line (no CR or LF); the parser refuses some of them.
HEADER_BYTES = st.binary(max_size=64).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
LATIN1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=64)


def deep(opening: str, closing: str) -> st.SearchStrategy[str]:
    return st.integers(1, 3000).map(lambda n: opening * n + closing * n)


#: JSON texts: any value, values nested past any parser's limit, integers past Python's digit limit.
JSON_TEXTS = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=12,
    ).map(json.dumps),
    deep("[", "]"),
    deep('{"a":', "}").map(lambda t: t.replace("}", "1}", 1)),
    st.integers(4000, 5000).map(lambda n: "1" * n),
    st.sampled_from(['"\\ud800"', '{"uuid": "\\udfff\\ud800aaaaaaaaaaaaaa", "date": "%s"}']).map(
        lambda t: t.replace("%s", iso_now())
    ),
)


def nonce_shapes() -> st.SearchStrategy[str]:
    """``X-DFNS-NONCE`` values: base64url of any JSON, of odd ``uuid``/``date`` fields, or not at all."""
    field_values = st.one_of(JSON_TEXTS, st.text(max_size=300).map(json.dumps))
    objects = st.tuples(field_values, st.one_of(field_values, st.just(json.dumps(iso_now())))).map(
        lambda uv: '{"uuid": %s, "date": %s}' % uv
    )
    texts = st.one_of(JSON_TEXTS, objects)
    return st.one_of(
        texts.map(lambda t: b64url_encode(t.encode("utf-8", "surrogatepass"))),
        st.binary(max_size=200).map(b64url_encode),
        LATIN1,
        st.integers(1000, 40_000).map(lambda n: make_nonce() + "A" * n),
    )


#: Fields whose string carries JSON of its own: base64url of it, or (the payload) the text itself.
ENCODED_JSON = ("clientData", "attestationData", "signature")


def _skeleton(route: tuple[str, str]) -> dict:
    """The route's declared fields as a tree: dotted paths become nested dicts, leaves ``Field``s."""
    tree: dict = {}
    for field in next(e.fields for e in ENDPOINTS if (e.method, e.path) == route):
        *parents, name = field.path.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        if field.type is not dict:
            node[name] = field
        else:
            node.setdefault(name, {})
    return tree


def _leaf(field, known: dict) -> st.SearchStrategy[str]:
    """JSON text for one field: mostly what gets the request past the field's own check, so the
    hostile part reaches the code behind it; sometimes any JSON at all."""
    name = field.path.rsplit(".", 1)[-1]
    hostile = JSON_TEXTS
    if name in ENCODED_JSON:
        plausible = JSON_TEXTS.map(lambda t: json.dumps(b64url_encode(t.encode("utf-8", "surrogatepass"))))
    elif name == "userActionPayload":
        plausible = JSON_TEXTS.map(json.dumps)
    elif name in known:
        plausible = st.just(json.dumps(known[name]))
    elif field.choices:
        plausible = st.sampled_from(field.choices).map(json.dumps)
    elif field.type is int:
        plausible = st.integers(-(10**20), 10**20).map(str)
    else:
        plausible = st.text(min_size=1, max_size=40).map(json.dumps)
    return st.one_of(*[plausible] * 7, hostile)


def _render(tree: dict, texts: dict) -> str:
    parts = []
    for name, node in tree.items():
        value = _render(node, texts) if isinstance(node, dict) else texts[node.path]
        parts.append("%s: %s" % (json.dumps(name), value))
    return "{%s}" % ", ".join(parts)


def bodies(route: tuple[str, str], known: dict) -> st.SearchStrategy[bytes]:
    """Bodies for a route: its declared fields with hostile values, deep or huge JSON, raw bytes."""
    tree = _skeleton(route)
    fields = {}

    def collect(node: dict) -> None:
        for child in node.values():
            if isinstance(child, dict):
                collect(child)
            else:
                fields[child.path] = child

    collect(tree)
    shaped = st.fixed_dictionaries({path: _leaf(f, known) for path, f in fields.items()}).map(
        lambda texts: _render(tree, texts).encode("utf-8", "surrogatepass")
    )
    return st.one_of(
        shaped, shaped, shaped,
        JSON_TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
        st.just(b'{"a": "\xff\xfe"}'),
    )


# -- the properties -----------------------------------------------------------------------


@BUDGET
@given(
    route=st.sampled_from(ROUTES + [("GET", "/sandbox/mailbox/{username}"), ("PATCH", "/auth/apps")]),
    replaced=st.sets(st.sampled_from(["X-DFNS-NONCE", "X-DFNS-APPID", "Authorization",
                                      "X-DFNS-USERACTION", "Content-Type"]), max_size=3),
    values=st.lists(HEADER_BYTES, min_size=3, max_size=3),
    extra=st.tuples(st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12), HEADER_BYTES),
)
def test_any_header_value_gets_a_4xx_in_the_envelope(route, replaced, values, extra, server, world,
                                                      tracebacks):
    method, path = route
    headers: dict[str, str | bytes] = {
        "X-DFNS-NONCE": make_nonce(), "X-DFNS-APPID": world["appId"],
        "Authorization": "Bearer " + world["authToken"], "Content-Type": "application/json",
    }
    for name, value in zip(sorted(replaced), values, strict=False):  # fewer names than values
        headers[name] = value
    headers["X-" + extra[0]] = extra[1]
    body = None if method == "GET" else b"{}"
    logged = len(tracebacks.records)
    answer = exchange(server.url, request(method, target(path, world), headers, body))
    judged(answer, tracebacks, logged)


@BUDGET
@given(nonce=nonce_shapes())
def test_any_nonce_is_accepted_or_the_documented_400(nonce, server, world, tracebacks):
    headers = {"X-DFNS-NONCE": nonce, "X-DFNS-APPID": world["appId"],
               "Authorization": "Bearer " + world["authToken"]}
    logged = len(tracebacks.records)
    answer = exchange(server.url, request("GET", "/auth/apps", headers))
    judged(answer, tracebacks, logged)
    if answer.status != 200:
        assert (answer.status, answer.message) in {
            (400, "request nonce is missing or invalid"),
            (400, "request nonce has already been used"),
            (431, "request headers are larger than 32768 bytes"),
            # A control byte (DEL, \x7f) is no valid header value (RFC 9110's field-value): the connection
            # layer (server/connections.py) refuses the request as HTTP before any route reads the nonce.
            (400, "malformed HTTP request"),
        }, (answer.status, answer.body)


@settings(BUDGET, max_examples=200)
@given(
    route=st.sampled_from(ROUTES),
    content_type=st.sampled_from(["application/json", "text/plain", None, "application/json; charset=latin-1"]),
    data=st.data(),
)
def test_any_body_reaches_its_handler_and_gets_a_4xx_in_the_envelope(route, content_type, data,
                                                                     server, world, tracebacks):
    method, path = route
    known = world["known"].get(path, {})
    body = data.draw(bodies(route, known), label="body")
    headers: dict[str, str | bytes] = {
        "X-DFNS-NONCE": make_nonce(), "X-DFNS-APPID": world["appId"],
        "Authorization": "Bearer " + known.get("token", world["authToken"]),
    }
    if content_type:
        headers["Content-Type"] = content_type
    if next(e for e in ENDPOINTS if (e.method, e.path) == route).user_action:
        headers["X-DFNS-USERACTION"] = signed_for(server, world, method, target(path, world), body) or "none"
    logged = len(tracebacks.records)
    answer = exchange(server.url, request(method, target(path, world), headers, body))
    event("%s %s: %d %s" % (method, path, answer.status, (answer.message or "")[:50]))
    judged(answer, tracebacks, logged)


def signed_for(server: RunningServer, world: dict, method: str, path: str, body: bytes) -> str | None:
    """A user action for exactly this body, when the body is text the signing flow can carry."""
    try:
        payload = body.decode()
    except UnicodeDecodeError:
        return None
    signer = KeySigner(world["credId"], world["privateKey"])
    admin = DfnsClient(server.url, world["appId"], auth_token=world["authToken"], signer=signer,
                       app_origin=world["appOrigin"])
    try:
        return admin.user_action(method, path, payload)
    except Exception:  # noqa: BLE001 - a payload the init refuses (not JSON): sent unsigned
        return None
