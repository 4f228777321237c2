"""``admin.json``: what a user already has, checked before anything is sent.

An admin token, the Key credential that signs its user actions, and for the versions whose requests carry
``X-DFNS-APPID`` (the 2024 and 2025 pages) the app and org. Everything else in the file is ignored: the
output profile starts from these keys alone, so a stale key cannot pass for one bootstrap made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dfns_contract.bootstrap.plan import OPTIONAL_ADMIN_KEYS, Plan
from dfns_contract.client.secrets import SECRETS
from dfns_contract.contract.profile import SECRET_KEYS


class UsageProblem(ValueError):
    """Bad input: one line, exit status 4."""


def read_admin(path: str, plan: Plan) -> dict[str, Any]:
    """The admin keys of ``path`` that ``plan`` uses; UsageProblem naming the file and every missing key."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageProblem("--dfns-profile %s: file not found" % path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem("--dfns-profile %s: cannot be read (%s)" % (path, exc.__class__.__name__)) from None
    except json.JSONDecodeError as exc:
        raise UsageProblem("--dfns-profile %s: not JSON (line %d column %d: %s)" % (
            path, exc.lineno, exc.colno, exc.msg)) from None
    if not isinstance(loaded, dict):
        raise UsageProblem("--dfns-profile %s: must be a JSON object" % path)
    for key in SECRET_KEYS:
        value = loaded.get(key)
        if isinstance(value, str):
            SECRETS.add(value, key)  # masked before anything could print it
    missing = [key for key in plan.admin if not isinstance(loaded.get(key), str) or not loaded.get(key)]
    if missing:
        raise UsageProblem("--dfns-profile %s: missing admin key%s %s (contract %s needs %s)" % (
            path, "" if len(missing) == 1 else "s", ", ".join(missing), plan.version, ", ".join(plan.admin)))
    return {key: loaded[key] for key in (*plan.admin, *OPTIONAL_ADMIN_KEYS) if loaded.get(key)}
