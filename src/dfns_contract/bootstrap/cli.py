"""``dfns-contract``: the suite's console script, one subcommand per job (``bootstrap``, ``teardown``).

Exit statuses follow the suite's: 0 done, 1 something could not be done or undone (each said in a line),
2 a usage error (argparse), 4 bad input or an unusable target (one line, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import secrets as random_source
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dfns_contract.bootstrap.admin import UsageProblem, read_admin
from dfns_contract.bootstrap.creations import SECTION, Ledger, undo_of
from dfns_contract.bootstrap.plan import Plan, plan_for
from dfns_contract.bootstrap.steps import NOT_FOUND, STEP_KEYS, STEPS, Context, StepFailed
from dfns_contract.client import DfnsClient, KeySigner
from dfns_contract.client.exchange import EnvironmentFailure, FlowError
from dfns_contract.client.secrets import mask, remember_received
from dfns_contract.contract.catalog import CatalogError
from dfns_contract.contract.cleanup import NOT_RESTORED, Cleanup, run_summary
from dfns_contract.contract.schemas import DEFAULT_CONTRACT
from dfns_contract.contract.target import (
    DEFAULT_SENSITIVE_URL,
    TargetError,
    check_base_url,
    check_reachable,
    check_sensitive_url,
    is_sensitive,
    redact,
)

DONE, FAILED, USAGE, BAD_INPUT = 0, 1, 2, 4
TIMEOUT = 10.0


def say(text: str = "") -> None:
    """Every line leaves masked: a secret bootstrap read or received never reaches the terminal."""
    print(mask(text), flush=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dfns-contract", description="Tools around the dfns-contract suite.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    boot = commands.add_parser(
        "bootstrap", help="create on a target org what a contract version's cases need, and write the profile",
        description="Create, through documented endpoints, what the version's cases need; write the full "
                    "profile, with every creation recorded (undo it with: dfns-contract teardown PROFILE).")
    boot.add_argument("--base-url", required=True, help="the API, e.g. https://api.dfns.ninja")
    boot.add_argument("--dfns-profile", required=True, metavar="ADMIN_JSON",
                      help="JSON with authToken, credId, privateKey (and appId, orgId for the pages' versions)")
    boot.add_argument("--out", required=True, metavar="PROFILE_JSON", help="where to write the profile")
    boot.add_argument("--dfns-contract", default=DEFAULT_CONTRACT, metavar="VERSION",
                      help="the published version whose cases to prepare for (default %s)" % DEFAULT_CONTRACT)
    _safety(boot)
    down = commands.add_parser("teardown", help="undo what bootstrap created (idempotent)",
                               description="Archive or delete every resource the profile's bootstrap section "
                                           "records; says what it could not undo.")
    down.add_argument("profile", metavar="PROFILE_JSON", help="a profile written by dfns-contract bootstrap")
    down.add_argument("--base-url", help="the API (default: the profile's baseUrl)")
    _safety(down)
    return top


def _safety(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dfns-allow-destructive", action="store_true",
                         help="allow changing a target matching --dfns-sensitive-url")
    command.add_argument("--dfns-sensitive-url", default=DEFAULT_SENSITIVE_URL, metavar="REGEX",
                         help="targets where nothing is created or archived without --dfns-allow-destructive "
                              "(default: the production API hosts)")
    command.add_argument("--dfns-timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                         help="bound on each request (default %g)" % TIMEOUT)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.dfns_timeout <= 0:
            raise UsageProblem("--dfns-timeout must be more than 0")
        return bootstrap(args) if args.command == "bootstrap" else teardown(args)
    except (UsageProblem, TargetError, CatalogError) as exc:
        say("dfns-contract %s: error: %s" % (args.command, str(exc).strip().splitlines()[0]))
        return BAD_INPUT
    except KeyboardInterrupt:
        say("dfns-contract %s: interrupted" % args.command)
        return FAILED


def _target(url: str, args: argparse.Namespace, doing: str) -> str:
    """A usable base URL, refused on a sensitive host without --dfns-allow-destructive (before any request)."""
    base_url = check_base_url(url)
    pattern = check_sensitive_url(args.dfns_sensitive_url)
    if is_sensitive(base_url, pattern) and not args.dfns_allow_destructive:
        raise UsageProblem("%s matches --dfns-sensitive-url: %s nothing there without --dfns-allow-destructive"
                           % (redact(base_url), doing))
    check_reachable(base_url, args.dfns_timeout)
    return base_url


def _client(base_url: str, values: dict[str, Any], plan: Plan | None, timeout: float) -> DfnsClient:
    sends_app_id = plan.sends_app_id if plan else bool(values.get("appId"))
    return DfnsClient(base_url, values.get("appId") if sends_app_id else None,
                      sends_nonce=plan.sends_nonce if plan else True, auth_token=values["authToken"],
                      signer=KeySigner(values["credId"], values["privateKey"]), app_origin=values.get("appOrigin"),
                      timeout=timeout, observers=[remember_received])


def bootstrap(args: argparse.Namespace) -> int:
    plan = plan_for(args.dfns_contract)
    admin = read_admin(args.dfns_profile, plan)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageProblem("--out %s: no such directory %s" % (out, out.parent))
    base_url = _target(args.base_url, args, "bootstrap creates")
    run_id = "dfns-contract-%s" % random_source.token_hex(4)
    section = {"runId": run_id, "contract": plan.version, "created": [], "absent": []}
    ledger = Ledger(out, {"baseUrl": base_url, **admin}, section)
    ledger.save()
    ctx = Context(plan, _client(base_url, admin, plan, args.dfns_timeout), ledger, run_id)
    say("dfns-contract bootstrap: contract %s on %s, run %s" % (plan.version, redact(base_url), run_id))
    failed = None
    for provided, step in STEPS:
        if not plan.wants(*provided):
            continue
        try:
            step(ctx)
        except (StepFailed, FlowError, EnvironmentFailure) as exc:
            failed = "%s: %s" % (step.__name__.replace("_", " "), str(exc).strip().splitlines()[0])
            break
    for entry in section["created"]:
        say("  created %s" % undo_of(entry).description)
    section["absent"] = [{"keys": list(keys), "how": how} for keys, how in plan.absent]
    not_found = [k for k in plan.needed if k in NOT_FOUND and k not in ledger.profile and not failed]
    section["absent"] += [{"keys": [k], "how": NOT_FOUND[k]} for k in not_found]
    unplanned = [k for k in plan.needed if k not in ledger.profile and k not in STEP_KEYS
                 and not any(k in keys for keys, _ in plan.absent)]
    if unplanned:
        section["absent"].append({"keys": unplanned, "how": "not made by bootstrap: see docs/bootstrap.md"})
    ledger.save()
    if section["absent"]:
        say("not created (the profile leaves them absent; the cases needing them are skipped):")
        for entry in section["absent"]:
            say("  - %s: %s" % (", ".join(entry["keys"]), entry["how"]))
    if failed:
        say("dfns-contract bootstrap: stopped: %s" % failed)
        say("what it created is recorded in %s: undo it with dfns-contract teardown %s" % (out, out))
        return FAILED
    say("profile written to %s (%d resources created; undo with: dfns-contract teardown %s)" % (
        out, len(section["created"]), out))
    return DONE


def teardown(args: argparse.Namespace) -> int:
    path = Path(args.profile)
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageProblem("%s: file not found" % path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageProblem("%s: not a readable JSON profile (%s)" % (path, exc.__class__.__name__)) from None
    if not isinstance(profile, dict) or not isinstance(profile.get(SECTION), dict):
        raise UsageProblem("%s: no %r section: not a profile written by dfns-contract bootstrap" % (path, SECTION))
    missing = [key for key in ("authToken", "credId", "privateKey") if not profile.get(key)]
    if missing:
        raise UsageProblem("%s: missing admin key%s %s" % (path, "" if len(missing) == 1 else "s", ", ".join(missing)))
    try:
        undos = [undo_of(entry) for entry in profile[SECTION].get("created", [])]
    except ValueError as exc:
        raise UsageProblem("%s: %s" % (path, exc)) from None
    url = args.base_url or profile.get("baseUrl")
    if not url:
        raise UsageProblem("%s has no baseUrl: pass --base-url" % path)
    base_url = _target(url, args, "teardown archives")
    version = profile[SECTION].get("contract")
    plan = plan_for(version) if isinstance(version, str) else None
    cleanup = Cleanup(_client(base_url, profile, plan, args.dfns_timeout))
    for undo in undos:
        cleanup.register(undo)
    lines = cleanup.run()
    say("dfns-contract teardown: %s" % redact(base_url))
    for line in lines:
        say("  " + line)
    say(run_summary(lines))
    return FAILED if any(NOT_RESTORED in line for line in lines) else DONE


if __name__ == "__main__":
    sys.exit(main())
