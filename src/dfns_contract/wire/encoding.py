"""base64url as the Dfns API uses it: unpadded on the way out, either way on the way in."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")


class DecodeError(ValueError):
    """The text is not base64url, or not the JSON it should carry."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; reject any other alphabet.

    Python's decoder silently drops characters it does not know, which would
    let ``+`` or spaces through: the explicit pattern keeps the check honest.
    """
    if not isinstance(text, str) or not _B64URL.match(text):
        raise DecodeError("not base64url")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise DecodeError("truncated base64url")
    padding = "=" * (-len(stripped) % 4)
    if text != stripped and text != stripped + padding:
        raise DecodeError("wrong base64url padding")
    return base64.urlsafe_b64decode(stripped + padding)


def canonical_json(value: Any) -> str:
    """The stringification the docs require for signed objects: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def b64url_json(text: str) -> Any:
    """Decode base64url text that must carry JSON."""
    try:
        return json.loads(b64url_decode(text).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError("not JSON") from exc
