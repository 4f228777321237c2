"""The clients the benchmark drives against a ``Mock``.

* ``suite_client``: ``DfnsClient`` as the suite's ``dfns_client`` fixture builds
  it (a requests session, the audit observer): what the suite itself costs;
* ``raw_client``: the same ``DfnsClient`` code over one keep-alive
  ``http.client`` connection, so that a load generator runs the suite's own
  flow (init, sign, complete, mutate) without the weight of ``requests``;
* ``get_apps``: a bare ``GET /auth/apps`` on such a connection, the baseline.
"""

from __future__ import annotations

import functools
import http.client
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import requests

    from dfns_contract.client import DfnsClient, Exchange

    from mock import Mock

TIMEOUT = 10.0


def connect(url: str) -> http.client.HTTPConnection:
    """One keep-alive connection to the server at ``url`` (it connects on first use)."""
    parts = urlsplit(url)
    return http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port or 80, timeout=TIMEOUT
    )


def auth_headers(profile: dict[str, Any], nonce: str | None) -> dict[str, str]:
    """The headers of an authenticated request; ``nonce`` None leaves the nonce out (a 400)."""
    headers = {"X-DFNS-NONCE": nonce} if nonce is not None else {}
    headers["X-DFNS-APPID"] = profile["appId"]
    headers["Authorization"] = "Bearer " + profile["authToken"]
    return headers


def get_apps(
    conn: http.client.HTTPConnection, headers: dict[str, str], status: int, who: str
) -> None:
    """``GET /auth/apps`` on ``conn``; a different answer than ``status`` stops the measurement."""
    conn.request("GET", "/auth/apps", headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != status:
        raise RuntimeError("%s answered HTTP %d" % (who, response.status))


def expect_status(exchange: Exchange, status: int, who: str) -> None:
    """A client's answer was ``status``, or the measurement would count failures."""
    if exchange.status != status:
        raise RuntimeError("%s answered HTTP %d: %s" % (who, exchange.status, exchange.text[:200]))


def suite_client(
    mock: Mock, session: requests.Session, cls: type[DfnsClient] | None = None
) -> DfnsClient:
    """``DfnsClient`` (or the subclass ``cls``) as the suite's ``dfns_client`` fixture builds it."""
    from dfns_contract.client import DfnsClient
    from dfns_contract.contract.expectations import audit

    return (cls or DfnsClient)(
        mock.url,
        mock.profile["appId"],
        auth_token=mock.profile["authToken"],
        session=session,
        observers=[audit],
    )


def raw_client(url: str, profile: dict[str, Any], **options: Any) -> DfnsClient:
    """``DfnsClient`` on a connection of its own (``client.conn``); ``options`` go to DfnsClient."""
    client = raw_client_class()(url, profile["appId"], auth_token=profile["authToken"], **options)
    client.conn = connect(url)
    return client


class _RawResponse:
    """Just enough of ``requests.Response`` for ``Exchange`` (status, headers, text, json)."""

    def __init__(self, status: int, headers: Any, content: bytes) -> None:
        self.status_code, self.headers, self.content = status, headers, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


@functools.cache
def raw_client_class() -> type[DfnsClient]:
    """DfnsClient whose transport is one keep-alive http.client connection.

    Built on first use, not at import, because ``dfns_contract`` may not be
    importable yet (see project.py). Only ``send`` is replaced: the flow is
    the suite's own code, only the HTTP library is swapped.
    """
    from dfns_contract.client import DfnsClient, Exchange

    class RawDfnsClient(DfnsClient):
        conn: http.client.HTTPConnection

        def send(
            self, method: str, path: str, headers: dict[str, str], body: bytes | None, **retry: Any
        ) -> Exchange:
            # ``retry``: the client's retry arguments (rebuild, chosen); one loopback connection needs none.
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            content = response.read()
            # Exchange reads only what _RawResponse has of a requests.Response.
            raw: Any = _RawResponse(response.status, response.headers, content)
            return Exchange(method, self.base_url + path, headers, body, raw)

    return RawDfnsClient
