"""The target profile: which environment, which app, which principals and keys.

A profile is JSON described by ``schemas/profile.json``. The reference server
writes one; a user writes one for a live environment. ``DFNS_*`` environment
variables override single keys, so CI can keep the secrets out of files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dfns_contract.contract import schemas
from dfns_contract.client.secrets import SECRETS

#: Keys whose values are secrets: registered for masking as soon as they are read.
SECRET_KEYS = frozenset(
    {
        "authToken",
        "privateKey",
        "limitedAuthToken",
        "limitedPrivateKey",
        "pendingRegistrationCode",
        "expiredRegistrationCode",
        "expiredAuthToken",
        "otherOrgAuthToken",
        "serviceAccountAuthToken",
        "serviceAccountPrivateKey",
        "archivedUserAuthToken",
        "loginCode",
        "recoveryVerificationCode",
    }
)


def env_name(key: str) -> str:
    """``appId`` → ``DFNS_APP_ID``."""
    return "DFNS_" + re.sub(r"(?<!^)(?=[A-Z])", "_", key).upper()


#: Schema properties that are no key of a case: dfns-contract bootstrap's record (no DFNS_* variable sets it).
NOT_KEYS = frozenset({"bootstrap"})


def profile_keys() -> list[str]:
    return [k for k in schemas.validator("profile.json").schema["properties"]
            if not k.startswith("$") and k not in NOT_KEYS]


class ProfileError(ValueError):
    """A profile that cannot be used; lists every problem at once."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "invalid target profile %s:\n%s" % (source, "\n".join("  - " + p for p in problems))
        )


@dataclass(frozen=True)
class Profile:
    values: Mapping[str, str]
    source: str = "(empty)"
    overridden: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        """Key names, never values: a traceback or a Hypothesis example prints this."""
        return "Profile(source=%r, keys=[%s], overridden=%r)" % (
            self.source, ", ".join(sorted(self.values)), self.overridden)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def missing(self, keys: tuple[str, ...] | list[str]) -> list[str]:
        return [key for key in keys if not self.values.get(key)]


def load_profile(
    path: str | Path | None, environ: Mapping[str, str] | None = None, *, defaults: Mapping[str, str] | None = None
) -> Profile:
    """Read, override from the environment, validate; raise ``ProfileError`` listing every problem."""
    source = str(path) if path else "(no --dfns-profile)"
    values: dict[str, object] = dict(defaults or {})
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProfileError(source, ["file not found"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(source, ["cannot be read: %s" % exc.__class__.__name__]) from None
        except json.JSONDecodeError as exc:
            raise ProfileError(source, ["not JSON: line %d column %d: %s" % (exc.lineno, exc.colno, exc.msg)]) from None
        if not isinstance(loaded, dict):
            raise ProfileError(source, ["must be a JSON object"])
        values.update(loaded)
    overridden = []
    for key in profile_keys():
        value = (environ or {}).get(env_name(key))
        if value:
            values[key] = value
            overridden.append(key)
    problems = schemas.problems("profile.json", values)
    if problems:
        raise ProfileError(source, problems)
    values.pop("$comment", None)
    values.pop("bootstrap", None)  # dfns-contract bootstrap's record of what it made: teardown's, not the cases'
    for key in SECRET_KEYS:
        SECRETS.add(values.get(key), key)  # type: ignore[arg-type]
    return Profile(values=values, source=source, overridden=tuple(overridden))  # type: ignore[arg-type]
