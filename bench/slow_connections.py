#!/usr/bin/env python
"""Slow-connection attack (issue 16): 300 slow connections must not keep a normal request waiting.

    python bench/slow_connections.py [--json PATH]

``dfns-mock`` runs as a process of its own with a file limit of 256 (macOS's
default, and the limit the issue measured with). An attacker at 127.0.0.2 (a
second client on this machine: Linux routes all of 127.0.0.0/8 to loopback)
opens 300 connections and sends each the first line of a request and no
more, as slowloris does. Then a normal client at 127.0.0.1 sends a request
on a new connection; the check is that it is answered within 1 s. It is a
bounded loopback test of behaviour, not a speed claim: every wait has a
deadline, and nothing sleeps a fixed time.

Reported: whether each of 5 normal requests was answered within the
deadline, their latency, how many of the attacker's connections the server
held and how many it did not (closed as they opened: ``max_connections_per_client``),
and how long until it closed the held ones (``header_timeout``). The control
runs the same attack against a server whose per-client limit is out of reach
(``--max-connections-per-client 100000``): there the attack exhausts the file
limit and the normal request is not answered in time, which shows the check
can fail.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import sys
import time
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from mock import Mock
from project import ensure_project_python

ATTACK_CONNECTIONS = 300
SERVER_FILE_LIMIT = 256
ATTACKER = "127.0.0.2"
CLIENT = "127.0.0.1"
ANSWER_DEADLINE = 1.0
NORMAL_REQUESTS = 5
#: Beyond the server's header timeout (10 s by default), how long the release may take.
RELEASE_GRACE = 5.0
PARTIAL = b"GET /auth/apps HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def attack(url: str, stack: ExitStack) -> list[socket.socket]:
    """300 connections from the attacker's address, each with half a request line sent."""
    held = []
    for _ in range(ATTACK_CONNECTIONS):
        sock = stack.enter_context(socket.socket())
        sock.bind((ATTACKER, 0))
        sock.settimeout(2.0)
        try:
            sock.connect(address(url))
            sock.sendall(PARTIAL)
        except OSError:
            continue  # refused or reset at once: the server did not hold it
        held.append(sock)
    return held


def still_open(socks: list[socket.socket], wait: float) -> list[socket.socket]:
    """The sockets the server has not closed, waiting up to ``wait`` for closes to arrive."""
    open_ = set(socks)
    deadline = time.monotonic() + wait
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        while open_ and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(left):
                sock = key.fileobj
                try:
                    sock.setblocking(False)
                    closed = sock.recv(4096) == b""  # data (a 408) comes before the close
                except (BlockingIOError, InterruptedError):
                    closed = False
                except OSError:
                    closed = True
                if closed:
                    open_.discard(sock)
                    selector.unregister(sock)
    return [s for s in socks if s in open_]


def normal_request(url: str, profile: dict[str, Any]) -> float | None:
    """Seconds until a normal client's request was answered, or None past the deadline."""
    from dfns_contract.wire.nonce import make_nonce

    request = (
        "GET /auth/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nX-DFNS-NONCE: %s\r\nX-DFNS-APPID: %s\r\n"
        "Authorization: Bearer %s\r\nConnection: close\r\n\r\n"
        % (make_nonce(), profile["appId"], profile["authToken"])
    ).encode()
    started = time.monotonic()
    deadline = started + ANSWER_DEADLINE
    try:
        with socket.create_connection(address(url), timeout=ANSWER_DEADLINE,
                                      source_address=(CLIENT, 0)) as sock:
            sock.sendall(request)
            answer = b""
            while b"\r\n" not in answer:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(left)
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                answer += chunk
    except OSError:
        return None
    return time.monotonic() - started if answer.startswith(b"HTTP/1.1 200") else None


def run_attack(mock: Mock, wait_for_release: bool) -> dict[str, Any]:
    with ExitStack() as stack:
        connected = attack(mock.url, stack)
        held = still_open(connected, 0.5)
        latencies = [normal_request(mock.url, mock.profile) for _ in range(NORMAL_REQUESTS)]
        result: dict[str, Any] = {
            "attack_connections": ATTACK_CONNECTIONS,
            "held": len(held),
            "not_held": ATTACK_CONNECTIONS - len(held),
            "normal_answered": sum(latency is not None for latency in latencies),
            "normal_requests": NORMAL_REQUESTS,
            "normal_latency_ms": [None if t is None else round(t * 1000, 1) for t in latencies],
        }
        if wait_for_release:
            started = time.monotonic()
            left = still_open(held, 10.0 + RELEASE_GRACE)
            result["released_after_s"] = round(time.monotonic() - started, 1) if not left else None
            result["still_held"] = len(left)
    return result


def bench_slow_connections() -> dict[str, Any]:
    """The attack on a server with the defaults, then the control without a per-client limit."""
    if not _attacker_address_available():
        return {"skipped": "%s is not routed to loopback on this system" % ATTACKER}
    with Mock(file_limit=SERVER_FILE_LIMIT) as mock:
        guarded = run_attack(mock, wait_for_release=True)
        guarded["server_log_lines"] = len(mock.stderr_text().splitlines())
    with Mock("--max-connections-per-client", "100000", file_limit=SERVER_FILE_LIMIT) as mock:
        control = run_attack(mock, wait_for_release=False)
    guarded["pass"] = guarded["normal_answered"] == NORMAL_REQUESTS
    return {"guarded": guarded, "control_no_client_limit": control,
            "server_file_limit": SERVER_FILE_LIMIT, "answer_deadline_s": ANSWER_DEADLINE}


def _attacker_address_available() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind((ATTACKER, 0))
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the result here")
    args = parser.parse_args(argv)
    result = bench_slow_connections()
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")
    guarded = result.get("guarded")
    if guarded is None:
        return 0
    print(
        "slow-connection attack: %d/%d normal requests answered within %.0f s (%s); "
        "attacker held %d, closed at once %d, the held ones closed after %s s; "
        "control without a per-client limit: %d/%d answered"
        % (guarded["normal_answered"], NORMAL_REQUESTS, ANSWER_DEADLINE,
           "PASS" if guarded["pass"] else "MISS", guarded["held"], guarded["not_held"],
           guarded.get("released_after_s"), result["control_no_client_limit"]["normal_answered"],
           NORMAL_REQUESTS),
        file=sys.stderr,
    )
    return 0 if guarded["pass"] else 1


if __name__ == "__main__":
    ensure_project_python()
    sys.exit(main())
