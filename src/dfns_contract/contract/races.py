"""Send the same one-time value many times at once, to prove the server consumes it once.

Each sender has its own connection and waits at a barrier, so the requests
reach the server together rather than one after another. A race is a burst by
design: its senders take no ``--dfns-concurrency`` slot (they would be sent a
few at a time, and a racy server would pass), and the pacer counts their
requests together before they leave (spread over a quota's window, they would
arrive one after another, and a racy server would pass too).
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
    """Each sender's one request, sent by ``send`` on a connection of its own at the same moment."""
    clients = [client.on_new_connection() for _ in range(senders)]
    if client.pacer is not None:
        client.pacer.before_burst(senders)  # the quota's wait comes before the barrier, for all of them
    for own in clients:
        own.bursting, own.paced_ahead = True, 1
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
