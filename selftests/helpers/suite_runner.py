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


def run_suite(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
              allow_incomplete: bool = True) -> SuiteRun:
    """``pytest ARGS`` in the project root, without the caller's DFNS_* variables or plugins' randomness.

    Most selftests run a part of the suite (``-k``), which leaves the run INCOMPLETE; they
    pass ``--dfns-allow-incomplete`` so that exit 0 still means "nothing failed". The
    runs of ``runs/test_verdict.py`` that prove an INCOMPLETE run fails say ``allow_incomplete=False``.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DFNS_", "PYTEST_"))}
    clean.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
         *(["--dfns-allow-incomplete"] if allow_incomplete else []), *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return SuiteRun(done.returncode, done.stdout, done.stderr)
