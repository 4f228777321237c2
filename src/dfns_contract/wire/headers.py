"""How the client spells header names: as documented, or as a gateway or HTTP/2 would send them.

Header names are case-insensitive (RFC 9110 §5.1): HTTP/2 and HTTP/3 send
every name in lower case, and gateways and SDKs spell them as they like. A
server that reads ``X-DFNS-NONCE`` only under its documented spelling refuses
every valid request that came through such a hop. So the suite sends its
requests under several spellings (each case under one, chosen from its id;
the fuzzing draws one per example), and a server that cares about the case
of a name fails the controls.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spelling:
    """A way to spell header names; ``name`` is what a failure message shows."""

    name: str
    spell: Callable[[str], str]

    def __call__(self, header: str) -> str:
        return self.spell(header)


def _alternate(header: str) -> str:
    """``x-DfNs-NoNcE``: every other letter upper case, starting with lower (never the documented spelling)."""
    out, upper = [], False
    for char in header:
        if char.isalpha():
            out.append(char.upper() if upper else char.lower())
            upper = not upper
        else:
            out.append(char)
    return "".join(out)


AS_DOCUMENTED = Spelling("as documented", lambda header: header)
LOWER_CASE = Spelling("lower case (as HTTP/2 sends them)", str.lower)
MIXED_CASE = Spelling("mixed case", _alternate)
#: Every spelling the cases are spread over.
SPELLINGS: Sequence[Spelling] = (AS_DOCUMENTED, LOWER_CASE, MIXED_CASE)


def spelling_for(case_id: str) -> Spelling:
    """The spelling of one case: fixed by its id (the same in every run and every process), spread evenly."""
    return SPELLINGS[zlib.crc32(case_id.encode("utf-8")) % len(SPELLINGS)]


def spelled_by_mask(upper: Sequence[bool]) -> Spelling:
    """A spelling whose letters are upper case where ``upper`` says (cycled): what the fuzzing draws."""
    flags = list(upper) or [False]

    def spell(header: str) -> str:
        letters = iter(flags * (len(header) // len(flags) + 1))
        return "".join(char.upper() if char.isalpha() and next(letters) else char.lower() if char.isalpha() else char
                       for char in header)

    return Spelling("drawn case " + "".join("U" if flag else "l" for flag in flags), spell)
