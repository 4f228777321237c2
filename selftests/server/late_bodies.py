"""Races whose bodies arrive after their headers: the interleaving a single-use check must survive.

Every request goes out with ``Expect: 100-continue``. The server answers
``100 Continue`` only when the application first asks for the body, that is
once the request has passed every check that needs no body (nonce, app,
token, permission) and waits for its body. So when every request has either
been answered or been told to continue, every request still alive is parked
at its body read, past its pre-checks, at the same time: then the bodies go
out. A check that looks before the body and records after it lets every one
of them through; an atomic claim lets exactly one.

No sleeping and no threads: the 100 (or the final answer) of each request is
the signal that it reached that point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from .raw_http import RawResponse, Reader, connect, head


@dataclass(frozen=True)
class Racer:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class RaceResult:
    #: The final answer of each racer, in order.
    answers: list[RawResponse]
    #: How many racers were parked at their body read together (told ``100 Continue``).
    continued: int

    @property
    def statuses(self) -> Counter[int]:
        return Counter(answer.status for answer in self.answers)

    @property
    def accepted(self) -> int:
        return sum(1 for answer in self.answers if 200 <= answer.status < 300)

    def messages(self, status: int) -> set[str | None]:
        return {answer.message for answer in self.answers if answer.status == status}


def race_late_bodies(url: str, racers: Sequence[Racer]) -> RaceResult:
    """Send every racer's headers, then, once each is answered or parked, every body."""
    with ExitStack() as stack:
        socks = [stack.enter_context(connect(url)) for _ in racers]
        readers = [Reader(sock) for sock in socks]
        for sock, racer in zip(socks, racers, strict=True):
            headers = {**racer.headers, "Expect": "100-continue"}
            sock.sendall(head(racer.method, racer.path, headers, racer.body))
        first = [reader.response() for reader in readers]
        waiting = [i for i, answer in enumerate(first) if answer.status == 100]
        for i in waiting:
            socks[i].sendall(racers[i].body)
        answers = [readers[i].response() if i in waiting else a for i, a in enumerate(first)]
        return RaceResult(answers, len(waiting))
