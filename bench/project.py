"""Where the benchmark runs from, and the Python it must run under.

The other bench/ modules import ``dfns_contract`` (and ``requests``) inside
their functions, not at the top: a script started with a Python that lacks
the project must get as far as ``ensure_project_python`` to re-run itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def ensure_project_python() -> None:
    """Re-run the script under the project's venv when this Python lacks the project.

    Re-runs ``sys.argv[0]``, the script that was started (run.py or hotpaths.py),
    so that every bench/ entry point can call it.
    """
    try:
        import dfns_contract  # noqa: F401
    except ImportError:
        venv = REPO / ".venv" / "bin" / "python"
        if venv.exists() and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
            script = str(Path(sys.argv[0]).resolve())
            os.execv(str(venv), [str(venv), script, *sys.argv[1:]])
        raise SystemExit(
            "bench: dfns_contract is not importable; install the project first"
        ) from None
