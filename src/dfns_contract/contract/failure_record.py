"""One failure of a run as data: what was expected, what came back, what differed, and the request to send again.

A failure is built once, where the check fails (``expectations.py``, the
replayed cases, the fuzzing, race and replay-model tests, and the plugin for
the environment's failures), and travels to the reporters as data: on the
exception (``record`` of ``ContractViolation``), then on the test report
(``plugin/failures.py``), which pytest-xdist carries to its controller. Every
reporter (terminal, JSON, HTML, JUnit) renders these fields; none reads a
failure's text back to find them.

``kind`` says whose the failure is: ``contract`` (the server broke the
documented error) or ``environment`` (a gateway's 502, a rate limit past its
budget, no answer: an *error*, never a broken contract).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

CONTRACT, ENVIRONMENT = "contract", "environment"
#: What can differ from the documented error, in the order the reports name them: the HTTP status, the exact
#: message, the body (Content-Type, JSON, the entry's own fields) and the version's envelope schema.
STATUS, MESSAGE, BODY, SCHEMA = "status", "message", "body", "schema"
DIFFERENCES = (STATUS, MESSAGE, BODY, SCHEMA)
#: Said wherever a version documents no message (2026): any non-empty one passes, and the one seen is shown.
ANY_MESSAGE = "any non-empty message"
#: The attribute of a replayed case's failure (``contract/replay.py``) that carries its records to the plugin.
RECORDS_ATTRIBUTE = "dfns_records"
#: Characters of a drawn value a record keeps (a fuzzed header can be 8 KB; the replay command draws it again).
DRAWN_LIMIT = 300


@dataclass(frozen=True)
class Expected:
    """What the page documents for the request: ``status`` None means any 5xx (the invariant 500 entry), or 2xx
    for a control (``text`` says which); ``message`` None means ``ANY_MESSAGE``; ``schema`` the envelope's name."""

    text: str
    status: int | None = None
    message: str | None = None
    schema: str | None = None

    @property
    def message_text(self) -> str:
        """The message as a person reads it, never ``None``."""
        return ANY_MESSAGE if self.message is None else '"%s"' % self.message


@dataclass(frozen=True)
class Actual:
    """What came back: ``status`` None when nothing did; ``message`` the body's ``error.message`` (None if absent);
    ``head`` the first bytes of a body that is not the documented envelope."""

    status: int | None = None
    message: str | None = None
    content_type: str | None = None
    head: str | None = None


@dataclass(frozen=True)
class FailureRecord:
    """One failure: the case, the documented error, expected against actual, what differed, the exchange."""

    title: str
    kind: str = CONTRACT
    case: str | None = None  # the replayed case's id, or the test's name
    entry: str | None = None  # the catalog entry's id
    doc: str | None = None  # where the page documents it
    expected: Expected | None = None
    actual: Actual | None = None
    differed: tuple[str, ...] = ()  # among DIFFERENCES
    problems: tuple[str, ...] = ()  # each in a sentence
    curl: str | None = None  # the request, runnable (masked where it leaves the run)
    response: str | None = None  # the response's status line, headers and body excerpt
    drawn: str | None = None  # the fuzzed value that broke it, once
    context: str | None = None  # what else a person needs: the replay model's walk
    notes: tuple[str, ...] = field(default=())  # what the client did about it (sent again, breaker)

    def line(self) -> str:
        """The failure on one line, for a table cell, a JUnit property and the JSON ``failure``."""
        parts = [self.title.splitlines()[0] if self.title else "failed"]
        if self.differed:
            parts.append("differed: " + ", ".join(self.differed))
        parts += list(self.problems)
        if self.kind == ENVIRONMENT and self.actual is not None and self.actual.status is not None and not self.problems:
            parts.append(_actual_text(self.actual))
        return "; ".join(parts)

    def text(self) -> str:
        """The paragraph a terminal shows: title, doc, expected, actual, what differed, the exchange, the value."""
        lines = [self.title]
        if self.doc:
            lines.append("  doc:      " + self.doc)
        if self.expected is not None:
            lines.append("  expected: " + self.expected.text)
        if self.actual is not None:
            lines.append("  actual:   " + _actual_text(self.actual))
        if self.differed:
            lines.append("  differed: " + ", ".join(self.differed))
        if self.drawn is not None:
            lines.append("  drawn:    " + self.drawn)
        if self.problems:
            lines.append("  problems:")
            lines += ["    - " + problem for problem in self.problems]
        if self.curl:
            lines += ["  request:", "    " + self.curl]
        if self.response:
            lines.append(self.response)
        lines += ["  " + note for note in self.notes]
        if self.context:
            lines.append(self.context)
        return "\n".join(lines)

    def as_data(self) -> dict[str, Any]:
        """JSON-ready, in the report's spelling (``schemas/report.json``, ``$defs/failureRecord``)."""
        expected = None if self.expected is None else {
            "text": self.expected.text, "status": self.expected.status, "message": self.expected.message,
            "messageText": self.expected.message_text, "schema": self.expected.schema}
        actual = None if self.actual is None else {
            "status": self.actual.status, "message": self.actual.message, "contentType": self.actual.content_type,
            "head": self.actual.head}
        return {"kind": self.kind, "title": self.title, "case": self.case, "entry": self.entry, "doc": self.doc,
                "expected": expected, "actual": actual, "differed": list(self.differed),
                "problems": list(self.problems), "curl": self.curl, "response": self.response, "drawn": self.drawn,
                "context": self.context, "notes": list(self.notes), "line": self.line()}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FailureRecord:
        """The record back from ``as_data`` (after pytest-xdist carried it, or masking rebuilt it)."""
        expected, actual = data.get("expected"), data.get("actual")
        return cls(
            title=data["title"], kind=data.get("kind", CONTRACT), case=data.get("case"), entry=data.get("entry"),
            doc=data.get("doc"),
            expected=None if expected is None else Expected(expected["text"], expected.get("status"),
                                                            expected.get("message"), expected.get("schema")),
            actual=None if actual is None else Actual(actual.get("status"), actual.get("message"),
                                                      actual.get("contentType"), actual.get("head")),
            differed=tuple(data.get("differed", ())), problems=tuple(data.get("problems", ())), curl=data.get("curl"),
            response=data.get("response"), drawn=data.get("drawn"), context=data.get("context"),
            notes=tuple(data.get("notes", ())))

    def about(self, *, case: str | None = None, entry: str | None = None, doc: str | None = None) -> FailureRecord:
        """This record with the case, entry and doc filled in where the check did not know them."""
        return replace(self, case=self.case or case, entry=self.entry or entry, doc=self.doc or doc)


def differences(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds of difference among ``kinds``, each once, in the order of ``DIFFERENCES``."""
    found = set(kinds)
    return tuple(kind for kind in DIFFERENCES if kind in found)


def shown_value(value: str | None) -> str:
    """A drawn value as a record keeps it: its repr, cut past ``DRAWN_LIMIT`` characters (saying its length);
    None (the header left out) says so."""
    if value is None:
        return "(absent: the header was not sent)"
    text = repr(value)
    if len(text) <= DRAWN_LIMIT:
        return text
    return "%s… (%d characters in all)" % (text[:DRAWN_LIMIT], len(value or ""))


def _actual_text(actual: Actual) -> str:
    if actual.status is None:
        return "no answer"
    text = "HTTP %d" % actual.status
    if actual.content_type is not None:
        text += ", Content-Type %s" % (actual.content_type or "(none)")
    if actual.message is not None:
        text += ', message "%s"' % actual.message
    elif actual.head is not None:
        text += ", body %r" % (actual.head if actual.head.strip() else "(empty)")
    return text
