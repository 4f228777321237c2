"""``KeepUserActive``: the undo of a case that deactivates a user, against the reference server.

It is data the journal keeps (so the controller can undo what a stopped
worker could not), finds a user it should leave alone as it is, activates a
deactivated one, and says what to do by hand when it cannot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.contract.cleanup import NOT_RESTORED, Cleanup, KeepUserActive, undo_from_record
from dfns_contract.contract.journal import Journal, read_journal
from dfns_contract.server.runner import RunningServer, start_server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server(contract="2024-08-19-extended") as running:
        yield running


def admin(server: RunningServer) -> DfnsClient:
    p = server.profile
    return DfnsClient(server.url, p["appId"], auth_token=p["authToken"],
                      signer=KeySigner(p["credId"], p["privateKey"]), app_origin=p["appOrigin"])


def is_active(server: RunningServer) -> bool:
    return admin(server).request("GET", "/auth/users/" + server.profile["endUserId"]).json["isActive"]


def test_the_undo_is_data_the_controller_can_read_back():
    undo = KeepUserActive("us-1", "endUserId")
    assert undo_from_record(json.loads(json.dumps(undo.to_record()))) == undo
    assert undo.key != undo_from_record({"kind": "app-active", "appId": "us-1"}).key


def test_a_deactivated_user_is_activated_and_an_active_one_left_alone(server, tmp_path):
    user_id = server.profile["endUserId"]
    client = admin(server)
    off = client.request("PUT", "/auth/users/%s/deactivate" % user_id, sign=True)
    assert off.status == 200 and not is_active(server)
    cleanup = Cleanup(client, Journal(tmp_path, "main"))
    cleanup.keep_user_active(user_id, label="endUserId")
    assert [c.key for c in read_journal(tmp_path).pending()] == ["user-active:" + user_id]  # before any change
    assert cleanup.run() == ["endUserId %s: re-activated" % user_id]
    assert is_active(server)
    again = Cleanup(client)
    again.keep_user_active(user_id, label="endUserId")
    assert again.run() == ["endUserId %s: already active" % user_id]


def test_a_user_that_cannot_be_read_is_one_line_saying_what_to_do_by_hand(server):
    cleanup = Cleanup(admin(server))
    cleanup.keep_user_active("us-00000-00000-0000000000000000", label="endUserId")
    (line,) = cleanup.run()
    assert line.startswith(NOT_RESTORED) and "may be left deactivated" in line
    assert "PUT %s/auth/users/us-00000-00000-0000000000000000/activate" % server.url in line
