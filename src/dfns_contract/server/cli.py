"""``dfns-mock``: run the reference server from a shell.

    dfns-mock --port 0 --profile-out profile.json [--fault NAME ...]
    dfns-mock --list-faults

Prints ``dfns-mock listening on URL`` once it answers (after the profile,
mode 0600, is written), and stops cleanly with exit 0 on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from .faults import FAULTS, describe_faults
from .runner import ServerStartError, start_server


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        rows = describe_faults()
        width = max(len(name) for name, _, _ in rows)
        for name, kind, description in rows:
            print("%-*s  %-6s  %s" % (width, name, kind, description))
        return 0
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = start_server(faults=args.faults, host=args.host, port=args.port)
    except ServerStartError as exc:
        print("dfns-mock: %s" % exc, file=sys.stderr)
        return 1
    with server:
        if args.profile_out:
            try:
                _write_private(args.profile_out, server.profile)
            except OSError as exc:
                print(
                    "dfns-mock: cannot write the profile to %s: %s"
                    % (args.profile_out, exc.strerror),
                    file=sys.stderr,
                )
                return 1
        print("dfns-mock listening on %s" % server.url, flush=True)
        stop.wait()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dfns-mock",
        description="Reference server for the documented errors of the Dfns API (a local sandbox). "
        "Sandbox-only route, not part of the Dfns API: GET /sandbox/mailbox/{username} "
        "returns the registration code a new user would receive by email.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port; 0 picks a free one (default 8000)"
    )
    parser.add_argument(
        "--profile-out", metavar="PATH", help="write the target profile (JSON, mode 0600) here"
    )
    parser.add_argument(
        "--fault",
        dest="faults",
        action="append",
        default=[],
        metavar="NAME",
        type=_fault_name,
        help="switch a fault or benign variation on (repeatable; see --list-faults)",
    )
    parser.add_argument(
        "--list-faults", action="store_true", help="list the fault switches and exit"
    )
    return parser


def _fault_name(name: str) -> str:
    if name not in FAULTS:
        raise argparse.ArgumentTypeError("unknown fault %r (see --list-faults)" % name)
    return name


def _write_private(path: str, profile: dict[str, Any]) -> None:
    """The profile holds private keys and tokens: readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(profile, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    sys.exit(main())
