"""``dfns-mock``: run the reference server from a shell.

    dfns-mock --port 0 --profile-out profile.json [--fault NAME ...] [--contract VERSION]
    dfns-mock --policy Permissions:Assign --policy Wallets:Sign ...
    dfns-mock --access-log --max-connections-per-client 64 ...
    dfns-mock --rate-limit 100/60s ...
    dfns-mock --list-faults

Prints ``dfns-mock listening on URL`` once it answers (after the profile,
mode 0600, is written), and stops cleanly with exit 0 on Ctrl-C or SIGTERM.
Logs go to stderr: WARNING and above by default (a server fault, with its
traceback; a client reaching its connection limit), ``--log-level info`` adds
one line per refusal (a limit, a malformed request, a client that left),
``--access-log`` one line per request. The limits' options are the
``Settings`` fields of the same names (settings.py documents each);
``--policy ACTIVITY`` (repeatable) is ``Settings.policies``: the seeded org
holds that activity for approval (approvals.py). ``--rate-limit N/Ss`` is
``Settings.rate_limit`` and ``rate_window``: the org's quota (quota.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any

from .approvals import POLICY_ACTIVITIES
from .contracts import CONTRACTS, DEFAULT_CONTRACT, judged_by
from .faults import FAULTS, describe_faults
from .runner import ServerStartError, start_server
from .settings import Settings

#: The settings an operator may set from the command line, with their help.
LIMIT_OPTIONS = {
    "max_header_bytes": "request line and header fields, in bytes (431 above)",
    "max_body_bytes": "request body, in bytes (413 above)",
    "max_connections_per_client": "open connections per client address (more are answered 429 with Retry-After)",
    "header_timeout": "seconds for a request's header section (408, or a quiet close when idle)",
    "body_timeout": "seconds for a request's body once its headers are in (408)",
    "keep_alive_timeout": "seconds an idle keep-alive connection stays open",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        rows = describe_faults()
        width = max(len(name) for name, _, _ in rows)
        for name, kind, description in rows:
            judges = judged_by(name)
            versions = "" if len(judges) == len(CONTRACTS) else " (judged by %s)" % (", ".join(judges) or "no version")
            print("%-*s  %-6s  %s%s" % (width, name, kind, description, versions))
        return 0
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.access_log:
        logging.getLogger("dfns_contract.server.access").setLevel(logging.INFO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = start_server(
            faults=args.faults,
            host=args.host,
            port=args.port,
            settings=settings_from(args),
            contract=args.contract,
        )
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
        "Sandbox-only routes, not part of the Dfns API: GET /sandbox/mailbox/{username} "
        "returns the registration code a new user would receive by email, "
        "GET /sandbox/mailbox/{username}/login-code and .../recovery-code the last login or "
        "recovery verification code sent.",
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
    parser.add_argument(
        "--contract",
        default=DEFAULT_CONTRACT,
        metavar="VERSION",
        type=_contract_name,
        help="the published version of the errors page to answer as: %s (default %s)"
        % (", ".join(CONTRACTS), DEFAULT_CONTRACT),
    )
    parser.add_argument(
        "--policy",
        dest="policies",
        action="append",
        default=[],
        metavar="ACTIVITY",
        type=_policy_activity,
        help="start with a policy that holds this activity for approval (repeatable): %s"
        % "; ".join("%s (%s)" % item for item in POLICY_ACTIVITIES.items()),
    )
    parser.add_argument(
        "--rate-limit",
        metavar="N/Ss",
        type=_quota,
        default=None,
        help="the organisation's quota: at most N requests per S seconds (default window 60 s, as documented), "
        "with X-RateLimit-Limit/Remaining/Reset on every answer and 429 with Retry-After once spent "
        "(default: no quota)",
    )
    limits = parser.add_argument_group("limits (what one request and one client may cost)")
    defaults = Settings()
    for name, help_text in LIMIT_OPTIONS.items():
        default = getattr(defaults, name)
        limits.add_argument(
            "--" + name.replace("_", "-"),
            type=_positive(type(default)),
            default=default,
            metavar="N" if isinstance(default, int) else "SECONDS",
            help="%s (default %s)" % (help_text, default),
        )
    logs = parser.add_argument_group("logs (on stderr)")
    logs.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="info adds one line per refused request (default warning)",
    )
    logs.add_argument(
        "--access-log",
        action="store_true",
        help="one line per request: client, method, path, status, time (no query, header or body)",
    )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """The default settings with the command line's limits, access log and policies."""
    chosen = {f.name: getattr(args, f.name) for f in fields(Settings) if f.name in LIMIT_OPTIONS}
    policies = tuple(dict.fromkeys(args.policies))
    quota = getattr(args, "rate_limit", None)
    if quota is not None:
        chosen.update(rate_limit=quota[0], rate_window=quota[1])
    return replace(Settings(), access_log=args.access_log, policies=policies, **chosen)


def _quota(text: str) -> tuple[int, float]:
    """``N``, ``N/S`` or ``N/Ss``: N requests (a whole number above 0) per S seconds (default 60)."""
    count, _, window = text.strip().partition("/")
    try:
        limit = int(count)
        seconds = float(window.strip().removesuffix("s")) if window else 60.0
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not N/Ss (requests per window, e.g. 100/60s)" % text) from None
    if limit < 1 or not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError("%r: at least 1 request per window of more than 0 s" % text)
    return limit, seconds


def _positive(kind: type) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` above zero."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError("%r is not %s" % (text, what)) from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError("must be a finite number above zero, not %s" % text)
        return value

    parse.__name__ = kind.__name__
    return parse


def _contract_name(name: str) -> str:
    if name not in CONTRACTS:
        raise argparse.ArgumentTypeError(
            "unknown contract version %r (known: %s)" % (name, ", ".join(CONTRACTS))
        )
    return name


def _policy_activity(name: str) -> str:
    if name not in POLICY_ACTIVITIES:
        raise argparse.ArgumentTypeError(
            "unknown policy activity %r (known: %s)" % (name, ", ".join(POLICY_ACTIVITIES))
        )
    return name


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
