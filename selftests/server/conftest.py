"""Fixtures for the reference server's selftests.

One server per module, and clients of its seeded principals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.server.runner import RunningServer, start_server


class Principals:
    """Clients of a server's seeded principals, each on a connection pool of its own."""

    @staticmethod
    def client(
        server: RunningServer, token: str | None = None, signer: KeySigner | None = None
    ) -> DfnsClient:
        p = server.profile
        return DfnsClient(
            server.url, p["appId"], auth_token=token, signer=signer, app_origin=p["appOrigin"]
        )

    @classmethod
    def admin(cls, server: RunningServer) -> DfnsClient:
        p = server.profile
        return cls.client(server, p["authToken"], KeySigner(p["credId"], p["privateKey"]))

    @classmethod
    def limited(cls, server: RunningServer) -> DfnsClient:
        p = server.profile
        return cls.client(
            server, p["limitedAuthToken"], KeySigner(p["limitedCredId"], p["limitedPrivateKey"])
        )


@pytest.fixture(scope="session")
def principals() -> type[Principals]:
    return Principals


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


@pytest.fixture
def profile(server: RunningServer) -> dict:
    return server.profile


@pytest.fixture
def admin(server: RunningServer) -> DfnsClient:
    return Principals.admin(server)


@pytest.fixture
def limited(server: RunningServer) -> DfnsClient:
    return Principals.limited(server)


@pytest.fixture
def anonymous(server: RunningServer) -> DfnsClient:
    """Nonce and app id only, no token."""
    return Principals.client(server)


@pytest.fixture
def make_client(server: RunningServer) -> Callable[..., DfnsClient]:
    """``make_client(token=None, signer=None)``: a client of the module's server."""
    return lambda token=None, signer=None: Principals.client(server, token, signer)
