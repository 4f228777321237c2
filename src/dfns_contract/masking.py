"""Secrets are masked by value, wherever they turn up.

Masking by header name misses a token echoed in a body, a JWT split into its
parts, or a PEM escaped inside JSON. So every secret the run knows or receives
is registered here with its derived forms, and every text the suite shows a
person (failure messages, curl commands, reports) goes through ``mask``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from urllib.parse import quote, quote_plus

#: Shorter values are too likely to occur by chance to be masked safely.
MIN_SECRET_LENGTH = 8
#: PEM body lines and JWT parts shorter than this are structure, not secret.
MIN_PART_LENGTH = 16


def derived_forms(value: str) -> set[str]:
    """The spellings under which a secret can leak."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    raw = value.encode("utf-8", "surrogateescape")
    forms.add(base64.b64encode(raw).decode())
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    if value.count(".") == 2:  # a JWT: its payload and signature identify it on their own
        forms.update(part for part in value.split(".")[1:] if len(part) >= MIN_PART_LENGTH)
    if "PRIVATE KEY-----" in value:
        forms.update(
            line.strip()
            for line in value.splitlines()
            if len(line.strip()) >= MIN_PART_LENGTH and "-----" not in line
        )
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class SecretRegistry:
    """Every secret of the run; safe to share between threads."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str | None, label: str = "secret") -> None:
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            for form in derived_forms(value):
                self._labels.setdefault(form, label)
            self._pattern = None

    def mask(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(lambda m: "<masked:%s>" % self._labels[m.group(0)], text)

    def values(self) -> list[str]:
        return list(self._labels)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._labels:
                forms = sorted(self._labels, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, forms)))
            return self._pattern


#: The run's registry: the client registers what it learns, reporters mask with it.
SECRETS = SecretRegistry()


def mask(text: str) -> str:
    return SECRETS.mask(text)
