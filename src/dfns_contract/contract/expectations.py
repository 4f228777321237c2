"""What a documented error looks like on the wire, and failure messages for a person at 2 a.m."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from dfns_contract.client import Exchange, NotJSON, NotProvided, PolicyPending
from dfns_contract.contract import schemas
from dfns_contract.contract.catalog import DEFAULT_ENVELOPE, DEFAULT_INTERNAL_MESSAGE, DocumentedError
from dfns_contract.contract.failure_record import (
    BODY,
    MESSAGE,
    SCHEMA,
    STATUS,
    Actual,
    Expected,
    FailureRecord,
    differences,
)

INTERNAL_ERROR_MESSAGE = DEFAULT_INTERNAL_MESSAGE
INTERNAL_ERROR_DOC = "getting-started/errors.md › Common Errors › 500 - Internal Server Error"


#: A problem found in a response: what kind of difference it is (``failure_record.DIFFERENCES``) and its sentence.
Finding = tuple[str, str]


class ContractViolation(AssertionError):
    """The server broke the documented error contract; ``record`` holds the failure as data for the reporters
    (None when raised with a text only: the plugin then keeps the text as the record's title and context)."""

    def __init__(self, what: str | FailureRecord) -> None:
        self.record = what if isinstance(what, FailureRecord) else None
        super().__init__(what.text() if isinstance(what, FailureRecord) else what)


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def envelope_problems(exchange: Exchange, envelope: str = DEFAULT_ENVELOPE) -> tuple[list[str], Any]:
    """Content type, JSON and schema (``schemas/ENVELOPE``) of an error response; returns (problems, parsed body)."""
    findings, body = envelope_findings(exchange, envelope)
    return [text for _, text in findings], body


def envelope_findings(exchange: Exchange, envelope: str = DEFAULT_ENVELOPE) -> tuple[list[Finding], Any]:
    """``envelope_problems``, each with its kind: the body's (Content-Type, JSON) or the envelope schema's.

    Where the version's body carries the status (``error.status``), it must be the HTTP status: a client
    that reads it (or logs it) must not be told another story than the response line.
    """
    findings: list[Finding] = []
    if not is_json_content_type(exchange.content_type):
        findings.append((BODY, "Content-Type is %r, expected application/json" % exchange.content_type))
    try:
        body = exchange.json
    except NotJSON:
        return findings + [(BODY, "body is not JSON")], None
    findings += [(SCHEMA, "body " + p) for p in schemas.problems(envelope, body)]
    if schemas.requires_status(envelope):
        status = _inner(body).get("status")
        if isinstance(status, int) and status != exchange.status:
            findings.append((BODY, "body error.status is %d, expected the HTTP status %d" % (status, exchange.status)))
    return findings, body


def _inner(body: Any) -> dict[str, Any]:
    return body["error"] if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}


def message_of(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("message")
    return None


def documented_error_problems(exchange: Exchange, status: int, message: str | None, *,
                              envelope: str = DEFAULT_ENVELOPE, body: Mapping[str, Any] | None = None) -> list[str]:
    """Status, envelope, exact message (``None``: any non-empty one, as the envelope requires) and ``body``
    (a catalog entry's extra schema fragment) of an error response."""
    return [text for _, text in documented_error_findings(exchange, status, message, envelope=envelope, body=body)]


def documented_error_findings(exchange: Exchange, status: int, message: str | None, *,
                              envelope: str = DEFAULT_ENVELOPE, body: Mapping[str, Any] | None = None) -> list[Finding]:
    """``documented_error_problems``, each with what differed (status, message, body or schema)."""
    findings: list[Finding] = []
    if exchange.status != status:
        findings.append((STATUS, "status is %d, expected %d" % (exchange.status, status)))
    shape, parsed = envelope_findings(exchange, envelope)
    findings += shape
    actual = message_of(parsed)
    if parsed is not None and message is not None and actual != message:
        findings.append((MESSAGE, "message is %s, expected %s" % (_show(actual), _show(message))))
    if parsed is not None and body:
        findings += [(BODY, "body " + p) for p in schemas.fragment_problems(dict(body), parsed)]
    return findings


def actual_of(exchange: Exchange) -> Actual:
    """What ``exchange`` got, as a record holds it: status, ``error.message`` and, when there is none, the body's head."""
    try:
        message = message_of(exchange.json)
    except NotJSON:
        message = None
    shown = message if isinstance(message, str) else None
    return Actual(exchange.status, shown, exchange.content_type, None if shown is not None else exchange.text[:HEAD])


#: Characters of a body a record keeps when it holds no documented message.
HEAD = 200


def violation(title: str, exchange: Exchange, findings: list[Finding], expected: Expected, *, doc: str = "",
              entry: str | None = None, case: str | None = None, drawn: str | None = None,
              context: str | None = None) -> FailureRecord:
    """The record of a response that broke ``expected``: what differed, the request as curl, the response."""
    return FailureRecord(
        title=title, case=case, entry=entry, doc=doc or None, expected=expected, actual=actual_of(exchange),
        differed=differences(kind for kind, _ in findings), problems=tuple(text for _, text in findings),
        curl=exchange.curl(), response=exchange.described_response(), drawn=drawn, context=context)


def expected_error_text(status: int, message: str | None, envelope: str = DEFAULT_ENVELOPE) -> str:
    """The documented answer as a person reads it: ``HTTP 404 {"error": {...}}``."""
    shown = json.dumps(message) if message is not None else "<a non-empty string>"
    if schemas.requires_status(envelope):
        return 'HTTP %d {"error": {"id": <string>, "status": %d, "message": %s, "details": {…}}}' % (
            status, status, shown)
    return 'HTTP %d {"error": {"message": %s}}' % (status, shown)


def expected_error(status: int, message: str | None, envelope: str = DEFAULT_ENVELOPE,
                   body: Mapping[str, Any] | None = None) -> Expected:
    """The documented answer as a record holds it."""
    text = expected_error_text(status, message, envelope)
    if body:
        text += ", and the body matches %s" % json.dumps(body, separators=(",", ":"))
    return Expected(text, status, message, envelope)


def assert_documented_error(
    exchange: Exchange, status: int, message: str | None, *, title: str, doc: str = "",
    envelope: str = DEFAULT_ENVELOPE, body: Mapping[str, Any] | None = None, entry: str | None = None,
    case: str | None = None, drawn: str | None = None,
) -> None:
    """``ContractViolation`` with the failure's record unless ``exchange`` is the documented error.

    ``entry``, ``case``: which catalog entry and case it checks; ``drawn``: the fuzzed value sent, shown once.
    """
    findings = documented_error_findings(exchange, status, message, envelope=envelope, body=body)
    if findings:
        raise ContractViolation(violation(title, exchange, findings, expected_error(status, message, envelope, body),
                                          doc=doc, entry=entry, case=case, drawn=drawn))


def assert_as_documented(exchange: Exchange, error: DocumentedError, *, title: str,
                         message: str | None = None, status: int | None = None, case: str | None = None,
                         drawn: str | None = None) -> None:
    """``exchange`` is ``error`` as its version documents it: status, message, the version's envelope, the
    entry's body. ``message``/``status``: the entry's filled in (a template, an invariant's status)."""
    assert_documented_error(exchange, status if status is not None else error.status,
                            message if message is not None else error.message, title=title,
                            doc=error.doc_reference, envelope=error.envelope, body=error.body, entry=error.id,
                            case=case, drawn=drawn)


#: A control's expectation: the same request without the fault succeeds.
SUCCESS = Expected("HTTP 2xx")


def assert_success(exchange: Exchange, *, title: str, doc: str = "", entry: str | None = None,
                   case: str | None = None, drawn: str | None = None) -> None:
    """The control: without the fault, the same request must succeed."""
    if not 200 <= exchange.status < 300:
        raise ContractViolation(violation(title, exchange, [(STATUS, "status is %d, expected 2xx" % exchange.status)],
                                          SUCCESS, doc=doc, entry=entry, case=case, drawn=drawn))


def audit_problems(exchange: Exchange, envelope: str = DEFAULT_ENVELOPE,
                   internal_message: str | None = INTERNAL_ERROR_MESSAGE) -> list[str]:
    """What every response of the run must honour, whatever request caused it."""
    return [text for _, text in audit_findings(exchange, envelope, internal_message)]


def audit_findings(exchange: Exchange, envelope: str = DEFAULT_ENVELOPE,
                   internal_message: str | None = INTERNAL_ERROR_MESSAGE) -> list[Finding]:
    """``audit_problems``, each with what differed."""
    if exchange.status >= 500:
        return documented_error_findings(exchange, exchange.status, internal_message, envelope=envelope)
    if exchange.status >= 400:
        return envelope_findings(exchange, envelope)[0]
    return []


#: The methods the API Errors page of 2026 calls state-changing: a policy may hold them for approval (202).
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE"})


def auditor(envelope: str = DEFAULT_ENVELOPE, internal_message: str | None = INTERNAL_ERROR_MESSAGE,
            doc: str = "getting-started/errors.md", internal_doc: str = INTERNAL_ERROR_DOC,
            recognised: Mapping[int, str] | None = None, pending: str | None = None) -> Callable[[Exchange], None]:
    """The observer of every exchange of a run: a 5xx must be the documented body (``internal_message``:
    the version's 500 message, None if it documents none), any error the version's envelope.

    ``recognised``: statuses the version documents for what the environment does not provide (402), by
    meaning: such an answer, in the version's envelope, stops the case as the environment's doing
    (``NotProvided``), never a failure. ``pending``: where the version documents the 202 of a policy that
    holds a request for approval, its meaning: a state-changing request answered 202 stops the case
    (``PolicyPending``). The 429 never reaches an observer (``RateLimited``).
    """
    def audit(exchange: Exchange) -> None:
        if pending and exchange.status == 202 and exchange.method.upper() in STATE_CHANGING:
            raise PolicyPending(exchange, pending)
        findings = audit_findings(exchange, envelope, internal_message)
        if recognised and exchange.status in recognised and not findings:
            raise NotProvided(exchange, recognised[exchange.status])
        if not findings:
            return
        server_side = exchange.status >= 500
        message = internal_message if server_side else None
        expected = Expected(expected_error_text(exchange.status, message, envelope) + " as application/json",
                            exchange.status, message, envelope)
        raise ContractViolation(violation(
            "an %s response broke the documented error envelope" % ("5xx" if server_side else "error"),
            exchange, findings, expected, doc=internal_doc if server_side and internal_message else doc))

    return audit


#: The audit of the 2024 and 2025 pages.
audit = auditor()


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else "absent"
