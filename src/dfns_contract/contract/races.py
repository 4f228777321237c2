"""Send the same one-time value many times at once, to prove the server consumes it once.

Each sender has its own connection and waits at a barrier, so the requests
reach the server together rather than one after another. A race is a burst by
design: its senders take no ``--dfns-concurrency`` slot (they would be sent a
few at a time, and a racy server would pass), only the rate paces them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from dfns_contract.client import DfnsClient, Exchange, RateLimited

DEFAULT_SENDERS = 20


def send_at_once(
    client: DfnsClient, send: Callable[[DfnsClient], Exchange], senders: int = DEFAULT_SENDERS
) -> list[Exchange]:
    clients = [client.on_new_connection() for _ in range(senders)]
    for own in clients:
        own.bursting = True
    barrier = threading.Barrier(senders, timeout=client.timeout)

    def fire(own: DfnsClient) -> Exchange:
        barrier.wait()
        try:
            return send(own)
        except RateLimited as exc:
            exc.concurrent = True  # a burst is what a rate limiter is for: not verified, never failed
            raise

    try:
        with ThreadPoolExecutor(max_workers=senders) as pool:
            return list(pool.map(fire, clients))
    finally:
        for own in clients:
            own.session.close()
