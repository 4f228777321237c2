"""Run the official Dfns clients' checks against fresh ``dfns-mock`` servers (``tox -e sdk``).

Starts ``dfns-mock --contract 2026`` and ``dfns-mock --contract 2024-08-19`` on free ports, waits for
each one's profile (polled, with a deadline), compares the server's networks with the SDK's
(``networks_drift.py``), runs the Node checks of ``@dfns/sdk`` (newest against 2026,
0.5.x against 2024) and the Python checks of ``dfns-sdk`` against 2026, stops the servers, and exits 1
if any check failed. A driver in Python rather than shell in tox.ini, so the servers are stopped
whatever happens and a missing prerequisite is one clear line.

    python sdk/run.py [--only networks|node-2026|node-2024|python]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
PYTHON_DIR = HERE / "python"
#: How long a server may take to write its profile (an import and a seed: about a second here).
START_DEADLINE_SECONDS = 60.0
#: How long one client's checks may take before they are stopped as hung.
CHECK_DEADLINE_SECONDS = 600.0


@dataclass(frozen=True)
class Check:
    """One client's checks: the command, the contract of the server it needs, and the variable naming its profile."""

    name: str
    #: The server's contract, or None: the check needs no server.
    contract: str | None
    command: list[str]
    cwd: Path
    profile_variable: str


CHECKS = [
    Check("networks", None, [sys.executable, "networks_drift.py"], HERE, ""),
    Check("node-2026", "2026", ["node", "--test", "everyday-2026.test.js"], NODE_DIR, "DFNS_PROFILE"),
    Check("node-2024", "2024-08-19", ["node", "--test", "legacy-2024.test.js"], NODE_DIR, "DFNS_PROFILE_2024"),
    Check("python", "2026", [sys.executable, "test_dfns_sdk.py", "-v"], PYTHON_DIR, "DFNS_PROFILE"),
]


class SetupError(Exception):
    """A prerequisite is missing or a server did not start: reported as one line, not a traceback."""


def _read_profile(path: Path) -> dict[str, Any] | None:
    """The profile once it is whole (the server writes it in place, so a half-written file is not yet one)."""
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return profile if isinstance(profile, dict) and "baseUrl" in profile else None


@contextmanager
def running_mock(contract: str, workdir: Path) -> Iterator[Path]:
    """A ``dfns-mock`` of ``contract`` on a free port, stopped on exit; yields its profile's path."""
    profile = workdir / ("profile-%s.json" % contract)
    log_path = workdir / ("mock-%s.log" % contract)
    command = [sys.executable, "-m", "dfns_contract.server.cli", "--port", "0", "--contract", contract,
               "--profile-out", str(profile)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while _read_profile(profile) is None:
            if process.poll() is not None:
                raise SetupError("dfns-mock --contract %s exited (%s): %s" % (
                    contract, process.returncode, log_path.read_text(errors="replace").strip()[-400:]))
            if time.monotonic() > deadline:
                raise SetupError("dfns-mock --contract %s wrote no profile within %.0f s"
                                 % (contract, START_DEADLINE_SECONDS))
            time.sleep(0.05)  # a poll interval, not a wait for something: the loop above has the deadline
        yield profile
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check_prerequisites(checks: list[Check]) -> None:
    if any(c.command[0] == "node" or c.name == "networks" for c in checks):
        if shutil.which("node") is None:
            raise SetupError("node is not on PATH: install Node (20 or newer) to run the @dfns/sdk checks")
        if not (NODE_DIR / "node_modules" / "@dfns" / "sdk").is_dir():
            raise SetupError("%s has no node_modules: run `npm ci` there first (tox -e sdk does)" % NODE_DIR)
    if any(c.name == "python" for c in checks):
        try:
            import dfns_sdk  # noqa: F401  (only whether it is installed)
        except ImportError:
            raise SetupError("dfns-sdk is not installed: pip install -e '.[sdk]'") from None


def run(checks: list[Check]) -> int:
    """Run ``checks`` against one server per contract they need; 0 when every check passed."""
    _check_prerequisites(checks)
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dfns-sdk-") as tmp, ExitStack() as servers:
        profiles = {contract: servers.enter_context(running_mock(contract, Path(tmp)))
                    for contract in dict.fromkeys(c.contract for c in checks if c.contract)}
        for check in checks:
            against = " (dfns-mock --contract %s)" % check.contract if check.contract else ""
            print("== %s: %s%s" % (check.name, " ".join(check.command), against), flush=True)
            env = dict(os.environ)
            if check.contract:
                env[check.profile_variable] = str(profiles[check.contract])
            try:
                code = subprocess.run(check.command, cwd=check.cwd, env=env, timeout=CHECK_DEADLINE_SECONDS).returncode
            except subprocess.TimeoutExpired:
                code = -1
            if code != 0:
                failed.append("%s (exit %s)" % (check.name, code))
    print("== sdk checks: %s" % ("all passed" if not failed else "FAILED: " + ", ".join(failed)), flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The official Dfns clients' checks against dfns-mock.")
    parser.add_argument("--only", action="append", choices=[c.name for c in CHECKS],
                        help="run only this check (repeatable; default all)")
    args = parser.parse_args(argv)
    checks = [c for c in CHECKS if not args.only or c.name in args.only]
    try:
        return run(checks)
    except SetupError as exc:
        print("sdk/run.py: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
