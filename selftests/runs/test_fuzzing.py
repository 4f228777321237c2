"""The fuzzing reaches every tier of its strategies, and finds faults on its own."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dfns_contract.contract import strategies
from dfns_contract.wire.nonce import InvalidNonce, parse_nonce
from datetime import datetime, timezone

from selftests.helpers.suite_runner import run_suite

FUZZ_AND_RACES = ("tests/test_fuzz_headers.py", "tests/test_fuzz_replay_model.py", "tests/test_replay_races.py")
REAL_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1cy0xIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

STRATEGIES = {
    "invalid_nonces": (strategies.invalid_nonces(), 13),
    "valid_nonces": (strategies.valid_nonces(), 4),
    "invalid_bearer_tokens": (strategies.invalid_bearer_tokens(REAL_TOKEN), 11),
    "invalid_user_actions": (strategies.invalid_user_actions(REAL_TOKEN), 8),
    "invalid_app_ids": (strategies.invalid_app_ids("ap-aaaaa-bbbbb-cccccccccccccccc"), 6),
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_tier_is_drawn(name: str) -> None:
    strategy, tiers = STRATEGIES[name]
    seen: set[str] = set()

    @settings(max_examples=400, derandomize=True, database=None)
    @given(strategy)
    def draw(drawn) -> None:
        seen.add(drawn.tier)

    draw()
    assert len(seen) == tiers, "tiers drawn: %s" % sorted(seen)


@settings(max_examples=300, derandomize=True, database=None)
@given(strategies.invalid_nonces())
def test_invalid_nonce_tiers_are_invalid_as_received(drawn) -> None:
    """The verdict holds for the value as a server receives it: surrounding SP/HTAB stripped."""
    value = None if drawn.value is None else drawn.value.strip(" \t")
    with pytest.raises(InvalidNonce):
        parse_nonce(value, datetime.now(timezone.utc))


@settings(max_examples=100, derandomize=True, database=None)
@given(strategies.valid_nonces())
def test_valid_nonce_tiers_are_valid_as_received(drawn) -> None:
    parse_nonce(drawn.value.strip(" \t"), datetime.now(timezone.utc))


@settings(max_examples=300, derandomize=True, database=None)
@given(st.sampled_from(sorted(STRATEGIES)).flatmap(lambda name: STRATEGIES[name][0]))
def test_header_values_are_transmittable(drawn) -> None:
    """Latin-1 only, no CR, LF or NUL: anything else HTTP cannot carry."""
    assert drawn.value is None or not any(ch in drawn.value for ch in "\r\n\x00")
    assert drawn.value is None or all(ord(ch) <= 0xFF for ch in drawn.value)


@pytest.mark.mutation
@pytest.mark.parametrize("fault", ["html-500-on-odd-bytes", "nonce-short-uuid", "nonce-freshness-off", "nonce-replay-racy", "useraction-racy"])
def test_fuzz_and_race_tests_alone_catch(fault: str) -> None:
    run = run_suite("-q", *FUZZ_AND_RACES, "--dfns-mock-fault", fault, "--dfns-hypothesis-profile", "ci")
    assert run.returncode == 1, "fault %s survived the fuzz and race tests:\n%s" % (fault, run.output[-3000:])


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_the_run_reports_its_profile_and_examples_per_property(workers: tuple[str, ...]) -> None:
    run = run_suite("tests/test_fuzz_headers.py", "-k", "nonce", "--dfns-hypothesis-profile", "dev", *workers)
    assert run.returncode == 0, run.output[-3000:]
    seed = re.search(r"^dfns hypothesis profile: dev, seed (\d+) \(random each run; replay with --hypothesis-seed=\1\)$",
                     run.output, re.MULTILINE)
    assert seed, run.output[:3000]
    assert "fuzzing (hypothesis profile dev, seed %s)" % seed.group(1) in run.output, run.output[-3000:]
    counts = re.findall(r"^\s*(\d+) examples  tests/test_fuzz_headers\.py::\S*nonce", run.output, re.MULTILINE)
    assert counts and all(int(n) > 0 for n in counts), run.output[-3000:]
