"""Fixtures for the reference server's selftests: one server per module, clients of its principals."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.server.runner import RunningServer, start_server


def client_for(server: RunningServer, token: str | None = None, signer: KeySigner | None = None) -> DfnsClient:
    profile = server.profile
    return DfnsClient(server.url, profile["appId"], auth_token=token, signer=signer, app_origin=profile["appOrigin"])


def admin_of(server: RunningServer) -> DfnsClient:
    p = server.profile
    return client_for(server, p["authToken"], KeySigner(p["credId"], p["privateKey"]))


def limited_of(server: RunningServer) -> DfnsClient:
    p = server.profile
    return client_for(server, p["limitedAuthToken"], KeySigner(p["limitedCredId"], p["limitedPrivateKey"]))


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


@pytest.fixture
def profile(server: RunningServer) -> dict:
    return server.profile


@pytest.fixture
def admin(server: RunningServer) -> DfnsClient:
    return admin_of(server)


@pytest.fixture
def limited(server: RunningServer) -> DfnsClient:
    return limited_of(server)


@pytest.fixture
def anonymous(server: RunningServer) -> DfnsClient:
    """Nonce and app id only, no token."""
    return client_for(server)


@pytest.fixture
def make_client(server: RunningServer) -> Callable[..., DfnsClient]:
    """``make_client(token=None, signer=None)``: a client of the module's server."""
    return lambda token=None, signer=None: client_for(server, token, signer)
