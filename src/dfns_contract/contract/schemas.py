"""The project's data: JSON Schemas and the catalogs of documented errors, in one home.

Both live in the top-level ``schemas/`` folder (the schemas as ``schemas/NAME``,
each published contract as ``schemas/contracts/VERSION.json``), which the wheel
carries as ``dfns_contract/schemas``; they are found whether the package is
installed or run from a checkout.

jsonschema is imported at the first validation, not with this module: modules
the pytest plugin loads in every process import this one.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


#: The contract a run certifies against unless told otherwise: the errors page as first published.
DEFAULT_CONTRACT = "2024-08-19"


def schema_path(name: str) -> Path:
    """``schemas/NAME`` from the wheel (packaged copy) or from the source tree."""
    packaged = resources.files("dfns_contract") / "schemas" / name
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "schemas" / name


def contract_path(version: str = DEFAULT_CONTRACT) -> Path:
    """The catalog of a published version of the errors page: ``schemas/contracts/VERSION.json``."""
    return schema_path("contracts/%s.json" % version)


def published_contracts() -> list[str]:
    """The versions the package carries a catalog of."""
    return sorted(path.stem for path in contract_path().parent.glob("*.json"))


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_path(name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(name: str, instance: Any) -> list[str]:
    """Each way ``instance`` breaks the schema, phrased without echoing values (they may be secret)."""
    return [describe(error) for error in sorted(_errors(name, instance), key=lambda e: list(e.path))]


def _errors(name: str, instance: Any) -> Iterator[ValidationError]:
    return validator(name).iter_errors(instance)


def fragment_problems(fragment: dict[str, Any], instance: Any) -> list[str]:
    """``problems`` for a schema written inline (a catalog entry's ``body``), phrased the same way."""
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(fragment).iter_errors(instance)
    return [describe(error) for error in sorted(errors, key=lambda e: list(e.path))]


def requires_status(name: str) -> bool:
    """Whether the error body schema ``name`` requires ``error.status`` (then it must equal the HTTP status)."""
    error = validator(name).schema.get("properties", {}).get("error", {})
    return "status" in error.get("required", ())


def describe(error: ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    value = error.validator_value
    what = {
        "type": lambda: "must be of type %s" % value,
        "required": lambda: error.message.split(" is a required")[0] + " is required",
        "pattern": lambda: "does not match the pattern %s" % value,
        "minLength": lambda: "must not be shorter than %s characters" % value,
        "additionalProperties": lambda: error.message.replace("Additional properties", "unknown keys"),
        "dependentRequired": lambda: error.message,
        "const": lambda: "must be %r" % (value,),
        "enum": lambda: "must be one of %s" % ", ".join(map(repr, value)),
    }.get(str(error.validator), lambda: "fails the %s rule" % error.validator)
    return "%s: %s" % (where, what())
