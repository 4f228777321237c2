"""profile.example.json: valid against schemas/profile.json, and naming every key a case of any version reads.

The keys the cases read are derived, never copied by hand: the needs of every case of every published
catalog (``binding.required_keys``, the recipes' declared needs and the messages' placeholders), the
optional keys the suite's code reads with ``profile.get("…")``, and what the reference server writes.
Each check has a control: the same check on a copy with one key removed must catch it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dfns_contract.contract import schemas
from dfns_contract.contract.binding import load_contract, required_keys
from dfns_contract.contract.profile import load_profile, profile_keys
from dfns_contract.server.clock import system_clock
from dfns_contract.server.seed import new_seeded_world
from dfns_contract.server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "profile.example.json"
PROFILE_DOCS = ROOT / "docs" / "profile.md"
#: Where the suite's code reads profile keys by name (the optional ones have no recipe need).
READERS = [ROOT / "src" / "dfns_contract" / "contract", ROOT / "src" / "dfns_contract" / "plugin", ROOT / "tests"]
READ_BY_NAME = re.compile(r"""profile(?:\.values)?(?:\.get\(|\[)\s*["'](\w+)["']""")


def example() -> dict[str, object]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def keys_the_cases_need() -> set[str]:
    """Every key some case of some published version needs (its recipe, its variant, its message)."""
    return {key for version in schemas.published_contracts() for error in load_contract(version).errors
            for case in error.cases() for key in required_keys(error, case.variant)}


def keys_the_code_reads() -> set[str]:
    """The profile keys the suite's code reads by name, optional ones included (``profile.get("appOrigin")``)."""
    known = set(profile_keys())
    found = {name for folder in READERS for path in folder.rglob("*.py")
             for name in READ_BY_NAME.findall(path.read_text(encoding="utf-8"))}
    return found & known


def keys_the_reference_server_writes() -> set[str]:
    """What ``dfns-mock --profile-out`` writes: the seeded world's profile, made without a socket."""
    seeded = new_seeded_world(Settings(), system_clock).seeded
    return set(seeded.profile("http://127.0.0.1:1"))


def missing_keys(profile: dict[str, object]) -> list[str]:
    """The keys the cases need or the code reads that ``profile`` leaves out."""
    return sorted((keys_the_cases_need() | keys_the_code_reads()) - set(profile))


def test_the_derived_lists_are_not_empty():
    """A derivation that found nothing would make the completeness check vacuous."""
    needed, read = keys_the_cases_need(), keys_the_code_reads()
    assert {"authToken", "otherAppId", "walletId", "loginCode"} <= needed
    assert {"appOrigin", "replayPauseSeconds", "nonceMaxAgeSeconds", "transferAmount"} <= read


def test_the_example_validates_against_the_schema():
    assert schemas.problems("profile.json", example()) == []


def test_the_example_loads_as_a_profile():
    """The suite's own loader accepts it (schema, dependent keys), with no DFNS_* variable."""
    profile = load_profile(EXAMPLE, {})
    assert set(profile.values) == set(example()) - {"$comment"}


def test_a_broken_example_is_caught():
    """Control of the schema check: a key the schema refuses, and a key without its partner."""
    broken = example() | {"tokn": "x"}
    del broken["privateKey"]
    problems = " ".join(schemas.problems("profile.json", broken))
    assert "tokn" in problems and "privateKey" in problems


def test_the_example_names_every_key_the_cases_read():
    assert missing_keys(example()) == []


@pytest.mark.parametrize("key", ["limitedPrincipalKind", "otherWalletId", "appOrigin", "recoveryVerificationCode"])
def test_a_key_removed_is_caught(key):
    """Control of the completeness check: a needed key, a variant's key, an optional key read by name."""
    short = example()
    del short[key]
    assert missing_keys(short) == [key]


def test_the_example_holds_what_the_reference_server_writes():
    """Whatever a complete profile of the reference server has, the example has a place for."""
    assert keys_the_reference_server_writes() - set(example()) == set()


def test_the_example_holds_placeholders_not_secrets():
    """Every secret-looking value is a placeholder pointing at its key's section of docs/profile.md."""
    for key, value in example().items():
        if key.lower().endswith(("token", "privatekey", "code")):
            assert isinstance(value, str) and "docs/profile.md#%s" % key.lower() in value, key


def test_every_key_has_a_section_in_the_profile_docs():
    """Each key's placeholder links to docs/profile.md#key: that section must exist."""
    headings = set(re.findall(r"^### `(\w+)`$", PROFILE_DOCS.read_text(encoding="utf-8"), re.M))
    assert set(profile_keys()) - headings == set()
