"""Each error the extended edit documents, as each version's reference server answers the same request.

The extended edit's server answers as its page documents, a server of the
first edit the one 401 it documented (``Not Authorized.``), a 2025-02-07
server as the extended edit (only the common 401's words changed); every
control succeeds everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dfns_contract.client import Exchange
from dfns_contract.server.runner import RunningServer, start_server

from selftests.server.conftest import Principals
from selftests.server.flows import (
    CHALLENGE_INVALID,
    DEACTIVATED,
    EXTENDED,
    FIRST,
    INVALID_CODE,
    LATEST,
    NO_CREDENTIAL,
    NOT_AUTHORIZED,
    NOT_RECOVERY,
    UNKNOWN,
    action_init,
    answer,
    as_user,
    delegated_login,
    login_init,
)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, RunningServer]]:
    started = {version: start_server(contract=version) for version in (EXTENDED, FIRST, LATEST)}
    try:
        yield started
    finally:
        for running in started.values():
            running.request_stop()
        for running in started.values():
            running.wait_stopped()


def _requests(server: RunningServer) -> dict[str, tuple[Exchange, Exchange]]:
    """Per new entry: (its fault request's answer, its control's answer)."""
    p = server.profile
    admin = Principals.admin(server)
    registered = p["registeredUsername"]

    def recovery(credential_id: str) -> Exchange:
        return Principals.client(server).request("POST", "/auth/recover/user/init", {
            "username": p["recoveryUsername"], "verificationCode": p["recoveryVerificationCode"],
            "orgId": p["orgId"], "credentialId": credential_id}, auth=False)

    init = action_init(admin)
    return {
        "delegated-deactivated": (delegated_login(server, p["deactivatedUsername"]), delegated_login(server, registered)),
        "delegated-unknown": (delegated_login(server, "nobody@example.invalid"), delegated_login(server, registered)),
        "login-deactivated": (login_init(server, p["deactivatedUsername"]), login_init(server, registered)),
        "login-unknown": (login_init(server, "nobody@example.invalid"), login_init(server, registered)),
        "login-no-credential": (login_init(server, p["credentiallessUsername"]), login_init(server, registered)),
        "login-invalid-code": (login_init(server, registered, loginCode="AAAA-BBBB-CCCC-DDDD"),
                               login_init(server, registered)),
        "action-unknown": (action_init(Principals.client(server, p["archivedUserAuthToken"])), action_init(admin)),
        "action-no-credential": (action_init(as_user(server, p["credentiallessUsername"])),
                                 action_init(as_user(server, registered))),
        "action-challenge": (admin.request("POST", "/auth/action", {
            "challengeIdentifier": "not-a-challenge", "firstFactor": {"kind": "Key", "credentialAssertion": {
                "credId": p["credId"], "clientData": "e30", "signature": "AA"}}}), init),
        "recovery": (recovery(p["recoveryUserCredId"]), recovery(p["recoveryCredId"])),
    }


EXPECTED = {
    "delegated-deactivated": DEACTIVATED,
    "delegated-unknown": UNKNOWN,
    "login-deactivated": DEACTIVATED,
    "login-unknown": UNKNOWN,
    "login-no-credential": NO_CREDENTIAL,
    "login-invalid-code": INVALID_CODE,
    "action-unknown": UNKNOWN,
    "action-no-credential": NO_CREDENTIAL,
    "action-challenge": CHALLENGE_INVALID,
    "recovery": NOT_RECOVERY,
}


@pytest.fixture(scope="module")
def answers(servers) -> dict[str, dict[str, tuple[Exchange, Exchange]]]:
    return {version: _requests(running) for version, running in servers.items()}


@pytest.mark.parametrize("request_name", list(EXPECTED))
def test_the_extended_server_answers_as_its_page_documents(answers, request_name):
    fault, control = answers[EXTENDED][request_name]
    assert control.status == 200, control.text
    assert answer(fault) == EXPECTED[request_name]
    assert fault.json == {"error": {"message": EXPECTED[request_name][1]}}


@pytest.mark.parametrize("request_name", list(EXPECTED))
def test_a_first_edit_server_answers_the_common_401_instead(answers, request_name):
    """The first page did not document these errors: the same request, the one 401 it documented."""
    fault, control = answers[FIRST][request_name]
    assert control.status == 200, control.text
    assert answer(fault) == NOT_AUTHORIZED


@pytest.mark.parametrize("request_name", list(EXPECTED))
def test_a_2025_server_answers_the_flows_as_the_extended_edit(answers, request_name):
    fault, control = answers[LATEST][request_name]
    assert control.status == 200, control.text
    assert answer(fault) == EXPECTED[request_name]


def test_only_the_401_message_differs_in_2025(servers):
    for version, message in ((FIRST, "Not Authorized."), (EXTENDED, "Not Authorized."),
                             (LATEST, "user token is missing or invalid")):
        got = Principals.client(servers[version]).request("GET", "/auth/apps")
        assert answer(got) == (401, message), version
