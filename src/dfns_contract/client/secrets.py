"""What is secret in a run, and how it is masked: by value, wherever it turns up.

Masking by header name misses a token echoed in a body, a JWT split into its
parts, or a PEM escaped inside JSON. So every secret the run knows or receives
is registered here with its derived forms: the profile's secret keys when it
is loaded, a Key credential when a signer is made, and, through
``remember_received`` (an observer of every response), the tokens, challenge
identifiers, user-action signatures and registration codes a Dfns API hands
out, the moment they arrive, whatever the status.

A secret cut short is still a secret: pytest shortens long reprs around
``...``, a diff skips what two strings share. So ``mask`` also masks any
piece of a registered form of MIN_FRAGMENT_LENGTH characters or more, found
through an index of the forms' pieces of PIECE_LENGTH characters.

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
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

#: Shorter values are too likely to occur by chance to be masked safely.
MIN_SECRET_LENGTH = 8
#: PEM body lines and JWT parts shorter than this are structure, not secret.
MIN_PART_LENGTH = 16
#: A piece of a form at least this long is masked wherever it turns up, cut from the rest
#: (a truncated repr, a diff that skips identical characters, a wrapped line); shorter pieces
#: are too likely to occur by chance.
MIN_FRAGMENT_LENGTH = 16
#: What a masked secret becomes (its label in place of ``%s``); in HTML, the same escaped.
PLACEHOLDER = "<masked:%s>"
HTML_PLACEHOLDER = "&lt;masked:%s&gt;"

#: The index holds every substring of this length of every form; a text is read in consecutive
#: pieces of this length. Any fragment of MIN_FRAGMENT_LENGTH characters holds one whole piece
#: (the first that starts in it ends at most 15 characters later), so a text none of whose
#: pieces is in the index holds no fragment, and no whole form either.
PIECE_LENGTH = MIN_FRAGMENT_LENGTH // 2


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


@dataclass(frozen=True)
class _Snapshot:
    """What ``mask`` reads, taken at once: ``add`` may run in another thread meanwhile."""

    #: Every form, longest first.
    forms: tuple[str, ...]
    #: The forms too short to be found through the index.
    short: tuple[str, ...]
    #: The forms the index holds the pieces of.
    long: tuple[str, ...]
    #: Every substring of PIECE_LENGTH characters of every long form.
    pieces: set[str]


class SecretRegistry:
    """Every secret of the run; safe to share between threads.

    Adding a secret costs nothing but the set update: no pattern is compiled
    and nothing is indexed then (the client adds a secret per response it
    reads, on the benchmark's hot path). ``mask`` brings the index of pieces
    up to date with the forms added since, then reads the text in pieces: a
    text none of whose pieces is a piece of a form (most texts) comes back
    unchanged at the cost of one set test per PIECE_LENGTH characters,
    whatever the number of secrets.

    Otherwise it masks in two passes. Whole forms: it looks for the forms
    that occur in the text and compiles a pattern of those alone, cached by
    that set of forms; at each position the longest form that matches there
    is masked (a single pattern of all forms would be compiled again after
    every secret the run receives, which cost more than the rest of a run).
    Then fragments: what is left of a form after pytest or a diff cut it (a
    repr cut to 240 characters, the part of a JWT before ``...``) is found
    through its pieces, widened to the longest stretch the text shares with
    a form there, and masked if it is MIN_FRAGMENT_LENGTH characters or more.
    """

    #: Patterns kept for sets of forms found together (one set per kind of text, in practice).
    MAX_PATTERNS = 256

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._snapshot: _Snapshot | None = _Snapshot((), (), (), set())
        self._pieces: set[str] = set()
        #: The forms of each secret added since the index was last brought up to date.
        self._unindexed: list[set[str]] = []
        self._patterns: dict[frozenset[str], re.Pattern[str]] = {}
        self._lock = threading.Lock()

    def add(self, value: str | None, label: str = "secret") -> None:
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        forms = derived_forms(value)
        with self._lock:
            new = [form for form in forms if form not in self._labels]
            if new:
                self._labels.update(dict.fromkeys(new, label))
                self._unindexed.append(forms)
                self._snapshot = None

    def mask(self, text: str, placeholder: str = PLACEHOLDER) -> str:
        """``text`` with every form of every secret, and every fragment of one, replaced by ``placeholder % label``."""
        if not text:
            return text
        snapshot = self._take_snapshot()
        if not any(form in text for form in snapshot.short) and snapshot.pieces.isdisjoint(_pieces_of(text)):
            return text
        text = self._mask_forms(text, placeholder, snapshot)
        return self._mask_fragments(text, placeholder, snapshot)

    def values(self) -> list[str]:
        with self._lock:
            return list(self._labels)

    def _take_snapshot(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            with self._lock:
                if self._snapshot is None:
                    for forms in self._unindexed:
                        for form in _widest_forms(forms):
                            self._pieces.update(_every_piece(form))
                    self._unindexed.clear()
                    forms = tuple(sorted(self._labels, key=len, reverse=True))
                    self._snapshot = _Snapshot(
                        forms,
                        short=tuple(form for form in forms if len(form) < MIN_FRAGMENT_LENGTH),
                        long=tuple(form for form in forms if len(form) >= MIN_FRAGMENT_LENGTH),
                        pieces=self._pieces,
                    )
                snapshot = self._snapshot
        return snapshot

    def _mask_forms(self, text: str, placeholder: str, snapshot: _Snapshot) -> str:
        present = [form for form in snapshot.forms if form in text]
        if not present:
            return text
        return self._pattern(present).sub(lambda m: placeholder % self._labels[m.group(0)], text)

    def _mask_fragments(self, text: str, placeholder: str, snapshot: _Snapshot) -> str:
        regions = _fragment_regions(text, snapshot)
        if not regions:
            return text
        parts, done = [], 0
        for start, end, form in regions:
            parts += [text[done:start], placeholder % self._labels[form]]
            done = end
        parts.append(text[done:])
        return "".join(parts)

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


def _pieces_of(text: str) -> list[str]:
    """``text`` cut into consecutive pieces of PIECE_LENGTH characters (a shorter tail left out)."""
    return [text[at:at + PIECE_LENGTH] for at in range(0, len(text) - PIECE_LENGTH + 1, PIECE_LENGTH)]


def _widest_forms(forms: set[str]) -> list[str]:
    """The forms of one secret whose pieces the index needs: a JWT's parts and a PEM's lines are in the whole."""
    long = [form for form in forms if len(form) >= MIN_FRAGMENT_LENGTH]
    return [form for form in long if not any(form != other and form in other for other in long)]


def _every_piece(form: str) -> set[str]:
    """Every substring of PIECE_LENGTH characters of ``form``, whatever it starts at."""
    return {form[at:at + PIECE_LENGTH] for at in range(len(form) - PIECE_LENGTH + 1)}


def _fragment_regions(text: str, snapshot: _Snapshot) -> list[tuple[int, int, str]]:
    """Where ``text`` holds fragments of forms: ``(start, end, form)``, in order, not overlapping.

    Each piece of the text found in the index is widened to the longest
    stretch around it that the text shares with a form; a stretch that
    overlaps or touches the previous one joins it. No fragment of
    MIN_FRAGMENT_LENGTH characters is left outside the regions: its first
    whole piece is read after the previous region ends, and widening that
    piece covers it.
    """
    regions: list[tuple[int, int, str]] = []
    for number, piece in enumerate(_pieces_of(text)):
        at = number * PIECE_LENGTH
        if (regions and at < regions[-1][1]) or piece not in snapshot.pieces:
            continue
        found = _widest_fragment(text, at, piece, snapshot.long)
        if found is None:
            continue
        start, end, form = found
        while regions and start <= regions[-1][1]:
            earlier, _, form = regions.pop()
            start = min(start, earlier)
        regions.append((start, end, form))
    return regions


def _widest_fragment(text: str, at: int, piece: str, forms: tuple[str, ...]) -> tuple[int, int, str] | None:
    """The longest stretch of ``text`` around the piece at ``at`` that is a piece of a form, if long enough to mask."""
    best: tuple[int, int, str] | None = None
    for form in forms:
        offset = form.find(piece)
        while offset >= 0:
            start = at - _common_length_before(text, at, form, offset)
            end = at + PIECE_LENGTH + _common_length_after(text, at + PIECE_LENGTH, form, offset + PIECE_LENGTH)
            if end - start >= MIN_FRAGMENT_LENGTH and (best is None or end - start > best[1] - best[0]):
                best = (start, end, form)
            offset = form.find(piece, offset + 1)
    return best


def _common_length_after(text: str, at: int, form: str, offset: int) -> int:
    """How many characters ``text`` from ``at`` and ``form`` from ``offset`` share (a binary search on slices)."""
    low, high = 0, min(len(text) - at, len(form) - offset)
    while low < high:
        middle = (low + high + 1) // 2
        if text[at:at + middle] == form[offset:offset + middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_length_before(text: str, at: int, form: str, offset: int) -> int:
    """How many characters ``text`` before ``at`` and ``form`` before ``offset`` share."""
    low, high = 0, min(at, offset)
    while low < high:
        middle = (low + high + 1) // 2
        if text[at - middle:at] == form[offset - middle:offset]:
            low = middle
        else:
            high = middle - 1
    return low


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
    # A recovery's init answers with the user's recovery key, encrypted (User Recovery › Create Recovery Challenge).
    "encryptedRecoveryKey": "encryptedRecoveryKey",
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
