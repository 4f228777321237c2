"""Request bodies: parse the JSON and check the fields an endpoint declares.

Endpoints declare their fields (``Field("firstFactor.kind", choices=("Key",))``)
and the pipeline checks them before the user-action step, so a handler reads
``call.body`` knowing every declared field has the right type. A failure is a
400 in the error envelope whose message names the field; the docs give no
wording for it, these are the server's own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .json_input import InvalidJson, load_json

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}


class WrongTypeCrash(RuntimeError):
    """Raised on purpose (fault field-types-unchecked): a handler that reads a field of another type than it
    expects fails on it, as a server without type checks does (500)."""


@dataclass(frozen=True)
class Field:
    #: Dotted path into the body: every parent must be an object.
    path: str
    type: type = str
    required: bool = True
    choices: tuple[Any, ...] = ()
    #: Strings must be non-empty unless this is set.
    allow_empty: bool = False


def parse_body(raw: bytes, max_depth: int) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}``. Whatever the bytes, a 400 or a dict."""
    if not raw.strip():
        return {}
    try:
        body = load_json(raw, max_depth)
    except InvalidJson as exc:
        raise bad_request("request body %s" % exc, "body") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object", "body")
    return body


#: What a broken server may leave unchecked (fault switches ``field-types-unchecked``, ``field-choices-unchecked``).
TYPES, CHOICES = "types", "choices"


def validate(body: dict[str, Any], fields: Sequence[Field], unchecked: frozenset[str] = frozenset()) -> None:
    for field in fields:
        _check(body, field, unchecked)


def _check(body: dict[str, Any], field: Field, unchecked: frozenset[str] = frozenset()) -> None:
    *parents, name = field.path.split(".")
    node: Any = body
    for depth, parent in enumerate(parents):
        node = node.get(parent)
        if node is None:
            if field.required:
                raise bad_request("%s is required" % _upto(parents, depth), _upto(parents, depth))
            return
        if not isinstance(node, dict):
            raise bad_request("%s must be an object" % _upto(parents, depth), _upto(parents, depth))
    value = node.get(name)
    if value is None:
        if field.required:
            raise bad_request("%s is required" % field.path, field.path)
        return
    if TYPES in unchecked and not isinstance(value, field.type):
        raise WrongTypeCrash("%s is not %s" % (field.path, _TYPE_NAMES.get(field.type, field.type.__name__)))
    # bool is an int to Python, never to JSON.
    if not isinstance(value, field.type) or (field.type is int and isinstance(value, bool)):
        raise bad_request(
            "%s must be %s" % (field.path, _TYPE_NAMES.get(field.type, field.type.__name__)),
            field.path,
        )
    if field.type is str and not value and not field.allow_empty:
        raise bad_request("%s must not be empty" % field.path, field.path)
    if field.choices and value not in field.choices and CHOICES not in unchecked:
        raise bad_request(
            "%s must be one of: %s" % (field.path, ", ".join(map(str, field.choices))),
            field.path,
        )


def _upto(parents: list[str], depth: int) -> str:
    """The dotted path of the parent at ``depth``."""
    return ".".join(parents[: depth + 1])
