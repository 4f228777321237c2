"""Drift for today's API Errors page (contract 2026): one section per status, and the messages its examples give.

Today's page (``api-reference/error-codes``) no longer lists messages in
``<details>`` entries: each status is a section (``### 400 Bad Request`` under
``## Common errors``, or a group of its own such as ``## Policy pending
(202)``), and the only messages it documents are those of its JSON examples
(``error.message``, attached to the example's ``error.status``). So the
comparison is by status: a status on the page that the catalog neither tests
nor recognises is *not covered*; a catalog status (an entry's, or a recognised
one) the page no longer has is *stale*; and where the page documents a message
for a status, a catalog entry of that status that checks another one has a
*changed message*.
"""

from __future__ import annotations

import hashlib
import re
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.reporting.drift import (
    STATUSES,
    Drift,
    ErrorsPage,
    MessageChange,
    PageError,
    PageExample,
    loads_lenient,
    message_pattern,
)

_GROUP = re.compile(r"^##\s+(?P<title>[^#].*?)\s*#*\s*$")
#: ``## Policy pending (202)``: a group that is itself a status.
_GROUP_STATUS = re.compile(r"\((?P<status>[1-5]\d\d)\)$")
_STATUS = re.compile(r"^###\s+(?P<heading>(?P<status>[1-5]\d\d)\s+(?P<title>[^-–#\s].*?))\s*#*\s*$")
_HEADING = re.compile(r"^#{1,6}\s")
#: A fence may carry attributes after its language (Mintlify writes ```json theme={null}).
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?:\s+.*)?$")
_JSON_LANGS = ("json", "jsonc", "json5", "")


def parse_status_page(text: str) -> tuple[list[PageError], list[PageExample], list[str]]:
    """Every status section of the page, each with the first message an example documents for its status:
    (sections, examples, problems)."""
    examples, problems = page_examples(text)
    first: dict[int, str] = {}
    for example in examples:
        first.setdefault(example.status, example.message)
    sections = [_with_message(section, first.get(section.status)) for section in status_sections(text.splitlines())]
    return sections, examples, problems


def _with_message(section: PageError, message: str | None) -> PageError:
    return PageError(section.group, section.heading, section.status, section.summary, message, section.line)


def status_sections(lines: list[str]) -> list[PageError]:
    """``### NNN Title`` under a ``##`` group, and a ``## Title (NNN)`` group; outside code fences."""
    sections: list[PageError] = []
    group = ""
    for number, line in _outside_fences(lines):
        if (match := _GROUP.match(line)) is not None:
            group = match["title"]
            if (status := _GROUP_STATUS.search(group)) is not None:
                title = group[: status.start()].strip()
                sections.append(PageError(group, "", int(status["status"]), title, None, number))
        elif (match := _STATUS.match(line)) is not None:
            sections.append(PageError(group, match["heading"], int(match["status"]), match["title"], None, number))
    return sections


def _outside_fences(lines: list[str]) -> list[tuple[int, str]]:
    """(1-based line number, line) of each line that is not inside a fenced block."""
    kept: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(lines, 1):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match["fence"]
        elif fence is not None and match and not match["lang"] and match["fence"][0] == fence[0] \
                and len(match["fence"]) >= len(fence):
            fence = None
        elif fence is None:
            kept.append((number, line))
    return kept


def page_examples(text: str) -> tuple[list[PageExample], list[str]]:
    """Each JSON example of an error body with ``error.status`` and ``error.message``: (examples, problems)."""
    examples: list[PageExample] = []
    problems: list[str] = []
    for start, body in json_blocks(text.splitlines()):
        data = loads_lenient("\n".join(body))
        error = data.get("error") if isinstance(data, dict) else None
        if data is None and '"error"' in "\n".join(body):
            problems.append("line %d: a JSON example that is not JSON; its message, if any, is not compared" % start)
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            continue
        if not isinstance(error.get("status"), int):
            problems.append("line %d: an example with error.message %r but no error.status: no status documents it"
                            % (start, error["message"]))
            continue
        examples.append(PageExample(error["status"], error["message"], start + _message_offset(body)))
    return examples, problems


def _message_offset(body: list[str]) -> int:
    """Lines from the opening fence to the one that holds ``"message"`` (to point a person at it)."""
    return next((index + 1 for index, line in enumerate(body) if '"message"' in line), 0)


def json_blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(line of the opening fence, body) of every fenced block tagged JSON (any case) or untagged."""
    found: list[tuple[int, list[str]]] = []
    fence: str | None = None
    body: list[str] | None = None
    start = 0
    for number, line in enumerate(lines, 1):
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence, start = match["fence"], number
                body = [] if match["lang"].lower() in _JSON_LANGS else None
        elif match and not match["lang"] and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence):
            if body is not None:
                found.append((start, body))
            fence = None
        elif body is not None:
            body.append(line)
    return found


def load_status_page(path: str, raw: bytes, text: str) -> ErrorsPage | None:
    """The page as today's form, or None when it has no status section."""
    sections, examples, problems = parse_status_page(text)
    if not sections:
        return None
    return ErrorsPage(path, hashlib.sha256(raw).hexdigest(), tuple(sections), tuple(problems), format=STATUSES,
                      examples=tuple(examples))


def compare_statuses(catalog: Catalog, page: ErrorsPage) -> Drift:
    """Statuses only the page has, statuses only the catalog has (entries and recognised), and changed messages."""
    drift = Drift(page)
    on_page = {section.status for section in page.errors}
    known = {error.status for error in catalog.errors} | {entry.status for entry in catalog.recognised}
    drift.not_covered = [section for section in page.errors if section.status not in known]
    drift.stale = [error for error in catalog.errors if error.status not in on_page]
    drift.stale_recognised = [entry for entry in catalog.recognised if entry.status not in on_page]
    for error in catalog.errors:
        section = _section_of(error, page)
        if section is not None:
            drift.matched[error.id] = section
    drift.changed = changed_messages(catalog, list(page.examples))
    return drift


def _section_of(error: DocumentedError, page: ErrorsPage) -> PageError | None:
    """The page's section of the entry's status: the one of its own name first (a renamed one is no drift)."""
    same = [section for section in page.errors if section.status == error.status]
    return next((section for section in same if section.section == error.section), same[0] if same else None)


def changed_messages(catalog: Catalog, examples: list[PageExample]) -> list[MessageChange]:
    """Per status, the page's messages no entry of that status checks, paired with the entries that check another.

    An entry checking a message the page does not give (the 409's comes from the idempotency page) is no
    change when the page's messages of its status are all checked by other entries; a message documented
    for a status whose entries check none (``message: null``) is a change with no old message.
    """
    changes: list[MessageChange] = []
    for status in sorted({example.status for example in examples}):
        entries = [e for e in catalog.errors if e.status == status and e.message is not None]
        documented = [example for example in examples if example.status == status]
        unchecked = [x for x in documented if not any(message_pattern(e).fullmatch(x.message) for e in entries)]
        unmatched = [e for e in entries if not any(message_pattern(e).fullmatch(x.message) for x in documented)]
        for index, example in enumerate(unchecked):
            error = unmatched[index] if index < len(unmatched) else None
            changes.append(MessageChange(status, example.message, example.line, error))
    return changes
