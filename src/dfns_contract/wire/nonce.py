"""The ``X-DFNS-NONCE`` header: base64url of JSON ``{"uuid", "date"}``.

Both the client (to make one) and the reference server (to judge one) use this
module, so the two can never disagree on the format.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dfns_contract.wire.encoding import DecodeError, b64url_encode, b64url_json

MIN_UUID_LENGTH = 13
#: How old a nonce's date may be, and how far ahead of the server clock.
DEFAULT_MAX_AGE = timedelta(minutes=5)
DEFAULT_MAX_SKEW = timedelta(minutes=1)


class InvalidNonce(ValueError):
    """The header is missing, undecodable, or its fields are wrong or stale."""


@dataclass(frozen=True)
class Nonce:
    uuid: str
    date: datetime


def iso_now(now: datetime | None = None) -> str:
    """The date as JavaScript's ``toISOString`` writes it (the docs' example)."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_nonce(uuid: str | None = None, date: str | None = None) -> str:
    """A fresh nonce; pass ``uuid`` or ``date`` only to build a deliberately odd one."""
    body = {"uuid": uuid if uuid is not None else str(uuidlib.uuid4()), "date": date if date is not None else iso_now()}
    return b64url_encode(json.dumps(body, separators=(",", ":")).encode())


def reencode_nonce(nonce: str) -> str:
    """Another header value for the same nonce: its JSON keys in reverse order, spaced, and its base64url
    padding toggled (the uuid and date, hence the nonce, unchanged).

    What a server must still refuse as used: it knows a nonce by what it decodes to, not by its text.
    """
    body = b64url_json(nonce)
    if not isinstance(body, dict):
        raise DecodeError("not a JSON object")
    text = json.dumps(dict(reversed(list(body.items()))), separators=(", ", ": "))
    while len(text.encode()) % 3 == 0:
        text += " "  # a length base64 pads, so that the padding can be toggled
    unpadded = b64url_encode(text.encode())
    return unpadded if nonce.endswith("=") else unpadded + "=" * (-len(unpadded) % 4)


def parse_date(text: object) -> datetime:
    if not isinstance(text, str) or not text:
        raise InvalidNonce("date is not a string")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise InvalidNonce("date is not ISO-8601") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def parse_nonce(
    header: str | None,
    now: datetime,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    min_uuid_length: int = MIN_UUID_LENGTH,
    check_freshness: bool = True,
) -> Nonce:
    """Judge a header value as the server received it (surrounding whitespace already gone)."""
    if not header:
        raise InvalidNonce("missing")
    try:
        body = b64url_json(header)
    except DecodeError as exc:
        raise InvalidNonce(str(exc)) from exc
    if not isinstance(body, dict):
        raise InvalidNonce("not a JSON object")
    uuid = body.get("uuid")
    if not isinstance(uuid, str) or len(uuid) < min_uuid_length:
        raise InvalidNonce("uuid missing or shorter than %d characters" % min_uuid_length)
    date = parse_date(body.get("date"))
    if check_freshness and not (now - max_age <= date <= now + max_skew):
        raise InvalidNonce("date outside the freshness window")
    return Nonce(uuid=uuid, date=date)
