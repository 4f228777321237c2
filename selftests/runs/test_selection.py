"""A selection is never a certification: naming files or node ids leaves the run INCOMPLETE, as ``-k`` does.

The races and fuzzing properties count towards the same documented errors as
the replayed cases; a run that never collected them must not be PASSED, and it
names what did not run. Each negative run has its control: the whole suite,
named the same way, is PASSED.
"""

from __future__ import annotations

import json
from pathlib import Path

from dfns_contract.plugin.inventory import read_suite
from selftests.helpers.suite_runner import ROOT, run_suite

TESTS_FAILED = 1


def _report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "r.json").read_text())


def test_naming_one_file_is_incomplete_and_names_the_races_and_fuzzing_left_out(tmp_path):
    run = run_suite("tests/test_documented_errors.py", "--dfns-require-all", "--dfns-contract-report",
                    str(tmp_path / "r.json"), allow_incomplete=False)
    assert run.returncode == TESTS_FAILED, run.output[-3000:]
    assert "dfns verdict: INCOMPLETE" in run.stdout and "PASSED" not in run.stdout, run.stdout[-3000:]
    assert "tests/test_replay_races.py::test_one_nonce_sent_at_once_passes_once" in run.stdout
    assert "tests/test_fuzz_replay_model.py::test_replay_rules_hold_in_any_order (not collected" in run.stdout
    report = _report(tmp_path)
    verdicts = {error["id"]: error["verdict"] for error in report["errors"] if error["id"]}
    assert verdicts["nonce-reused"] == "partially verified" and report["result"] == "INCOMPLETE"
    assert verdicts["forbidden-operation"] == "verified"  # an entry with no race nor property is whole
    others = {check["nodeid"]: check["outcome"] for check in report["otherChecks"]}
    assert others["tests/test_fuzz_replay_model.py::test_replay_rules_hold_in_any_order"] == "not run"


def test_a_node_id_is_incomplete_too(tmp_path):
    run = run_suite("tests/test_documented_errors.py::test_documented_error", "tests/test_replay_races.py",
                    "tests/test_fuzz_headers.py", allow_incomplete=False)
    assert run.returncode == TESTS_FAILED and "dfns verdict: INCOMPLETE" in run.stdout, run.output[-3000:]
    assert "test_replay_rules_hold_in_any_order (not collected" in run.stdout


def test_deselecting_only_the_replay_model_is_incomplete():
    """No entry loses a case, yet the model that exercises four of them did not run."""
    run = run_suite("-k", "not replay_rules", allow_incomplete=False)
    assert run.returncode == TESTS_FAILED and "dfns verdict: INCOMPLETE" in run.stdout, run.output[-3000:]
    assert "test_replay_rules_hold_in_any_order (deselected by -k or -m)" in run.stdout


def test_the_whole_suite_named_by_its_folder_is_passed(tmp_path):
    """The control: the same files, all of them, named explicitly."""
    run = run_suite("tests/test_documented_errors.py", "tests/test_replay_races.py", "tests/test_fuzz_headers.py",
                    "tests/test_fuzz_replay_model.py", "--dfns-require-all", allow_incomplete=False)
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]
    assert "not run:" not in run.stdout


def test_the_2026_suite_does_not_expect_what_its_version_deselects():
    """Tests of another version's errors are outside its contract: missing them is no gap (control of the above)."""
    run = run_suite("--dfns-contract", "2026", "tests/test_documented_errors.py", "tests/test_replay_races.py",
                    "tests/test_fuzz_headers.py", "--dfns-require-all", allow_incomplete=False)
    assert run.returncode == 0 and "dfns verdict: PASSED" in run.stdout, run.output[-3000:]


def test_the_inventory_is_what_a_collection_of_the_suite_finds():
    """Read from the files' syntax, the inventory must match the tests pytest collects with those markers."""
    keys = {test.key for test in read_suite(ROOT / "tests", ROOT)}
    collected: set[str] = set()
    for version in ("2024-08-19", "2026"):  # each version deselects the tests of errors it does not document
        run = run_suite("--co", "-q", "tests", "--dfns-contract", version)
        collected |= {line.split("[")[0] for line in run.stdout.splitlines() if line.startswith("tests/")}
    assert keys and keys == collected, (keys ^ collected)
    assert "tests/test_replay_races.py::test_one_external_id_sent_at_once_creates_one_transfer" in keys
