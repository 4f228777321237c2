"""How the pipeline reads a request header by its name.

Header names are case-insensitive (RFC 9110 §5.1): HTTP/2 sends every name
in lower case, gateways and SDKs spell them as they like. The faithful server
reads them as ASGI hands them over, lower-cased, so any spelling works and
reading one costs a dictionary lookup.

The fault ``header-names-case-sensitive`` reads ``X-DFNS-NONCE``,
``X-DFNS-APPID``, ``X-DFNS-USERACTION`` and ``Authorization`` only under
their documented spelling, as servers that look names up in a
case-sensitive map do; any other spelling is as if the header were absent.
By the time a request is an ASGI call its names are lower case, so under
that fault (only then) the connection layer (connections.py) keeps the names
as they came, with their values, in the scope under ``RAW_HEADERS``.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

#: Scope key of the request's header fields as they came: ``[(name, value)]``, names unchanged.
RAW_HEADERS = "dfns.raw_headers"

#: ``(request, documented name) -> value or None``.
HeaderReader = Callable[[Request, str], "str | None"]


class RawHeadersMissing(RuntimeError):
    """The fault is on but the server was not run with the connection layer that records the names."""


def any_spelling(request: Request, name: str) -> str | None:
    """The first value of the header, whatever the case of its name (the documented behaviour)."""
    return request.headers.get(name)


def documented_spelling(request: Request, name: str) -> str | None:
    """The first value of the header sent under exactly ``name``'s spelling; None otherwise."""
    raw = request.scope.get(RAW_HEADERS)
    if raw is None:
        raise RawHeadersMissing(
            "header-names-case-sensitive needs the names as sent: serve the app with "
            "connections.guarded_protocol(..., raw_header_names=True), as runner.py does"
        )
    wanted = name.encode("latin-1")
    return next((value.decode("latin-1") for sent, value in raw if sent == wanted), None)


def header_reader(case_sensitive: bool) -> HeaderReader:
    """The reader the pipeline uses: ``documented_spelling`` under the fault, else ``any_spelling``."""
    return documented_spelling if case_sensitive else any_spelling
