"""JSON from a client: parsed with bounds, so no document can crash the server.

Python's ``json`` raises more than ``JSONDecodeError`` on hostile input: a
``ValueError`` for an integer of more than 4,300 digits, and a
``RecursionError`` (not a ``ValueError`` at all) for arrays or objects nested
about a thousand deep, and a document nested a little less deep than that
still crashes whatever serialises it again further down the stack (the
canonical JSON of a user-action payload). Every JSON a client sends (bodies,
signed payloads, client data, attestation data) goes through ``load_json``,
which turns all of it into ``InvalidJson`` and refuses nesting deeper than
``max_depth`` (Settings.max_json_depth), so what it returns is safe to walk
and to serialise again.
"""

from __future__ import annotations

import json
from typing import Any


class InvalidJson(ValueError):
    """Not JSON, or JSON the server will not hold; ``str()`` is a short reason for a 400."""


def load_json(raw: bytes | str, max_depth: int) -> Any:
    """The parsed document; ``InvalidJson`` for anything else, including nesting past ``max_depth``."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise InvalidJson("is nested too deeply") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, and the integer digit limit
        raise InvalidJson("is not valid JSON") from None
    if depth_exceeds(value, max_depth):
        raise InvalidJson("is nested more than %d deep" % max_depth)
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """True when arrays and objects nest deeper than ``max_depth`` (a scalar is depth 0).

    Iterative, so a deep document cannot exhaust the stack here either; it
    visits containers only, and stops at the first one too deep.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
