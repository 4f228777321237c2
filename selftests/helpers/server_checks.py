"""What the reference server's selftests check with: its documented errors, and races on one-time values.

Each racer has its own connection, opened before the start line, so the
requests leave together when the barrier drops.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dfns_contract.client import DfnsClient, Exchange
from dfns_contract.wire.nonce import make_nonce

NONCE_INVALID = (400, "request nonce is missing or invalid")
NONCE_REUSED = (400, "request nonce has already been used")
NOT_AUTHORIZED = (401, "Not Authorized.")
UA_INVALID = (403, "user action signature is missing or invalid")
UA_REUSED = (400, "user action has already been used")
SELF_STATE = (400, "application cannot modify its own state")
APP_NOT_FOUND = (404, "application not found")
CODE_EXPIRED = (400, "Registration code expired")
USER_EXISTS = (401, "User already exists.")


#: ``probe(faults, probe_names)``: start a server with ``faults``, run the probes, ask it to stop;
#: (the server, the results by probe name).
Probing = Callable[[list[str], list[str]], tuple[Any, dict[str, Any]]]


def probe_switches(
    probe: Probing, probes: Iterable[str], shown_by: Mapping[str, str], switches: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Every probe on a clean server (under ""), and on a server per switch the probe that shows it.

    The servers run in parallel, since most of a server's life here is uvicorn's shutdown tick.
    """
    jobs = {"": ([], list(probes)), **{name: ([name], [shown_by[name]]) for name in switches}}
    with ThreadPoolExecutor(8) as pool:
        futures = {name: pool.submit(probe, *job) for name, job in jobs.items()}
        done = {name: future.result() for name, future in futures.items()}
    for server, _ in done.values():
        server.wait_stopped()
    return {name: results for name, (_, results) in done.items()}


def expect(exchange: Exchange, error: tuple[int, str]) -> None:
    assert (exchange.status, exchange.json) == (error[0], {"error": {"message": error[1]}}), (
        exchange.describe()
    )
    assert exchange.content_type == "application/json"



RACERS = 20


def race(clients: list[DfnsClient], send: Callable[[DfnsClient], int]) -> Counter[int]:
    """Run ``send`` on every client at the same instant; count the statuses."""
    barrier = threading.Barrier(len(clients))

    def one(client: DfnsClient) -> int:
        client.request("GET", "/auth/apps")  # open the connection before the start line
        barrier.wait(timeout=10)
        return send(client)

    with ThreadPoolExecutor(len(clients)) as pool:
        return Counter(pool.map(one, clients))


def nonce_race(clients: list[DfnsClient]) -> Counter[int]:
    nonce = make_nonce()
    return race(
        clients, lambda c: c.request("GET", "/auth/apps", headers={"X-DFNS-NONCE": nonce}).status
    )


def user_action_race(clients: list[DfnsClient]) -> Counter[int]:
    path = "/auth/apps/%s" % clients[0].app_id
    token = clients[0].user_action("PUT", path, '{"externalId":"race"}')
    return race(
        clients,
        lambda c: (
            c.request(
                "PUT", path, {"externalId": "race"}, headers={"X-DFNS-USERACTION": token}
            ).status
        ),
    )


