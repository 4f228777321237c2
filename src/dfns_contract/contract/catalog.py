"""The catalog of documented errors, as data, and the test cases it expands to.

A catalog is one published version of the errors page (``schemas/contracts/``):
its version, the page and the copy it was written from, and one entry per
documented error, validated by ``schemas/catalog.json``. The version travels
with every entry (``DocumentedError.contract``), so a failure's doc reference
says which edition of the page it holds the target to. Each
entry is replayed by the recipe registered under its id (``recipes.py``);
``binding.load_catalog`` checks that the two sides match, so a typo in either
is one clear error when the run starts, not a traceback in the middle.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfns_contract.contract import schemas

DOCS_PAGE = "getting-started/errors.md"
#: The 500's message on the 2024 and 2025 pages, which a run checks on any 5xx.
DEFAULT_INTERNAL_MESSAGE = "Internal Server Error"
#: The error body of the 2024 and 2025 pages: ``{"error": {"message"}}``.
DEFAULT_ENVELOPE = "error.json"
#: The headers of a request in the 2024 and 2025 pages.
DEFAULT_REQUEST_HEADERS = ("X-DFNS-NONCE", "X-DFNS-APPID", "Authorization", "X-DFNS-USERACTION")


#: How a run takes an answer of a recognised status (``schemas/catalog.json``, ``recognised.answer``).
ENVIRONMENT, PENDING, AUDITED = "environment", "pending", "audited"


@dataclass(frozen=True)
class Recognised:
    """A status the version documents and the suite never provokes: its own outcome in the run's table.

    ``answer`` says what a case that meets it makes of it: the environment's doing (402, 429), a request
    held for approval (202), or an answer audited like any other (410, 412, 422, 500).
    """

    status: int
    summary: str
    meaning: str
    section: str = ""
    answer: str = ENVIRONMENT

    @property
    def stops_the_case(self) -> bool:
        """Whether meeting it ends a case as the environment's doing rather than as an answer to judge."""
        return self.answer in (ENVIRONMENT, PENDING)


class CatalogError(ValueError):
    """A catalog that cannot be used: unreadable, invalid, or not matched by the recipes."""


@dataclass(frozen=True)
class DocumentedError:
    id: str
    section: str
    summary: str
    status: int
    #: The exact message; None where the reference documents none (any non-empty string, recorded as evidence).
    message: str | None
    safety: str
    variants: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    invariant: bool = False
    #: Why the recipe's request provokes the error, where the page leaves it open (not shown in reports).
    why: str = ""
    #: The published version of the page the entry comes from (its catalog's ``version``): where it is
    #: documented, not what it is, so the same entry of two versions compares equal.
    contract: str | None = field(default=None, compare=False)
    #: The page that documents it (its catalog's ``doc``).
    doc: str = field(default=DOCS_PAGE, compare=False)
    #: The schema of its version's error body (``schemas/NAME``), which the version's catalog names.
    envelope: str = field(default=DEFAULT_ENVELOPE, compare=False)
    #: The headers its version's requests carry (its catalog's ``requestHeaders``).
    request_headers: tuple[str, ...] = field(default=DEFAULT_REQUEST_HEADERS, compare=False)
    #: A JSON Schema fragment the body must also satisfy (e.g. the 409's ``details.duplicate``).
    body: Mapping[str, Any] | None = field(default=None, compare=False)
    #: The reference server's row that answers it (``server.error``: an ``ErrorId`` value).
    server_error: str = field(default="", compare=False)
    #: The server's fault switches under which a case of it must fail (``server.faults``).
    faults: tuple[str, ...] = field(default=(), compare=False)
    #: The switches under which one variant's own case must fail (``server.variantFaults``).
    variant_faults: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: The id of another entry's recipe that sends its request (``recipe``); None: its own.
    recipe: str | None = field(default=None, compare=False)

    @property
    def recipe_id(self) -> str:
        """The id its recipe is registered under (``recipes.RECIPES``)."""
        return self.recipe or self.id

    def switches(self) -> frozenset[str]:
        """Every fault switch of the reference server that one of its cases must catch."""
        return frozenset(self.faults).union(*self.variant_faults.values())

    @property
    def doc_reference(self) -> str:
        page = "%s (%s)" % (self.doc, self.contract) if self.contract else self.doc
        return "%s › %s › %s" % (page, self.section, self.summary)

    @property
    def changes_state(self) -> bool:
        """Whether a case may change state on the target (the ``destructive`` mark)."""
        return self.safety != "read-only"

    def template_keys(self) -> list[str]:
        """Profile keys the message template needs (placeholders not given as params)."""
        names = [name for _, name, _, _ in string.Formatter().parse(self.message or "") if name]
        return [name for name in names if name not in self.params]

    def expected_message(self, profile_values: Mapping[str, Any]) -> str | None:
        """The message the case must get; None: any non-empty one (the reference documents none)."""
        return None if self.message is None else self.message.format(**{**profile_values, **self.params})

    def cases(self) -> list[Case]:
        return [Case(self, variant) for variant in (self.variants or (None,))]


@dataclass(frozen=True)
class Case:
    """One request to replay: a documented error, in one of its variants."""

    error: DocumentedError
    variant: str | None = None

    @property
    def id(self) -> str:
        return self.error.id + ("-" + self.variant if self.variant else "")


@dataclass(frozen=True)
class Catalog:
    errors: tuple[DocumentedError, ...]
    source: str
    #: The published version it certifies against (``--dfns-contract``); None for a hand-made one.
    version: str | None = None
    #: The page it follows, and the copy as published it was written from (``page``).
    doc: str = DOCS_PAGE
    page: str | None = None
    #: Loaded as a published version (``--dfns-contract``), not from a ``--dfns-catalog`` file of one's own.
    published: bool = False
    #: The schema of the version's error body (``schemas/NAME``).
    envelope: str = DEFAULT_ENVELOPE
    #: The headers its requests carry: the client sends ``X-DFNS-NONCE``/``X-DFNS-APPID`` only if listed.
    request_headers: tuple[str, ...] = DEFAULT_REQUEST_HEADERS
    #: Statuses it documents and the suite does not provoke.
    recognised: tuple[Recognised, ...] = ()
    #: Whether ``--dfns-errors-doc`` can compare a copy of the errors page with it (not the 2026 facts).
    comparable: bool = True
    #: How the version was chosen when ``--dfns-contract auto`` found it (what the target answered).
    detected: str | None = None
    #: The reference server's fault switches its suite must kill as a whole (no one entry owns them).
    faults: tuple[str, ...] = ()

    def switches(self) -> frozenset[str]:
        """Every fault switch of the reference server this version's suite must kill."""
        return frozenset(self.faults).union(*(error.switches() for error in self.errors))

    @property
    def internal_message(self) -> str | None:
        """The message any 5xx must carry: the version's 500 entry's; None where the version documents none."""
        documented = next((e.message for e in self.errors if e.invariant and e.status == 500), None)
        return documented or (DEFAULT_INTERNAL_MESSAGE if self.envelope == DEFAULT_ENVELOPE else None)

    def has_header(self, name: str) -> bool:
        """Whether this version's requests carry the header ``name`` (case-insensitive)."""
        return name.lower() in {header.lower() for header in self.request_headers}

    def recognised_status(self, status: int) -> Recognised | None:
        return next((entry for entry in self.recognised if entry.status == status), None)

    @property
    def contract(self) -> str | None:
        """The published version a run certifies against; None for a ``--dfns-catalog`` file (whatever it says)."""
        return self.version if self.published else None

    @property
    def title(self) -> str:
        """How outputs name what a run certifies against: ``contract 2025-02-07`` or ``catalog PATH``."""
        if not self.published:
            return "catalog %s" % self.source
        return "contract %s%s" % (self.version, " (detected: --dfns-contract auto)" if self.detected else "")

    def cases(self) -> list[Case]:
        return [case for error in self.errors for case in error.cases()]

    def by_id(self, error_id: str) -> DocumentedError:
        for error in self.errors:
            if error.id == error_id:
                return error
        raise KeyError(error_id)

    def __contains__(self, error_id: object) -> bool:
        return any(error.id == error_id for error in self.errors)


def read_catalog(path: str | Path) -> Catalog:
    """The catalog as the file says, checked against its schema (not yet against the recipes)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError("cannot read the catalog %s: %s" % (path, exc)) from exc
    problems = schemas.problems("catalog.json", data)
    if problems:
        raise CatalogError("invalid catalog %s:\n  - %s" % (path, "\n  - ".join(problems)))
    envelope = data.get("envelope", DEFAULT_ENVELOPE)
    request_headers = tuple(data.get("requestHeaders", DEFAULT_REQUEST_HEADERS))
    try:
        schemas.validator(envelope)
    except (OSError, ValueError) as exc:
        raise CatalogError("catalog %s names the envelope %s, which is not a schema of the package: %s"
                           % (path, envelope, exc)) from exc
    errors = tuple(_entry(entry, contract=data["version"], envelope=envelope, doc=data["doc"],
                          request_headers=request_headers) for entry in data["errors"])
    ids = [e.id for e in errors]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError("duplicate ids in %s: %s" % (path, ", ".join(duplicates)))
    return Catalog(errors=errors, source=str(path), version=data["version"], doc=data["doc"], page=data["page"],
                   envelope=envelope,
                   request_headers=request_headers, comparable=data.get("comparable", True),
                   recognised=tuple(Recognised(**entry) for entry in data.get("recognised", ())),
                   faults=tuple(data.get("faults", ())))


def _entry(entry: Mapping[str, Any], **version: Any) -> DocumentedError:
    """One ``errors`` item of a catalog file (valid against its schema) as a ``DocumentedError``."""
    fields = {key: value for key, value in entry.items() if key != "server"}
    server = entry.get("server", {})
    return DocumentedError(**{**fields, "variants": tuple(entry.get("variants", ()))},
                           server_error=server.get("error", ""), faults=tuple(server.get("faults", ())),
                           variant_faults={variant: tuple(names)
                                           for variant, names in server.get("variantFaults", {}).items()},
                           **version)
