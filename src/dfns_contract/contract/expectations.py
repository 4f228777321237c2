"""What a documented error looks like on the wire, and failure messages for a person at 2 a.m."""

from __future__ import annotations

import json
from typing import Any

from dfns_contract.client import Exchange, NotJSON
from dfns_contract.contract import schemas

INTERNAL_ERROR_MESSAGE = "Internal Server Error"


class ContractViolation(AssertionError):
    """The server broke the documented error contract."""


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def envelope_problems(exchange: Exchange) -> tuple[list[str], Any]:
    """Content type, JSON and schema of an error response; returns (problems, parsed body)."""
    problems = []
    if not is_json_content_type(exchange.content_type):
        problems.append("Content-Type is %r, expected application/json" % exchange.content_type)
    try:
        body = exchange.json
    except NotJSON:
        return problems + ["body is not JSON"], None
    problems += ["body " + p for p in schemas.problems("error.json", body)]
    return problems, body


def message_of(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("message")
    return None


def documented_error_problems(exchange: Exchange, status: int, message: str) -> list[str]:
    problems = []
    if exchange.status != status:
        problems.append("status is %d, expected %d" % (exchange.status, status))
    envelope, body = envelope_problems(exchange)
    problems += envelope
    actual = message_of(body)
    if body is not None and actual != message:
        problems.append("message is %s, expected %s" % (_show(actual), _show(message)))
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


def expected_error_text(status: int, message: str) -> str:
    return "HTTP %d %s" % (status, json.dumps({"error": {"message": message}}))


def assert_documented_error(
    exchange: Exchange, status: int, message: str, *, title: str, doc: str = ""
) -> None:
    problems = documented_error_problems(exchange, status, message)
    if problems:
        raise ContractViolation(
            report(title, exchange, problems, expected=expected_error_text(status, message), doc=doc)
        )


def assert_success(exchange: Exchange, *, title: str, doc: str = "") -> None:
    """The control: without the fault, the same request must succeed."""
    if not 200 <= exchange.status < 300:
        problems = ["status is %d, expected 2xx" % exchange.status]
        raise ContractViolation(report(title, exchange, problems, expected="HTTP 2xx", doc=doc))


def audit_problems(exchange: Exchange) -> list[str]:
    """What every response of the run must honour, whatever request caused it."""
    if exchange.status >= 500:
        return documented_error_problems(exchange, exchange.status, INTERNAL_ERROR_MESSAGE)
    if exchange.status >= 400:
        return envelope_problems(exchange)[0]
    return []


def audit(exchange: Exchange) -> None:
    """Observer on every exchange: a 5xx must be the documented body, any error the envelope."""
    problems = audit_problems(exchange)
    if problems:
        kind = "5xx" if exchange.status >= 500 else "error"
        raise ContractViolation(
            report(
                "an %s response broke the documented error envelope" % kind,
                exchange,
                problems,
                expected=expected_error_text(exchange.status, INTERNAL_ERROR_MESSAGE)
                if exchange.status >= 500
                else '{"error": {"message": <string>}} as application/json',
                doc="getting-started/errors.md › Common Errors › 500 - Internal Server Error"
                if exchange.status >= 500
                else "getting-started/errors.md",
            )
        )


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else "absent"
