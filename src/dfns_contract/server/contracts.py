"""The published versions of the errors page the reference server can implement, as data.

A version is not a branch in the code: every version serves the same endpoints
and flows through the same pipeline, and differs only in the rows of the error
table (errors.py) it answers with:

* ``2024-08-19``, the page as first published (the project's contract). The
  flows its later edit documents errors for (delegated login, login codes,
  user action signing, recovery) were already documented on their own pages
  that day, so they exist here too; what this edit did not document is their
  errors, and a server of that time answered those situations with the one
  error it documented for a caller it would not serve: 401 ``Not Authorized.``
  (as this server always answered an unknown or inactive user at login). So
  the eleven new errors are *answered as* that row, whatever a fault makes it.
* ``2024-08-19-extended``, the same day's later edit: the eleven rows as the
  page documents them.
* ``2025-02-07``: the same 22 entries; the 401 "Caller not authenticated"
  message became ``user token is missing or invalid``.
* ``2026``, today's API reference (errors-page-versions/README.md, "Today's
  API reference, as facts"): every error in the body
  ``{"error": {"id", "status", "message", "details"}}``; no ``X-DFNS-NONCE``
  and no ``X-DFNS-APPID`` (neither required nor judged, so the nonce rows are
  never raised and the org and origin an app id gave come from the token, see
  ``pipeline.Call``); a used user action is no valid one for the request:
  403 like a missing one; the auth flows need none (delegated login
  included), the state-changing requests on resources do. Its 401 keeps
  2025's message.

A version is data the rest of the server reads: the table's rows
(``error_table``), the body an error is written in (rendering.py) and the
headers the pipeline requires (pipeline.py).

The names are those of ``schemas/contracts/VERSION.json`` (the server does not
import the suite's package; a selftest checks that the two lists agree).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import ERRORS, ErrorId, ErrorSpec
from .faults import (
    CONTRACT_2026,
    EXTENDED_CONTRACT,
    FAULTS,
    FIRST_CONTRACT,
    MESSAGE_CONTRACT,
    FaultKind,
    FaultSet,
)

#: The errors only the extended edit documents.
FLOW_ERRORS = (
    ErrorId.USER_DEACTIVATED,
    ErrorId.USER_UNKNOWN,
    ErrorId.NO_CREDENTIAL_FOR_APP,
    ErrorId.INVALID_CODE,
    ErrorId.CHALLENGE_INVALID,
    ErrorId.NOT_RECOVERY_FACTOR,
)


class UnknownContract(ValueError):
    """A version of the errors page the server does not implement."""


class ErrorBody(str, enum.Enum):
    """The shape of an error's body."""

    #: ``{"error": {"message": ...}}``: the errors page of 2024 and 2025.
    MESSAGE = "message"
    #: ``{"error": {"id", "status", "message", "details"}}``: today's reference (and, before it,
    #: the idempotency page of September 2024).
    ID_STATUS_DETAILS = "id-status-details"


@dataclass(frozen=True)
class ContractVersion:
    name: str
    #: Rows whose message this version changed.
    messages: Mapping[ErrorId, str] = field(default_factory=dict)
    #: Errors this version does not document, answered as another row (after the faults' overrides).
    answered_as: Mapping[ErrorId, ErrorId] = field(default_factory=dict)
    #: The body every error is written in (rendering.py).
    error_body: ErrorBody = ErrorBody.MESSAGE
    #: Every request must carry a fresh ``X-DFNS-NONCE`` (pipeline step 1).
    requires_nonce: bool = True
    #: Every request names its application by ``X-DFNS-APPID`` (pipeline step 2); without it the
    #: org is the token's principal's, the origin that of the org's application.
    requires_app_id: bool = True
    #: The auth flows' steps that their 2024 pages sign with a user action (``Endpoint.flow_step``)
    #: need one; today's reference asks one of state-changing requests on resources only.
    flows_need_user_action: bool = True
    #: Responses carry what today's SDK types declare (``@dfns/sdk`` 0.8.21, docs/sdk-shapes.md): a wallet's
    #: ``signingKey.id`` and ``externalId``, the challenge's ``userVerification`` and ``attestation``, an
    #: approval's ``policyEvaluations`` as ``{policyId, triggered, reason}``. Off, the 2024 pages' shapes.
    sdk_shapes: bool = False

    def error_table(self, faults: FaultSet) -> dict[ErrorId, ErrorSpec]:
        """The table a server of this version answers with, under ``faults``."""
        base = {error: replace(spec, message=self.messages.get(error, spec.message))
                for error, spec in ERRORS.items()}
        table = faults.error_table(base)
        for error, as_error in self.answered_as.items():
            table[error] = replace(table[as_error], documented=False)
        return table


#: The 401 message of 2025-02-07, which today's reference keeps (it gives none of its own).
_MESSAGES_2025 = {ErrorId.NOT_AUTHORIZED: "user token is missing or invalid"}

CONTRACTS: Mapping[str, ContractVersion] = {
    version.name: version
    for version in (
        ContractVersion(
            FIRST_CONTRACT, answered_as={error: ErrorId.NOT_AUTHORIZED for error in FLOW_ERRORS}
        ),
        ContractVersion(EXTENDED_CONTRACT),
        ContractVersion(MESSAGE_CONTRACT, messages=_MESSAGES_2025),
        ContractVersion(
            CONTRACT_2026,
            messages=_MESSAGES_2025,
            answered_as={ErrorId.USER_ACTION_REUSED: ErrorId.USER_ACTION_INVALID},
            error_body=ErrorBody.ID_STATUS_DETAILS,
            requires_nonce=False,
            requires_app_id=False,
            flows_need_user_action=False,
            sdk_shapes=True,
        ),
    )
}

#: The version a server implements unless told otherwise: the page as first published.
DEFAULT_CONTRACT = FIRST_CONTRACT


def resolve_contract(name: str | ContractVersion | None) -> ContractVersion:
    """The version named; ``UnknownContract`` naming the known ones otherwise."""
    if isinstance(name, ContractVersion):
        return name
    version = CONTRACTS.get(name or DEFAULT_CONTRACT)
    if version is None:
        raise UnknownContract(
            "unknown contract version %r (known: %s)" % (name, ", ".join(CONTRACTS))
        )
    return version


class CatalogLinkError(ValueError):
    """A catalog names a fault switch or a server row that does not exist: a bug of the package."""


def _catalogs_folder() -> Path:
    """``schemas/contracts``: packaged with the wheel as ``dfns_contract/schemas``, or beside the source tree."""
    packaged = resources.files("dfns_contract") / "schemas" / "contracts"
    return Path(str(packaged)) if packaged.is_dir() else Path(__file__).resolve().parents[3] / "schemas" / "contracts"


@lru_cache(maxsize=None)
def switches_named_by() -> Mapping[str, frozenset[str]]:
    """For each version's catalog, the fault switches it names (its ``faults`` and its entries' ``server``).

    This link is where a switch's judges come from: the server reads the catalogs as data (it does not import
    the suite). Raises ``CatalogLinkError`` for a switch or a server row a catalog names that does not exist.
    """
    named: dict[str, frozenset[str]] = {}
    rows = {error.value for error in ErrorId}
    for path in sorted(_catalogs_folder().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        switches = set(data.get("faults", ()))
        for entry in data["errors"]:
            server = entry.get("server", {})
            if server.get("error") not in rows:
                raise CatalogLinkError("%s: entry %r names the server row %r, which errors.py does not have"
                                       % (path.name, entry["id"], server.get("error")))
            switches.update(server.get("faults", ()), *server.get("variantFaults", {}).values())
        unknown = sorted(switches - set(FAULTS))
        if unknown:
            raise CatalogLinkError("%s names fault switches the server does not have: %s" % (path.name, ", ".join(unknown)))
        named[data["version"]] = frozenset(switches)
    return named


def judged_by(switch: str) -> tuple[str, ...]:
    """The versions whose suites must kill ``switch``, oldest first: those whose catalog names it; every
    version for a benign variation. A switch of an error only a later edit documents rightly survives the
    earlier suites, and one of what a version no longer has (the nonce under 2026) that version's."""
    if FAULTS[switch].kind is FaultKind.BENIGN:
        return tuple(CONTRACTS)
    return tuple(version for version in CONTRACTS if switch in switches_named_by().get(version, ()))


def faults_judged_by(contract: str) -> list[str]:
    """The fault switches a suite of ``contract`` must kill (and every benign variation), in registry order."""
    if contract not in CONTRACTS:
        raise UnknownContract("unknown contract version %r (known: %s)" % (contract, ", ".join(CONTRACTS)))
    return [name for name in FAULTS if contract in judged_by(name)]
