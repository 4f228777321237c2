"""Expiry of registration codes, tokens, nonces and user actions, by moving the injected clock.

Each test gets its own server (time only moves forward). Requests sent after
a jump carry a nonce dated by the server's clock, as a client in that future
would send.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from dfns_contract.wire.nonce import iso_now, make_nonce
from dfns_contract.server.clock import ManualClock
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.server_checks import CODE_EXPIRED, NONCE_INVALID, NOT_AUTHORIZED, UA_INVALID, expect


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[RunningServer]:
    with start_server(clock=clock, registration_code_ttl=timedelta(hours=1)) as running:
        yield running


def dated(clock: ManualClock) -> dict[str, str]:
    return {"X-DFNS-NONCE": make_nonce(date=iso_now(clock()))}


def test_registration_code_expires(admin, anonymous, server, clock, profile):
    assert (
        admin.request(
            "POST",
            "/auth/users",
            {"email": "late@example.co", "kind": "CustomerEmployee"},
            sign=True,
        ).status
        == 200
    )
    mail = admin.session.get(server.url + "/sandbox/mailbox/late@example.co").json()
    expires = datetime.fromisoformat(mail["expiresAt"])
    assert timedelta(minutes=59) < expires - clock() <= timedelta(hours=1)
    body = {
        "username": "late@example.co",
        "registrationCode": mail["registrationCode"],
        "orgId": profile["orgId"],
    }
    clock.advance(timedelta(minutes=59))
    assert (
        anonymous.request("POST", "/auth/registration/init", body, headers=dated(clock)).status
        == 200
    )
    clock.advance(timedelta(minutes=2))
    expect(
        anonymous.request("POST", "/auth/registration/init", body, headers=dated(clock)),
        CODE_EXPIRED,
    )


def test_seeded_pending_code_lasts_the_configured_ttl(anonymous, clock, profile):
    body = {
        "username": profile["pendingUsername"],
        "registrationCode": profile["pendingRegistrationCode"],
        "orgId": profile["orgId"],
    }
    clock.advance(timedelta(hours=1, seconds=1))
    expect(
        anonymous.request("POST", "/auth/registration/init", body, headers=dated(clock)),
        CODE_EXPIRED,
    )


def test_auth_token_expires(admin, clock):
    clock.advance(timedelta(hours=23))
    assert admin.request("GET", "/auth/apps", headers=dated(clock)).status == 200
    clock.advance(timedelta(hours=1, seconds=1))
    expect(admin.request("GET", "/auth/apps", headers=dated(clock)), NOT_AUTHORIZED)


def test_nonce_freshness_follows_the_server_clock(admin, clock):
    clock.advance(timedelta(minutes=10))
    expect(admin.request("GET", "/auth/apps"), NONCE_INVALID)  # dated by the real clock: stale
    assert admin.request("GET", "/auth/apps", headers=dated(clock)).status == 200


def test_user_action_expires(admin, clock, profile):
    path = "/auth/apps/%s/activate" % profile["otherAppId"]
    token = admin.user_action("PUT", path, "{}")
    clock.advance(timedelta(minutes=5, seconds=1))
    expect(
        admin.request("PUT", path, headers=dated(clock) | {"X-DFNS-USERACTION": token}), UA_INVALID
    )


def test_login_challenge_expires(admin, anonymous, clock, profile):
    init = anonymous.request(
        "POST",
        "/auth/login/init",
        {"username": profile["registeredUsername"], "orgId": profile["orgId"]},
    ).json
    clock.advance(timedelta(minutes=5, seconds=1))
    assertion = admin._assertion(init["challenge"], "key.get")
    expect(
        anonymous.request(
            "POST",
            "/auth/login",
            {"challengeIdentifier": init["challengeIdentifier"], "firstFactor": assertion},
            headers=dated(clock),
        ),
        NOT_AUTHORIZED,
    )
