"""A request as a command a person can paste into a shell, and bodies cut to a readable length.

Failure messages show the request this way, so that whoever reads a failure at
2 a.m. can send it again. Secrets are not masked here: every text leaves the
run through the plugin's output boundary (``plugin/output.py``), which masks it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

BODY_EXCERPT = 2000


def curl_command(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> str:
    """A request as a command a person can paste (masked where it goes out, with the report)."""
    parts = ["curl", "-sS", "-i", "-X", method, shlex.quote(url)]
    for name, value in headers.items():
        parts += ["-H", shlex.quote("%s: %s" % (name, value))]
    if body is not None:
        parts += ["--data-raw", shlex.quote(body.decode("utf-8", "replace"))]
    return " ".join(parts)


def excerpt(text: str, limit: int = BODY_EXCERPT) -> str:
    text = text if len(text) <= limit else text[:limit] + "… (%d characters in all)" % len(text)
    return repr(text) if not text.strip() else text
