"""What is secret in a run, and how it is masked: by value, wherever it turns up.

Masking by header name misses a token echoed in a body, a JWT split into its
parts, or a PEM escaped inside JSON. So every secret the run knows or receives
is registered here with its derived forms: the profile's secret keys when it
is loaded, a Key credential when a signer is made, and, through
``remember_received`` (an observer of every response), the tokens, challenge
identifiers, user-action signatures and registration codes a Dfns API hands
out, the moment they arrive, whatever the status.

This module only knows; it does not decide what to mask. Every text leaves a
run through the plugin's output boundary (``plugin/output.py``: test reports,
the terminal summary, the report files, what a pytest-xdist worker sends its
controller), and that boundary masks it with ``mask``.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

#: Shorter values are too likely to occur by chance to be masked safely.
MIN_SECRET_LENGTH = 8
#: PEM body lines and JWT parts shorter than this are structure, not secret.
MIN_PART_LENGTH = 16
#: What a masked secret becomes (its label in place of ``%s``); in HTML, the same escaped.
PLACEHOLDER = "<masked:%s>"
HTML_PLACEHOLDER = "&lt;masked:%s&gt;"


def derived_forms(value: str) -> set[str]:
    """The spellings under which a secret can leak."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1], html.escape(value)}
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
    """Every secret of the run; safe to share between threads.

    Adding a secret costs nothing but the set update: no pattern is compiled
    then. ``mask`` first looks for the forms that occur in the text (a
    substring test each; most texts contain none and come back unchanged)
    and compiles a pattern of those alone, cached by that set of forms.
    Forms absent from a text cannot match in it, so the result is the one a
    pattern of every form would give: at each position the longest form that
    matches there. A single pattern of all forms would be compiled again after
    every secret the run receives, which cost more than the rest of a run.
    """

    #: Patterns kept for sets of forms found together (one set per kind of text, in practice).
    MAX_PATTERNS = 256

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._forms: tuple[str, ...] | None = ()
        self._patterns: dict[frozenset[str], re.Pattern[str]] = {}
        self._lock = threading.Lock()

    def add(self, value: str | None, label: str = "secret") -> None:
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            for form in derived_forms(value):
                if form not in self._labels:
                    self._labels[form] = label
                    self._forms = None

    def mask(self, text: str, placeholder: str = PLACEHOLDER) -> str:
        """``text`` with every form of every secret replaced by ``placeholder % label``."""
        if not text:
            return text
        present = [form for form in self._sorted_forms() if form in text]
        if not present:
            return text
        return self._pattern(present).sub(lambda m: placeholder % self._labels[m.group(0)], text)

    def values(self) -> list[str]:
        with self._lock:
            return list(self._labels)

    def _sorted_forms(self) -> tuple[str, ...]:
        """Every form, longest first (a snapshot: ``add`` may run in another thread)."""
        forms = self._forms
        if forms is None:
            with self._lock:
                if self._forms is None:
                    self._forms = tuple(sorted(self._labels, key=len, reverse=True))
                forms = self._forms
        return forms

    def _pattern(self, forms: list[str]) -> re.Pattern[str]:
        key = frozenset(forms)
        pattern = self._patterns.get(key)
        if pattern is None:
            # Longest first: at a position where several forms match, the longest is masked whole.
            pattern = re.compile("|".join(map(re.escape, forms)))
            with self._lock:
                if len(self._patterns) >= self.MAX_PATTERNS:
                    self._patterns.clear()
                self._patterns[key] = pattern
        return pattern


#: The run's registry: the client registers what it learns, reporters mask with it.
SECRETS = SecretRegistry()


def mask(text: str, placeholder: str = PLACEHOLDER) -> str:
    return SECRETS.mask(text, placeholder)


_MAX_DEPTH = 16

#: Response fields whose values are secrets, and the label they are masked with.
SECRET_FIELDS = {
    "token": "authToken",
    "temporaryAuthenticationToken": "temporaryAuthenticationToken",
    "challengeIdentifier": "challengeIdentifier",
    "userAction": "userAction",
    "registrationCode": "registrationCode",
    "accessToken": "authToken",
    "privateKey": "privateKey",
}


def remember_received(exchange: Any) -> None:
    """Observer: register the secret fields of a JSON response (any status), at any depth."""
    text = exchange.response.text
    if not any(name in text for name in SECRET_FIELDS):
        return
    try:
        body = exchange.response.json()
    except ValueError:
        return
    _remember(body, 0)


def _remember(value: Any, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_FIELDS and isinstance(item, str):
                SECRETS.add(item, SECRET_FIELDS[key])
            else:
                _remember(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _remember(item, depth + 1)
