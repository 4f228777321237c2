"""What a documented error looks like on the wire, and failure messages for a person at 2 a.m."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from dfns_contract.client import Exchange, NotJSON, NotProvided, PolicyPending
from dfns_contract.contract import schemas
from dfns_contract.contract.catalog import DEFAULT_ENVELOPE, DEFAULT_INTERNAL_MESSAGE, DocumentedError

INTERNAL_ERROR_MESSAGE = DEFAULT_INTERNAL_MESSAGE
INTERNAL_ERROR_DOC = "getting-started/errors.md › Common Errors › 500 - Internal Server Error"


class ContractViolation(AssertionError):
    """The server broke the documented error contract."""


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def envelope_problems(exchange: Exchange, envelope: str = DEFAULT_ENVELOPE) -> tuple[list[str], Any]:
    """Content type, JSON and schema (``schemas/ENVELOPE``) of an error response; returns (problems, parsed body).

    Where the version's body carries the status (``error.status``), it must be the HTTP status: a client
    that reads it (or logs it) must not be told another story than the response line.
    """
    problems = []
    if not is_json_content_type(exchange.content_type):
        problems.append("Content-Type is %r, expected application/json" % exchange.content_type)
    try:
        body = exchange.json
    except NotJSON:
        return problems + ["body is not JSON"], None
    problems += ["body " + p for p in schemas.problems(envelope, body)]
    if schemas.requires_status(envelope):
        status = _inner(body).get("status")
        if isinstance(status, int) and status != exchange.status:
            problems.append("body error.status is %d, expected the HTTP status %d" % (status, exchange.status))
    return problems, body


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
    problems = []
    if exchange.status != status:
        problems.append("status is %d, expected %d" % (exchange.status, status))
    shape, parsed = envelope_problems(exchange, envelope)
    problems += shape
    actual = message_of(parsed)
    if parsed is not None and message is not None and actual != message:
        problems.append("message is %s, expected %s" % (_show(actual), _show(message)))
    if parsed is not None and body:
        problems += ["body " + p for p in schemas.fragment_problems(dict(body), parsed)]
    return problems


def report(title: str, exchange: Exchange, problems: list[str], *, expected: str, doc: str = "") -> str:
    lines = [title]
    if doc:
        lines.append("  doc:      " + doc)
    lines.append("  expected: " + expected)
    lines.append("  problems:")
    lines += ["    - " + p for p in problems]
    lines.append(exchange.describe())
    return "\n".join(lines)


def expected_error_text(status: int, message: str | None, envelope: str = DEFAULT_ENVELOPE) -> str:
    """The documented answer as a person reads it: ``HTTP 404 {"error": {...}}``."""
    shown = json.dumps(message) if message is not None else "<a non-empty string>"
    if schemas.requires_status(envelope):
        return 'HTTP %d {"error": {"id": <string>, "status": %d, "message": %s, "details": {…}}}' % (
            status, status, shown)
    return 'HTTP %d {"error": {"message": %s}}' % (status, shown)


def assert_documented_error(
    exchange: Exchange, status: int, message: str | None, *, title: str, doc: str = "",
    envelope: str = DEFAULT_ENVELOPE, body: Mapping[str, Any] | None = None,
) -> None:
    problems = documented_error_problems(exchange, status, message, envelope=envelope, body=body)
    if problems:
        expected = expected_error_text(status, message, envelope)
        if body:
            expected += ", and the body matches %s" % json.dumps(body, separators=(",", ":"))
        raise ContractViolation(report(title, exchange, problems, expected=expected, doc=doc))


def assert_as_documented(exchange: Exchange, error: DocumentedError, *, title: str,
                         message: str | None = None, status: int | None = None) -> None:
    """``exchange`` is ``error`` as its version documents it: status, message, the version's envelope, the
    entry's body. ``message``/``status``: the entry's filled in (a template, an invariant's status)."""
    assert_documented_error(exchange, status if status is not None else error.status,
                            message if message is not None else error.message, title=title,
                            doc=error.doc_reference, envelope=error.envelope, body=error.body)


def assert_success(exchange: Exchange, *, title: str, doc: str = "") -> None:
    """The control: without the fault, the same request must succeed."""
    if not 200 <= exchange.status < 300:
        problems = ["status is %d, expected 2xx" % exchange.status]
        raise ContractViolation(report(title, exchange, problems, expected="HTTP 2xx", doc=doc))


def audit_problems(exchange: Exchange, envelope: str = DEFAULT_ENVELOPE,
                   internal_message: str | None = INTERNAL_ERROR_MESSAGE) -> list[str]:
    """What every response of the run must honour, whatever request caused it."""
    if exchange.status >= 500:
        return documented_error_problems(exchange, exchange.status, internal_message, envelope=envelope)
    if exchange.status >= 400:
        return envelope_problems(exchange, envelope)[0]
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
        problems = audit_problems(exchange, envelope, internal_message)
        if recognised and exchange.status in recognised and not problems:
            raise NotProvided(exchange, recognised[exchange.status])
        if not problems:
            return
        server_side = exchange.status >= 500
        raise ContractViolation(
            report(
                "an %s response broke the documented error envelope" % ("5xx" if server_side else "error"),
                exchange,
                problems,
                expected=expected_error_text(exchange.status, internal_message if server_side else None, envelope)
                + " as application/json",
                doc=internal_doc if server_side and internal_message else doc,
            )
        )

    return audit


#: The audit of the 2024 and 2025 pages.
audit = auditor()


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else "absent"
