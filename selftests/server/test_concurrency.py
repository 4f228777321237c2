"""Concurrency: one-time values are spent once under a race, and the server holds 64 clients.

Each racer has its own connection, opened before the start line, so the
requests leave together when the barrier drops. The ``*-racy`` faults prove
that these race tests can fail.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from dfns_contract.client import DfnsClient
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.server_checks import RACERS, nonce_race, user_action_race


def admins(server: RunningServer, principals) -> list[DfnsClient]:
    return [principals.admin(server) for _ in range(RACERS)]


def test_one_nonce_passes_once(server, principals):
    assert nonce_race(admins(server, principals)) == Counter({200: 1, 400: RACERS - 1})


def test_one_user_action_passes_once(server, principals):
    assert user_action_race(admins(server, principals)) == Counter({200: 1, 400: RACERS - 1})


@pytest.mark.parametrize(
    "fault, run", [("nonce-replay-racy", nonce_race), ("useraction-racy", user_action_race)]
)
def test_racy_store_lets_more_than_one_pass(fault, run, principals):
    with start_server(faults=[fault]) as racy:
        assert run(admins(racy, principals))[200] > 1


def test_64_clients_no_reset_no_5xx(server, principals):
    clients = 64
    total = 300

    def work(index: int) -> list[int]:
        client = principals.admin(server)
        statuses = []
        for n in range(index, total, clients):
            missing = n % 3 == 0
            headers = {"X-DFNS-NONCE": None} if missing else None
            statuses.append(client.request("GET", "/auth/apps", headers=headers).status)
        return statuses

    with ThreadPoolExecutor(clients) as pool:
        statuses = Counter(s for batch in pool.map(work, range(clients)) for s in batch)
    assert sum(statuses.values()) == total
    assert set(statuses) == {200, 400}
