"""``start_server``: several servers per process, explicit ports, clear start errors."""

from __future__ import annotations

import socket

import pytest
import requests

from dfns_contract.server.faults import UnknownFault
from dfns_contract.server.runner import ServerStartError, start_server


def test_two_servers_in_one_process_are_independent(principals):
    with start_server() as one, start_server() as two:
        assert one.url != two.url
        assert one.profile["appId"] != two.profile["appId"]
        assert principals.admin(one).request("GET", "/auth/apps").status == 200
        # Each server signs with its own secret: one's token means nothing to the other.
        stranger = principals.admin(two).with_identity(one.profile["authToken"])
        assert stranger.request("GET", "/auth/apps").status == 401


def test_explicit_port_and_stop_releases_it():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_server(port=port)
    assert server.url == "http://127.0.0.1:%d" % port
    assert requests.get(server.url + "/", timeout=5).status_code == 404
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/", timeout=5)
    start_server(port=port).stop()  # the port is free again


def test_busy_port_raises_a_clear_error():
    with start_server() as running:
        port = int(running.url.rsplit(":", 1)[1])
        with pytest.raises(ServerStartError, match="cannot listen on 127.0.0.1 port %d" % port):
            start_server(port=port)


def test_unknown_fault_is_refused_before_anything_starts():
    with pytest.raises(UnknownFault, match="no-such-fault"):
        start_server(faults=["no-such-fault"])


def test_state_is_reachable_for_tests(server):
    state = server.state
    assert state.seeded.app_id == server.profile["appId"]
    assert state.faults.names == frozenset()


def test_unknown_contract_is_refused_before_anything_starts():
    from dfns_contract.server.contracts import UnknownContract

    with pytest.raises(UnknownContract,
                       match="'2024-09-01' .known: 2024-08-19, 2024-08-19-extended, 2025-02-07, 2026"):
        start_server(contract="2024-09-01")


def test_the_server_answers_as_the_contract_asked_and_the_first_edit_by_default(server):
    assert server.state.contract.name == "2024-08-19"
    with start_server(contract="2024-08-19-extended") as extended:
        assert extended.state.contract.name == "2024-08-19-extended"
    with start_server(contract="2026") as today:
        assert today.state.contract.name == "2026"


def test_every_published_catalog_has_a_server_version():
    """The server does not import the suite's package: the two lists of versions are kept together here."""
    from dfns_contract.contract.schemas import published_contracts
    from dfns_contract.server.contracts import CONTRACTS

    assert published_contracts() == list(CONTRACTS)
    assert {"2024-08-19", "2024-08-19-extended"} <= set(published_contracts())
