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

The names are those of ``schemas/contracts/VERSION.json`` (the server does not
import the suite's package; a selftest checks that the two lists agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .errors import ERRORS, ErrorId, ErrorSpec
from .faults import EXTENDED_CONTRACT, FAULTS, FIRST_CONTRACT, FaultKind, FaultSet

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


@dataclass(frozen=True)
class ContractVersion:
    name: str
    #: Rows whose message this version changed.
    messages: Mapping[ErrorId, str] = field(default_factory=dict)
    #: Errors this version does not document, answered as another row (after the faults' overrides).
    answered_as: Mapping[ErrorId, ErrorId] = field(default_factory=dict)

    def error_table(self, faults: FaultSet) -> dict[ErrorId, ErrorSpec]:
        """The table a server of this version answers with, under ``faults``."""
        base = {error: replace(spec, message=self.messages.get(error, spec.message))
                for error, spec in ERRORS.items()}
        table = faults.error_table(base)
        for error, as_error in self.answered_as.items():
            table[error] = replace(table[as_error], documented=False)
        return table


CONTRACTS: Mapping[str, ContractVersion] = {
    version.name: version
    for version in (
        ContractVersion(
            FIRST_CONTRACT, answered_as={error: ErrorId.NOT_AUTHORIZED for error in FLOW_ERRORS}
        ),
        ContractVersion(EXTENDED_CONTRACT),
        ContractVersion(
            "2025-02-07", messages={ErrorId.NOT_AUTHORIZED: "user token is missing or invalid"}
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


def faults_judged_by(contract: str) -> list[str]:
    """The fault switches a suite of ``contract`` must kill: those of its version and the earlier ones.

    A switch that breaks an error only a later edit documents (``Fault.since``)
    rightly survives an earlier edit's suite; benign variations are judged by every suite.
    """
    versions = list(CONTRACTS)
    if contract not in CONTRACTS:
        raise UnknownContract("unknown contract version %r (known: %s)" % (contract, ", ".join(versions)))
    known = set(versions[: versions.index(contract) + 1])
    return [name for name, fault in FAULTS.items() if fault.kind is FaultKind.BENIGN or fault.since in known]
