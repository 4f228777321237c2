"""Every published version against the reference server of every version: green on its own, failing exactly on
the differences otherwise.

A suite that names the version it certifies against must fail a server of
another version where, and only where, the two pages differ; otherwise the
version is a label, not a contract. Each run is the whole suite as a CI gate
runs it (``--dfns-require-all``), under ``-n 2`` and pytest-randomly's random
order; the suite's version is ``--dfns-contract``, the embedded server's
follows it, or ``--dfns-mock-contract`` for a server of another version.

What the pages say (``shared/reference/errors-page-versions/``): the first edit
of 2024-08-19 documents 11 errors; its later edit adds 11 (the login,
delegated authentication, user action signing and recovery flows' own
errors); 2025-02-07 changes one message, the 401 "Caller not authenticated"'s.
So:

* 2025-02-07 against 2024-08-19-extended, and the reverse: only the 401 message;
* 2024-08-19 against 2025-02-07: only the 401 message (the first edit has no
  new entry to miss);
* 2024-08-19-extended against 2024-08-19: the eleven new entries only (a
  server of the first edit answers what it did not document with its one 401,
  ``Not Authorized.``);
* 2025-02-07 against 2024-08-19: both differences, the 401 message and the
  eleven new entries: the pages differ in both;
* 2024-08-19 against 2024-08-19-extended: nothing (the later edit only adds).

A standalone server of another version is a set-up error at start-up
(``test_version_mismatch.py``); the embedded server of ``--dfns-mock-contract``
is not preflighted, which is how these runs reach the cases. The failing cases are read from the JUnit XML, the failing documented errors
from the conformance report; each set is asserted exactly.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.schemas import published_contracts

from selftests.helpers.mutation import failed_cases
from selftests.helpers.suite_runner import SuiteRun, run_suite

FIRST, EXTENDED, LATEST = "2024-08-19", "2024-08-19-extended", "2025-02-07"
TESTS_FAILED = 1
#: The eleven errors the later edit of 2024-08-19 added.
NEW_ENTRIES = frozenset({
    "delegated-auth-user-deactivated", "delegated-auth-user-not-found", "login-user-deactivated",
    "login-user-not-found", "login-no-credential-for-app", "login-invalid-code", "useraction-user-deactivated",
    "useraction-challenge-invalid", "useraction-user-not-found", "useraction-no-credential-for-app",
    "recovery-credential-not-recovery-factor",
})
#: The 401 message's own tests beside no-jwt's cases: its fuzzing, and the app-id fuzzing, which accepts any
#: documented 4xx (a server answers a bad app id with its 401, which the other version does not document).
MESSAGE_TESTS = frozenset({"fuzz_invalid_authorization", "fuzz_invalid_app_id"})


def cases_of(version: str, entries: frozenset[str]) -> frozenset[str]:
    """The case ids (``test_documented_error[…]``) of ``entries`` in ``version``'s catalog."""
    return frozenset(case.id for case in load_contract(version).cases() if case.error.id in entries)


def message_cases(version: str) -> frozenset[str]:
    return cases_of(version, frozenset({"no-jwt"})) | MESSAGE_TESTS


@dataclass
class VersionRun:
    run: SuiteRun
    failed: list[str]  # the failing tests, by case id (JUnit XML)
    report: dict
    junit: dict[str, str]  # the run's JUnit properties

    def verdicts(self) -> dict[str, str]:
        """Each catalog entry's verdict (the rows of recognised statuses and of drift have no id)."""
        return {error["id"]: error["verdict"] for error in self.report["errors"] if error["id"]}

    def tail(self) -> str:
        return self.run.output[-4000:]

    def explain(self, unexpected: set[str]) -> str:
        """Each unexpected entry's row of the report (its cases' failure records): why it got its verdict."""
        rows = [json.dumps(error, indent=1)[:4000] for error in self.report["errors"] if error["id"] in unexpected]
        return "\n".join(rows) or self.tail()


def run_versions(tmp_path: Path, suite: str, server: str | None = None) -> VersionRun:
    """The whole suite of ``suite``'s version, as a CI gate, against an embedded server of ``server``'s (its own)."""
    junit, report = tmp_path / ("%s-junit.xml" % suite), tmp_path / ("%s-report.json" % suite)
    # The smallest fuzzing budget: what is compared is which cases fail, and a message or status a version
    # changed fails every value of a property, the first batch included.
    run = run_suite("-n", "2", "-p", "randomly", "--dfns-require-all", "--dfns-contract", suite,
                    "--dfns-hypothesis-profile", "trial",
                    *(("--dfns-mock-contract", server) if server else ()),
                    "--junitxml", str(junit), "--dfns-contract-report", str(report),
                    allow_incomplete=False, timeout=600)
    assert junit.is_file() and report.is_file(), run.output[-4000:]
    properties = {p.get("name", ""): p.get("value", "") for p in ElementTree.parse(junit).iter("property")}
    return VersionRun(run, failed_cases(junit), json.loads(report.read_text()), properties)


def assert_names_the_versions(outcome: VersionRun, suite: str, server: str) -> None:
    """Every output says which version was certified, and which the server implemented."""
    assert outcome.report["contract"] == {**outcome.report["contract"], "version": suite, "published": True}
    assert outcome.report["target"]["contract"] == server
    assert outcome.junit["dfns_contract"] == suite
    assert "documented errors of contract %s" % suite in outcome.run.stdout, outcome.tail()
    assert "under contract %s" % suite in outcome.run.stdout, outcome.tail()
    assert len(outcome.report["errors"]) == len(load_contract(suite).errors)


def test_the_versions_compared_here_are_every_published_one():
    assert published_contracts() == [FIRST, EXTENDED, LATEST, "2026"]  # 2026: test_contract_2026.py
    assert len(load_contract(FIRST).errors) == 11 and len(load_contract(EXTENDED).errors) == 22
    assert {e.id for e in load_contract(EXTENDED).errors} - {e.id for e in load_contract(FIRST).errors} == NEW_ENTRIES


#: A whole run per version: the fast tier keeps the latest; the others' entries are verified by the differences
#: below too (every entry not in a difference must be verified there).
@pytest.mark.parametrize("version", [pytest.param(FIRST, marks=pytest.mark.slow),
                                     pytest.param(EXTENDED, marks=pytest.mark.slow), LATEST])
def test_each_version_is_green_against_its_own_server(tmp_path: Path, version: str) -> None:
    """The embedded server follows --dfns-contract: every entry verified, the 500 entry not provoked."""
    outcome = run_versions(tmp_path, version)
    assert outcome.run.returncode == 0 and outcome.failed == [], outcome.tail()
    assert "Using --randomly-seed=" in outcome.run.stdout and "created: 2/2 workers" in outcome.run.stdout, \
        outcome.run.stdout[:3000]
    assert outcome.report["result"] == "PASSED" and outcome.junit["dfns_result"] == "PASSED"
    verdicts = outcome.verdicts()
    assert verdicts.pop("internal-error-shape") == "not provoked"
    assert set(verdicts.values()) == {"verified"}, verdicts
    assert_names_the_versions(outcome, version, version)


#: (suite, server) → the documented errors that must fail, and nothing else.
DIFFERENCES = {
    (LATEST, EXTENDED): frozenset({"no-jwt"}),
    (EXTENDED, LATEST): frozenset({"no-jwt"}),
    (FIRST, LATEST): frozenset({"no-jwt"}),
    (EXTENDED, FIRST): NEW_ENTRIES,
    (LATEST, FIRST): NEW_ENTRIES | {"no-jwt"},
}


def expected_failing_cases(suite: str, errors: frozenset[str]) -> list[str]:
    cases = cases_of(suite, errors) | (message_cases(suite) if "no-jwt" in errors else frozenset())
    return sorted(cases)


#: The fast tier keeps one pair (the first page against the latest server); the full tier runs every pair.
FAST_PAIR = (FIRST, LATEST)


@pytest.mark.parametrize(("suite", "server"), [
    pair if pair == FAST_PAIR else pytest.param(*pair, marks=pytest.mark.slow) for pair in sorted(DIFFERENCES)
], ids=lambda v: v)
def test_a_version_fails_another_versions_server_exactly_on_their_differences(
        tmp_path: Path, suite: str, server: str) -> None:
    errors = DIFFERENCES[(suite, server)]
    outcome = run_versions(tmp_path, suite, server)
    assert outcome.run.returncode == TESTS_FAILED, outcome.tail()
    assert outcome.failed == expected_failing_cases(suite, errors), outcome.tail()
    assert outcome.report["result"] == "FAILED" and outcome.junit["dfns_result"] == "FAILED"
    verdicts = outcome.verdicts()
    assert sorted(i for i, v in verdicts.items() if v == "failed") == sorted(errors), verdicts
    assert {v for i, v in verdicts.items() if i not in errors} == {"verified", "not provoked"}, verdicts
    assert_names_the_versions(outcome, suite, server)


@pytest.mark.slow  # a benign variation, as the mutation matrix's: the full tier's
def test_the_first_version_still_passes_a_server_of_the_later_edit_of_the_day(tmp_path: Path) -> None:
    """The later edit only added errors: a server built on it certifies against the first edit too."""
    outcome = run_versions(tmp_path, FIRST, EXTENDED)
    assert outcome.run.returncode == 0 and outcome.failed == [], outcome.tail()
    assert_names_the_versions(outcome, FIRST, EXTENDED)


# -- choosing a version: set-up errors, and what a collection-only run lists ---------------------------------

USAGE_ERROR = 4


def test_an_unknown_version_is_one_usage_error_naming_the_versions() -> None:
    """End to end, one spelling: exit 4 and one line. Every spelling is checked in-process (unit/test_options.py)."""
    args = ("--dfns-contract", "2024-13-01")
    run = run_suite(*args, "--dfns-list")
    assert run.returncode == USAGE_ERROR, run.output
    assert "no such published version of the errors page; choose one of: %s" % ", ".join(published_contracts()) \
        in run.output, run.output
    assert "Traceback" not in run.output and run.output.count("ERROR:") == 1, run.output


@pytest.mark.parametrize("version", [FIRST, EXTENDED, LATEST])
def test_the_list_is_the_selected_versions(tmp_path: Path, version: str) -> None:
    path = tmp_path / "list.json"
    run = run_suite("--dfns-contract", version, "--dfns-list", "--dfns-list-json", str(path))
    assert run.returncode == 0, run.output
    listed = json.loads(path.read_text())
    catalog = load_contract(version)
    assert listed["contract"] == version and [e["id"] for e in listed["errors"]] == [e.id for e in catalog.errors]
    assert listed["catalog"]["path"].endswith("schemas/contracts/%s.json" % version)
    assert "documented errors of contract %s" % version in run.stdout
    assert "dfns contract: %s (getting-started/errors.md as published" % version in run.stdout
    no_jwt = next(e for e in listed["errors"] if e["id"] == "no-jwt")
    assert no_jwt["message"] == catalog.by_id("no-jwt").message
    assert no_jwt["doc"].startswith("getting-started/errors.md (%s) › Common Errors › 401" % version)


def test_a_catalog_of_ones_own_names_no_published_version(tmp_path: Path) -> None:
    """A --dfns-catalog copy that says it is 2025-02-07 is still not the published 2025-02-07."""
    from dfns_contract.contract.schemas import contract_path

    path = tmp_path / "draft.json"
    path.write_text(contract_path(LATEST).read_text())
    listed = tmp_path / "list.json"
    run = run_suite("--dfns-catalog", str(path), "--dfns-list", "--dfns-list-json", str(listed))
    assert run.returncode == 0, run.output
    assert json.loads(listed.read_text())["contract"] is None
    assert "dfns contract: none: the catalog %s (it says version %s" % (path, LATEST) in run.stdout, run.stdout


def test_a_login_code_spent_by_an_earlier_run_is_not_verified_not_failed(tmp_path: Path) -> None:
    """The profile's loginCode is single use: a second run against the same server cannot use it again. That is
    the profile's state, not the contract's: the case is skipped saying how to give a fresh code (the first run,
    the control, verifies it)."""
    from dfns_contract.server.runner import start_server

    with start_server(contract="2024-08-19-extended") as server:
        profile = tmp_path / "profile.json"
        profile.write_text(json.dumps(server.profile))
        args = ("--dfns-contract", "2024-08-19-extended", "--base-url", server.url, "--dfns-profile", str(profile),
                "-k", "login-invalid-code-reused", "-rs")
        first, second = run_suite(*args), run_suite(*args)
    assert first.returncode == 0 and "1 passed" in first.stdout, first.output[-3000:]
    assert second.returncode == 0 and "1 skipped" in second.stdout, second.output[-3000:]
    assert "the profile's loginCode was refused at its first use (HTTP 403)" in second.stdout
    assert "DFNS_LOGIN_CODE" in second.stdout and "FAILED" not in second.stdout
