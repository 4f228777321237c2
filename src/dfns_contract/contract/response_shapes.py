"""Which JSON Schema a successful response of the API should match, and whether it does.

The schemas are ``schemas/responses/VERSION/*.json``, written from the docs pages
and the official SDK's declared response types (each names its sources); that
folder's ``index.json`` maps (method, route, status) to one of them. A route's
``{name}`` stands for one path segment. The schemas refer to each other by file
name (``"$ref": "wallet.json"``), so they are validated with a registry of the
whole folder. A response the index does not name has no schema: the caller
decides whether that matters (docs/sdk-shapes.md lists what is covered).

jsonschema is imported at the first validation, as in schemas.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .schemas import describe, schema_path

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class ResponseShape:
    """One row of the index: the answers of ``method`` ``route`` with ``status`` match ``schema``."""

    method: str
    route: str
    status: int
    schema: str

    def matches(self, method: str, path: str, status: int) -> bool:
        return (method, status) == (self.method, self.status) and _route_pattern(self.route).fullmatch(path) is not None


def responses_folder(version: str) -> Path:
    """``schemas/responses/VERSION`` (packaged with the wheel, or in the source tree)."""
    return schema_path("responses/%s/index.json" % version).parent


@lru_cache(maxsize=None)
def response_shapes(version: str = "2026") -> tuple[ResponseShape, ...]:
    """The index's rows; ``FileNotFoundError`` if the version has no response schemas."""
    index = json.loads((responses_folder(version) / "index.json").read_text(encoding="utf-8"))
    return tuple(ResponseShape(row["method"], row["route"], row["status"], row["schema"])
                 for row in index["responses"])


def schema_for(method: str, path: str, status: int, version: str = "2026") -> str | None:
    """The schema file a response of ``method`` ``path`` (no query) with ``status`` must match, if any."""
    return next((row.schema for row in response_shapes(version) if row.matches(method, path, status)), None)


def first_problem(schema: str, instance: Any, version: str = "2026") -> str | None:
    """How ``instance`` first breaks ``schema`` (the shallowest error, phrased without its values), or None."""
    errors = sorted(_validator(version, schema).iter_errors(instance), key=lambda e: (len(e.path), list(e.path)))
    return describe(errors[0]) if errors else None


@lru_cache(maxsize=None)
def _validator(version: str, schema: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    registry = _registry(version)
    document = registry.contents(_base(version) + schema)
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document, registry=registry)


@lru_cache(maxsize=None)
def _registry(version: str) -> Any:
    """Every schema of the folder under its ``$id``, so that a ``$ref`` by file name resolves."""
    from referencing import Registry, Resource

    resources = []
    for path in sorted(responses_folder(version).glob("*.json")):
        if path.name == "index.json":
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("$id") != _base(version) + path.name:
            raise ValueError("%s: its $id must be %s" % (path.name, _base(version) + path.name))
        resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def _base(version: str) -> str:
    return "https://dfns-contract.invalid/schemas/responses/%s/" % version


@lru_cache(maxsize=None)
def _route_pattern(route: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", route)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))
