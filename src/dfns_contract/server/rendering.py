"""The one place that turns results and errors into HTTP responses.

Every response of the server, success or error, routed or not, is built here,
so the envelope, the content type and the benign variations (charset, key
order, extra fields and headers, chunked bodies) hold everywhere at once.
The body of an error is the contract version's (``ContractVersion.error_body``):
``{"error": {"message"}}`` for the 2024 and 2025 pages, ``{"error": {"id",
"status", "message", "details"}}`` for today's reference, its ``id`` new for
every response. Fixed errors of the older body are serialised once at start:
the hot path of a cheap rejection is a dictionary lookup and a ``Response``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response, StreamingResponse

from .contracts import ContractVersion, ErrorBody, resolve_contract
from .errors import ApiError, ErrorId, ErrorSpec
from .faults import FaultSet

JSON = "application/json"
#: Faults that change the error envelope (at most one applies; the first listed wins).
ENVELOPE_FAULTS = (
    "envelope-flat",
    "envelope-list",
    "envelope-non-string",
    "envelope-non-json",
    "envelope-content-type",
)
HTML_500 = (
    b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>"
    b"<body><h1>Internal Server Error</h1><p>The server encountered an unexpected condition.</p>"
    b"</body></html>\n"
)


#: error-status-disagrees: the status every error's body claims, and the one it claims where that is the HTTP one.
DISAGREEING_STATUS, DISAGREEING_STATUS_ON_400 = 400, 422


def new_error_id() -> str:
    """An ``error.id`` to quote to support: new for every response."""
    return "er-" + uuid.uuid4().hex


class Renderer:
    """Builds responses the way this server's fault set and contract version say."""

    def __init__(self, faults: FaultSet, contract: ContractVersion | str | None = None) -> None:
        version = resolve_contract(contract)
        self.table: dict[ErrorId, ErrorSpec] = version.error_table(faults)
        self.body = ErrorBody.MESSAGE if "envelope-2024" in faults else version.error_body
        self.error_ids = "envelope-missing-id" not in faults
        self.status_disagrees = "error-status-disagrees" in faults
        self.details_as_text = "details-not-object" in faults
        self.key_order = "key-order" in faults
        self.extra_fields = "extra-fields" in faults
        self.chunked = "chunked" in faults
        self.json_type = JSON + "; charset=utf-8" if "charset" in faults else JSON
        self.extra_headers = "extra-headers" in faults
        self.close = "connection-close" in faults
        self.envelope = next((name for name in ENVELOPE_FAULTS if name in faults), "documented")
        if "html-500-on-odd-bytes" in faults:
            self.internal_style = "html"
        elif "internal-error-shape" in faults:
            self.internal_style = "flat"
        else:
            self.internal_style = "envelope"
        # Request and error ids differ per response, so errors that carry one are built each time.
        self._fixed: dict[ErrorId, tuple[int, bytes, str]] = (
            {}
            if self.extra_fields or self.body is not ErrorBody.MESSAGE
            else {
                error: self._error_body(error, spec.message, {})
                for error, spec in self.table.items()
            }
        )

    # -- public ----------------------------------------------------------------

    def json(self, data: Any, status: int = 200) -> Response:
        return self._response(self._dumps(data), status, self.json_type)

    def error(self, exc: ApiError, headers: Mapping[str, str] | None = None) -> Response:
        status, body, media_type = self._error_parts(exc)
        return self._response(body, status, media_type, headers)

    def raw_error(self, exc: ApiError, headers: Mapping[str, str] | None = None) -> bytes:
        """The error as a whole HTTP/1.1 response that closes the connection.

        For the connection layer (connections.py), which answers before there
        is an ASGI call to answer through: same status, envelope and content
        type as ``error``, always ``Connection: close``; ``headers`` (a
        ``Retry-After``, say) go before it.
        """
        status, body, media_type = self._error_parts(exc)
        extra = "".join("%s: %s\r\n" % item for item in (headers or {}).items())
        head = "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%sconnection: close\r\n\r\n" % (
            status, HTTPStatus(status).phrase, media_type, len(body), extra)
        return head.encode("latin-1") + body

    def internal_error(self) -> Response:
        """The 500 answer; two faults give it the wrong shape."""
        spec = self.table[ErrorId.INTERNAL]
        if self.internal_style == "html":
            return self._response(HTML_500, spec.status, "text/html; charset=utf-8")
        if self.internal_style == "flat":
            return self._response(
                self._dumps({"message": spec.message}), spec.status, self.json_type
            )
        return self.error(ApiError(ErrorId.INTERNAL))

    # -- building --------------------------------------------------------------

    def _error_parts(self, exc: ApiError) -> tuple[int, bytes, str]:
        fixed = self._fixed.get(exc.error) if exc.is_fixed else None
        if fixed is not None:
            return fixed
        spec = self.table[exc.error]
        message = exc.detail if exc.detail is not None else spec.message.format(**exc.fields)
        return self._error_body(exc.error, message, exc.details)

    def _error_body(
        self, error: ErrorId, message: str, details: Mapping[str, Any]
    ) -> tuple[int, bytes, str]:
        status = self.table[error].status
        if self.envelope == "envelope-non-json":
            return status, message.encode(), "text/plain; charset=utf-8"
        inner = self._inner(status, message, details)
        if self.envelope == "envelope-flat":
            return status, self._dumps(inner), self.json_type
        if self.envelope == "envelope-list":
            return status, self._dumps([inner]), self.json_type
        if self.envelope == "envelope-non-string":
            inner["message"] = {"text": message}
            return status, self._dumps({"error": inner}), self.json_type
        outer: dict[str, Any] = {"error": inner}
        if self.extra_fields:
            inner["code"] = error.value
            outer["requestId"] = "rq-" + uuid.uuid4().hex
        media_type = (
            "text/plain; charset=utf-8"
            if self.envelope == "envelope-content-type"
            else self.json_type
        )
        return status, self._dumps(outer), media_type

    def _inner(self, status: int, message: str, details: Mapping[str, Any]) -> dict[str, Any]:
        """The ``error`` object: the message alone, or id, status, message and details."""
        if self.body is ErrorBody.MESSAGE:
            return {"message": message}
        inner: dict[str, Any] = {"id": new_error_id()} if self.error_ids else {}
        if self.status_disagrees:
            status = DISAGREEING_STATUS_ON_400 if status == DISAGREEING_STATUS else DISAGREEING_STATUS
        inner.update(status=status, message=message)
        inner["details"] = message if self.details_as_text else dict(details)
        return inner

    def _dumps(self, data: Any) -> bytes:
        try:
            return self._dumps_text(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            # A client may store a lone surrogate (JSON allows "\ud800"); UTF-8 cannot encode it.
            return self._dumps_text(data, ensure_ascii=True).encode()

    def _dumps_text(self, data: Any, ensure_ascii: bool) -> str:
        if self.key_order:
            return json.dumps(_reverse_keys(data), indent=2, ensure_ascii=ensure_ascii)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=ensure_ascii)

    def _response(
        self, body: bytes, status: int, media_type: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        all_headers = dict(headers or {})
        if self.extra_headers:
            all_headers["X-Request-Id"] = uuid.uuid4().hex
            all_headers["Cache-Control"] = "no-store"
        if self.close:
            all_headers["Connection"] = "close"
        if self.chunked:
            return StreamingResponse(_two_chunks(body), status, all_headers, media_type)
        return Response(body, status, all_headers or None, media_type)


async def _two_chunks(body: bytes) -> AsyncIterator[bytes]:
    """Send the body in two pieces so the server must use chunked transfer encoding."""
    middle = len(body) // 2
    yield body[:middle]
    yield body[middle:]


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reverse_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(item) for item in value]
    return value
