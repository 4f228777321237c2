"""Contract 2026 end to end: green against its own server, failing a 2024 server and the reverse, and
``--dfns-contract auto`` telling every version's server apart.

The 2026 suite sends no ``X-DFNS-NONCE`` or ``X-DFNS-APPID``, and expects the
body ``{"error": {"id", "status", "message", "details"}}`` on every error. A
server of the 2024 page refuses every request without a nonce (400, in its
own body): every control fails and every fault is answered in the wrong body.
The reverse, the first page's suite against a 2026 server: the 2026 body holds
``error.message``, so the old envelope check passes, but the server ignores
nonces (the nonce cases get 2xx), answers a reused user action as any invalid
one (403), words its 401 as 2025 does, and has no calling app that could not
deactivate itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.schemas import published_contracts
from dfns_contract.server.runner import start_server

from selftests.runs.test_versions import FIRST, TESTS_FAILED, USAGE_ERROR, run_versions
from selftests.helpers.suite_runner import run_suite

LATEST = "2026"
#: The tests of the errors 2026 does not document (the nonce's, the app id's, a reused user action's).
NOT_IN_2026 = ("test_fuzz_invalid_nonce", "test_fuzz_valid_nonce_passes_once", "test_fuzz_invalid_app_id",
               "test_replay_rules_hold_in_any_order", "test_one_nonce_sent_at_once_passes_once",
               "test_one_user_action_used_at_once_passes_once")


def test_2026_is_green_against_its_own_server(tmp_path: Path) -> None:
    outcome = run_versions(tmp_path, LATEST)
    assert outcome.run.returncode == 0 and outcome.failed == [], outcome.tail()
    assert "created: 2/2 workers" in outcome.run.stdout and "Using --randomly-seed=" in outcome.run.stdout
    assert set(outcome.verdicts().values()) == {"verified"}, outcome.verdicts()
    catalog = load_contract(LATEST)
    assert len(outcome.verdicts()) == len(catalog.errors)
    recognised = [(e["status"], e["verdict"], e["recognised"]["answer"]) for e in outcome.report["errors"] if e["recognised"]]
    assert recognised == sorted((r.status, "recognised", r.answer) for r in catalog.recognised)
    assert outcome.report["totals"]["recognised"] == len(catalog.recognised)  # and the run still PASSED
    assert outcome.report["contract"]["version"] == LATEST and outcome.junit["dfns_contract"] == LATEST
    assert "under contract 2026" in outcome.run.stdout


def test_the_tests_of_errors_2026_does_not_document_are_deselected_saying_why() -> None:
    run = run_suite("--dfns-contract", LATEST, "-p", "no:randomly", "-k", "unknown-wallet")
    assert run.returncode == 0, run.output[-3000:]
    for name in NOT_IN_2026:
        assert re.search(r"dfns not in contract 2026 \(deselected\): %s: " % name, run.stdout), run.stdout[:4000]
    assert "is about nonce-missing-or-invalid, which contract 2026 does not document" in run.stdout
    assert "needs the header X-DFNS-APPID, which contract 2026's requests do not carry" in run.stdout


@pytest.mark.slow  # the fast tier keeps the other direction (below): the first page against a 2026 server
def test_2026_fails_a_server_of_the_first_page_on_every_entry(tmp_path: Path) -> None:
    """No nonce: the first page's server refuses every control with its 400, in a body without id or status."""
    outcome = run_versions(tmp_path, LATEST, FIRST)
    assert outcome.run.returncode == TESTS_FAILED, outcome.tail()
    assert set(outcome.verdicts().values()) == {"failed"}, outcome.verdicts()
    assert "body error: 'id' is required" in outcome.run.stdout, outcome.tail()
    assert "request nonce is missing or invalid" in outcome.run.stdout, outcome.tail()
    assert outcome.report["target"]["contract"] == FIRST


#: What the first page documents that a 2026 server does otherwise: the nonce is ignored (its cases get 2xx), a
#: reused user action is answered as any invalid one (403, not 400), the 401 is worded ``user token is missing or
#: invalid``, and with no app id there is no "calling app" that could not deactivate itself. The reference server
#: keeps the pages' words for the 403s and the unknown app, so those pass.
FIRST_FAILS_ON_2026 = frozenset({
    "nonce-missing-or-invalid", "nonce-reused", "useraction-reused", "no-jwt", "app-modifies-own-state",
})


def test_the_first_page_fails_a_2026_server_exactly_where_they_differ(tmp_path: Path) -> None:
    outcome = run_versions(tmp_path, FIRST, LATEST)
    assert outcome.run.returncode == TESTS_FAILED, outcome.tail()
    verdicts = outcome.verdicts()
    failed = {error for error, verdict in verdicts.items() if verdict == "failed"}
    assert failed == FIRST_FAILS_ON_2026, "%s\n%s" % (verdicts, outcome.explain(failed ^ FIRST_FAILS_ON_2026))
    assert {v for e, v in verdicts.items() if e not in FIRST_FAILS_ON_2026} == {"verified", "not provoked"}, verdicts
    assert outcome.report["target"]["contract"] == LATEST


# -- --dfns-contract auto ------------------------------------------------------------------------------------

def run_auto(tmp_path: Path, server_contract: str, *args: str, faults: tuple[str, ...] = ()):
    with start_server(contract=server_contract, faults=list(faults)) as server:
        profile = tmp_path / "profile.json"
        profile.write_text(json.dumps(server.profile))
        report = tmp_path / "report.json"
        run = run_suite("--dfns-contract", "auto", "--base-url", server.url, "--dfns-profile", str(profile),
                        "-p", "no:randomly", "--dfns-contract-report", str(report), *args)
    return run, (json.loads(report.read_text()) if report.is_file() else None)


@pytest.mark.parametrize("version", published_contracts())
def test_auto_picks_the_version_of_every_versions_server(tmp_path: Path, version: str) -> None:
    """A read-only case of every version (no-jwt-missing): the run certifies against the version detected."""
    run, report = run_auto(tmp_path, version, "-k", "no-jwt-missing", "--dfns-allow-incomplete")
    assert run.returncode == 0, run.output[-3000:]
    assert re.search(r"dfns contract: %s \(--dfns-contract auto: " % re.escape(version), run.stdout), run.stdout[:3000]
    assert "under contract %s (detected: --dfns-contract auto)" % version in run.stdout
    assert report["contract"]["version"] == version and report["contract"]["detected"]
    assert "1 passed" in run.stdout


def test_auto_under_xdist_asks_once_and_every_worker_certifies_the_same_version(tmp_path: Path) -> None:
    run, report = run_auto(tmp_path, LATEST, "-n", "2", "-k", "no-jwt", "--dfns-allow-incomplete")
    assert run.returncode == 0, run.output[-3000:]
    assert report["contract"]["version"] == LATEST and "created: 2/2 workers" in run.stdout
    assert re.search(r"= \d+ passed in", run.stdout) and "FAILED" not in run.stdout, run.stdout[-3000:]


def test_a_target_that_fits_no_version_is_one_set_up_error_naming_what_it_answered(tmp_path: Path) -> None:
    """A 401 worded as no page words it: neither version's; the run names what was seen, and stops (exit 4)."""
    run, report = run_auto(tmp_path, FIRST, "-k", "no-jwt-missing", faults=("auth-message",))
    assert run.returncode == USAGE_ERROR, run.output[-3000:]
    assert "answers as no published version of the Dfns error contract" in run.output
    assert "a request without a token got HTTP 401" in run.output and "message" in run.output
    assert "Traceback" not in run.output and run.output.count("ERROR:") == 1 and report is None


def test_a_2025_page_under_2026_is_one_set_up_error_naming_todays_page() -> None:
    page = Path(__file__).resolve().parents[3] / "shared/reference/errors-page-versions/2025-02-07.md"
    run = run_suite("--dfns-contract", LATEST, "--dfns-errors-doc", str(page), "--dfns-list")
    assert run.returncode == USAGE_ERROR, run.output
    assert "this page is in the 2024/2025 errors page's form" in run.output
    assert "give a copy of that page (e.g. dfns-docs-2026/api-errors.md in the shared reference folder)" in run.output
    assert run.output.count("ERROR:") == 1 and "Traceback" not in run.output


def test_the_list_shows_which_messages_2026_documents(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    run = run_suite("--dfns-contract", LATEST, "--dfns-list", "--dfns-list-json", str(path))
    assert run.returncode == 0, run.output
    listed = {error["id"]: error for error in json.loads(path.read_text())["errors"]}
    assert listed["external-id-conflict"]["message"] == "Conflicting transfer with same externalId"
    assert listed["external-id-conflict"]["safety"] == "irreversible" and listed["external-id-conflict"]["destructive"]
    assert listed["no-jwt"]["message"] is None and "appId" not in listed["no-jwt"]["profileKeys"]
    assert listed["unknown-wallet"]["doc"].startswith("api-reference/error-codes (2026) › Common errors › 404")


def test_the_list_shows_every_status_of_the_page(tmp_path: Path) -> None:
    """Entries with their cases, and each recognised status with its outcome class (no case)."""
    path = tmp_path / "list.json"
    run = run_suite("--dfns-contract", LATEST, "--dfns-list", "--dfns-list-json", str(path))
    assert run.returncode == 0, run.output
    catalog = load_contract(LATEST)
    listed = json.loads(path.read_text())
    assert [(r["status"], r["answer"]) for r in listed["recognised"]] == [(r.status, r.answer) for r in catalog.recognised]
    outcomes = {r["answer"]: r["outcome"] for r in listed["recognised"]}
    assert outcomes["pending"] == "policy pending: not an error"
    assert outcomes["audited"] == "no documented request provokes it; audited wherever seen"
    assert outcomes["environment"].startswith("the environment's doing")
    for entry in catalog.recognised:
        assert re.search(r"\(recognised\) +%d recognised: " % entry.status, run.stdout), run.stdout
    assert "%d documented errors and %d recognised statuses (no case)" % (len(catalog.errors), len(catalog.recognised)) \
        in run.stdout
    assert '"None"' not in run.stdout and "(no message documented: any non-empty one, recorded)" in run.stdout
