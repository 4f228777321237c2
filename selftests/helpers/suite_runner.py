"""Run the contract suite as a user would: a separate pytest process from the project root."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def suite_command(*args: str, allow_incomplete: bool = True) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
            *(["--dfns-allow-incomplete"] if allow_incomplete else []), *args]


#: Variables by which pytest and the suite tell a CI machine (pytest then never shortens its summary lines,
#: the suite picks the ``ci`` fuzzing budget): a selftest's run must read the same on a laptop and in CI.
CI_MARKERS = ("CI", "BUILD_NUMBER")


def suite_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its DFNS_*, PYTEST_* and CI variables, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DFNS_", "PYTEST_")) and k not in CI_MARKERS}
    clean.update(env or {})
    return clean


def start_suite(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``pytest ARGS`` started in a process group of its own (a test may signal the whole group, as a terminal does)."""
    return subprocess.Popen(suite_command(*args), cwd=ROOT, env=suite_environment(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def run_suite(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
              allow_incomplete: bool = True) -> SuiteRun:
    """``pytest ARGS`` in the project root, without the caller's DFNS_* variables or plugins' randomness.

    Most selftests run a part of the suite (``-k``), which leaves the run INCOMPLETE; they
    pass ``--dfns-allow-incomplete`` so that exit 0 still means "nothing failed". The
    runs of ``runs/test_verdict.py`` that prove an INCOMPLETE run fails say ``allow_incomplete=False``.
    """
    done = subprocess.run(
        suite_command(*args, allow_incomplete=allow_incomplete),
        cwd=ROOT,
        env=suite_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return SuiteRun(done.returncode, done.stdout, done.stderr)
