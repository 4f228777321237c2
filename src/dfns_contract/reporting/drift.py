"""Drift between the published errors page and the catalog.

The catalog is a hand-made copy of ``getting-started/errors.md``; when the
page gains an error the suite silently stops being complete, and when it drops
one the suite keeps asserting a contract nobody promises any more. This module
reads the page as published (markdown, with its quirks) and says which
documented errors the catalog does not cover and which catalog entries the
page no longer documents.

Errors are matched by (status, message), not by title: titles on the page are
copy-pasted (the 403 "forbidden" entry is titled "Caller not authenticated"),
the wire contract is the status and the message.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfns_contract.contract.catalog import Catalog, DocumentedError, Recognised

#: Verdicts of drift, as the reports spell them.
NOT_COVERED, STALE = "not covered", "stale"
#: A catalog entry whose message the page now words otherwise (today's page: its example's ``error.message``).
CHANGED = "message changed"
#: The two forms of the errors page: ``<details>`` entries under ``### 400 - Bad Request`` (2024 and 2025),
#: and one section per status, ``### 400 Bad Request`` (today's API Errors page, contract 2026).
DETAILS, STATUSES = "details", "statuses"

_GROUP = re.compile(r"^##\s+(?P<title>[^#].*?)\s*#*\s*$")
_STATUS = re.compile(r"^###\s+(?P<title>(?P<status>\d{3})\b.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)\s*$")
_SUMMARY = re.compile(r"<summary>(?P<text>.*?)</summary>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


class DriftError(ValueError):
    """The errors page cannot be read, or holds no documented error at all."""


@dataclass(frozen=True)
class PageError:
    """One documented error as the page shows it."""

    group: str  # the "## " heading, e.g. "Common Errors"
    heading: str  # the "### " heading, e.g. "400 - Bad Request"
    status: int
    summary: str
    message: str | None  # None when the page gives no readable JSON example
    line: int  # 1-based line of its <details>, to find it in the page

    @property
    def section(self) -> str:
        """Spelled as the catalog spells sections: group › status heading (the group alone for ``## Policy pending (202)``)."""
        return "%s › %s" % (self.group, self.heading) if self.heading else self.group


@dataclass(frozen=True)
class PageExample:
    """Today's page: a documented error body, its ``error.status`` and ``error.message``, and the message's line."""

    status: int
    message: str
    line: int


@dataclass(frozen=True)
class ErrorsPage:
    path: str
    sha256: str
    errors: tuple[PageError, ...]  # today's page: one per status section, its message the example's for that status
    problems: tuple[str, ...] = ()  # entries whose example could not be read
    format: str = DETAILS
    #: Today's page: every example's status and message (a status may have several).
    examples: tuple[PageExample, ...] = ()


@dataclass(frozen=True)
class MessageChange:
    """Today's page documents a message for a status that the catalog entry of that status words otherwise.

    ``error`` is None when no entry of the status checks a message at all (each carries ``message: null``).
    """

    status: int
    message: str  # as the page now documents it
    line: int  # the line of the example's "message"
    error: DocumentedError | None

    @property
    def old(self) -> str | None:
        return self.error.message if self.error is not None else None


@dataclass
class Drift:
    """The comparison: what only the page has, what only the catalog has, and (today's page) what it words otherwise."""

    page: ErrorsPage
    not_covered: list[PageError] = field(default_factory=list)
    stale: list[DocumentedError] = field(default_factory=list)
    matched: dict[str, PageError] = field(default_factory=dict)  # catalog id → the page error it matches
    #: Recognised statuses (today's page) the page no longer has.
    stale_recognised: list[Recognised] = field(default_factory=list)
    #: Messages today's page words otherwise than the catalog entry of their status.
    changed: list[MessageChange] = field(default_factory=list)

    @property
    def stale_ids(self) -> set[str]:
        return {error.id for error in self.stale}

    @property
    def stale_statuses(self) -> set[int]:
        return {entry.status for entry in self.stale_recognised}

    def change_of(self, error_id: str) -> MessageChange | None:
        return next((change for change in self.changed if change.error is not None and change.error.id == error_id), None)

    @property
    def found(self) -> bool:
        """True when the page and the catalog differ (what --dfns-strict-drift fails on)."""
        return bool(self.not_covered or self.stale or self.stale_recognised or self.changed)


def load_errors_page(path: str | Path) -> ErrorsPage:
    """Read and parse ``--dfns-errors-doc``; raise ``DriftError`` with a sentence a person can act on."""
    raw, text = read_page(path)
    page = details_page(path, raw, text)
    if page is None:
        raise DriftError(
            "--dfns-errors-doc %s: no documented error found (expected '### 400 - Bad Request' headings with "
            "<details><summary>…</summary> entries); is it getting-started/errors.md?" % path
        )
    return page


def read_page(path: str | Path, doc: str = "getting-started/errors.md") -> tuple[bytes, str]:
    """The page's bytes and text; ``DriftError`` naming ``doc`` (the page expected) when it cannot be read."""
    where = Path(path)
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        raise DriftError("--dfns-errors-doc %s: no such file (give a copy of %s)" % (path, doc)) from None
    except IsADirectoryError:
        raise DriftError("--dfns-errors-doc %s: is a folder, expected the errors page (%s)" % (path, doc)) from None
    except OSError as exc:
        raise DriftError("--dfns-errors-doc %s: cannot be read: %s" % (path, exc.strerror or exc.__class__.__name__)) from None
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DriftError("--dfns-errors-doc %s: not UTF-8 text; expected the errors page as markdown" % path) from None


def details_page(path: str | Path, raw: bytes, text: str) -> ErrorsPage | None:
    """The page in the 2024/2025 form (``<details>`` entries), or None when it holds no such entry."""
    errors, problems = parse_errors_page(text)
    if not errors:
        return None
    return ErrorsPage(str(path), hashlib.sha256(raw).hexdigest(), tuple(errors), tuple(problems))


def parse_errors_page(text: str) -> tuple[list[PageError], list[str]]:
    """Every ``<details>`` entry under a ``### NNN`` heading: (errors, problems met on the way)."""
    errors: list[PageError] = []
    problems: list[str] = []
    group, heading, status = "", "", 0
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if (match := _GROUP.match(line)) is not None:
            group, heading, status = match["title"], "", 0
        elif (match := _STATUS.match(line)) is not None:
            heading, status = match["title"], int(match["status"])
        elif line.strip().lower().startswith("<details") and status:
            end = _details_end(lines, i)
            entry = _entry(lines[i:end], group, heading, status, i + 1)
            errors.append(entry)
            if entry.message is None:
                problems.append("line %d (%s › %s): no JSON example with error.message" % (i + 1, entry.section, entry.summary))
            i = end
            continue
        i += 1
    return errors, problems


def _details_end(lines: list[str], start: int) -> int:
    """Index just past the ``</details>`` closing the block opened at ``start`` (or the next heading)."""
    for j in range(start + 1, len(lines)):
        stripped = lines[j].strip().lower()
        if stripped.startswith("</details"):
            return j + 1
        if _GROUP.match(lines[j]) or _STATUS.match(lines[j]):
            return j
    return len(lines)


def _entry(block: list[str], group: str, heading: str, status: int, line: int) -> PageError:
    match = _SUMMARY.search("\n".join(block))
    summary = " ".join(_TAG.sub("", match["text"]).split()) if match else ""
    return PageError(group, heading, status, summary, _example_message(block), line)


def _example_message(block: list[str]) -> str | None:
    """``error.message`` of the first JSON example (```JSON or ```json, or no language) that has one."""
    for body in _fenced_blocks(block):
        data = loads_lenient(body)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            message = data["error"].get("message")
            if isinstance(message, str):
                return message
    return None


def _fenced_blocks(block: list[str]) -> list[str]:
    """Bodies of the fenced blocks tagged JSON (any case) or untagged; other languages are skipped."""
    found: list[str] = []
    fence: str | None = None  # the opening fence while inside a block
    body: list[str] | None = None  # None inside a block that is not JSON
    for line in block:
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = match["fence"]
                body = [] if match["lang"].lower() in ("json", "jsonc", "json5", "") else None
        elif match and not match["lang"] and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence):
            if body is not None:
                found.append("\n".join(body))
            fence = None
        elif body is not None:
            body.append(line)
    return found


def loads_lenient(text: str) -> Any:
    """JSON as documentation writes it: a trailing comma before ``}`` or ``]`` is forgiven."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return json.loads(strip_trailing_commas(text))
    except json.JSONDecodeError:
        return None


def strip_trailing_commas(text: str) -> str:
    """Drop each comma (outside strings) that only whitespace separates from a closing bracket."""
    out: list[str] = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == ",":
            rest = text[index + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                continue
        out.append(char)
    return "".join(out)


def message_pattern(error: DocumentedError) -> re.Pattern[str]:
    """The catalog message as a pattern over concrete messages.

    Params are literal (``({operation})`` must be the catalog's operation);
    any other placeholder is filled from the profile at run time, so on the
    page it stands for any non-empty run of characters.
    """
    parts = []
    for literal, name, _, _ in string.Formatter().parse(error.message):
        parts.append(re.escape(literal))
        if name is None:
            continue
        parts.append(re.escape(error.params[name]) if name in error.params else "(?:.+?)")
    return re.compile("".join(parts), re.DOTALL)


def matches(error: DocumentedError, page_error: PageError) -> bool:
    return (
        page_error.message is not None
        and error.status == page_error.status
        and message_pattern(error).fullmatch(page_error.message) is not None
    )


def compare(catalog: Catalog, page: ErrorsPage) -> Drift:
    """Page errors no catalog entry matches (not covered), catalog entries no page error matches (stale).

    One to one: since 2024-08-19-extended the page documents one message in
    several sections (``User not found`` for Delegated Authentication, User
    Login and User Action Signing), so each page error counts for one entry
    only, and three entries need three page errors. An entry takes the page
    error of its own section first; only then one of another section (the wire
    contract is the status and the message, so a section renamed on the page
    is no drift).
    """
    drift = Drift(page)
    free = list(page.errors)
    pending: list[DocumentedError] = []
    for same_section in (True, False):
        for error in catalog.errors if same_section else pending:
            found = next((p for p in free if matches(error, p) and (p.section == error.section or not same_section)), None)
            if found is not None:
                drift.matched[error.id] = found
                free = [p for p in free if p is not found]
            elif same_section:
                pending.append(error)
            else:
                drift.stale.append(error)
    drift.not_covered = [p for p in page.errors if any(p is q for q in free)]
    return drift
