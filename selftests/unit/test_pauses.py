"""Replays after a pause: the first use is sent early, the replay at least the pause later, never sooner."""

from __future__ import annotations

import time

import pytest

from dfns_contract.client import TransportError
from dfns_contract.contract.pauses import MAX_PAUSE, Pauses, pause_from


class FakeExchange:
    def __init__(self, name: str) -> None:
        self.name, self.at = name, time.monotonic()


def test_the_replay_goes_out_a_pause_after_the_first_use_sent_early():
    sent: list[str] = []

    def first_use():
        sent.append("first")
        return FakeExchange("first"), lambda: (sent.append("replay"), FakeExchange("replay"))[1]

    pauses = Pauses(pause=0.2)
    pauses.use_now("case", first_use)
    pauses.use_now("case", first_use)  # once per case
    first, replay = pauses.first_then_replay("case", first_use)
    assert sent == ["first", "replay"]
    assert replay.at - first.at >= 0.2


def test_a_first_use_not_sent_early_is_sent_when_the_case_runs():
    pauses = Pauses(pause=0.05)
    first, replay = pauses.first_then_replay("case", lambda: (FakeExchange("first"), lambda: FakeExchange("replay")))
    assert replay.at - first.at >= 0.05


def test_an_environment_failure_of_the_early_use_is_raised_by_the_case():
    def refused():
        raise TransportError("GET", "http://127.0.0.1:9/auth/apps", {}, None, ConnectionRefusedError("refused"))

    pauses = Pauses(pause=0.01)
    pauses.use_now("case", refused)
    with pytest.raises(TransportError):
        pauses.first_then_replay("case", refused)


@pytest.mark.parametrize("value, seconds", [(None, 1.5), ("", 1.5), ("3", 3.0), (0.5, 0.5), ("600", MAX_PAUSE)])
def test_the_pause_comes_from_the_profile_within_bounds(value, seconds):
    assert pause_from(value) == seconds
