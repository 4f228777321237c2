"""Ids shaped like the docs' (``ap-24vwa-92s32-8tvqi1dg0a95megt``), for every kind of entity.

Its own module so that the stores of different entities (world.py, wallet_store.py) share it
without importing each other.
"""

from __future__ import annotations

import secrets
import string

_ID_ALPHABET = string.digits + string.ascii_lowercase


def new_id(prefix: str) -> str:
    """``prefix`` and three random groups of 5, 5 and 16 characters."""
    parts = ["".join(secrets.choice(_ID_ALPHABET) for _ in range(n)) for n in (5, 5, 16)]
    return "-".join([prefix, *parts])
