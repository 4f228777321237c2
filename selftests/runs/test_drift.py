"""Drift between the errors page and the catalog: parsing the page as published, matching, and the run's gate.

The fixtures under selftests/data/ are small pages written for these
tests; the last tests read the shipped copy of the real page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.schemas import published_contracts
from dfns_contract.reporting.errors_page import catalog_form
from dfns_contract.reporting.drift import (
    DETAILS,
    DriftError,
    ErrorsPage,
    PageError,
    compare,
    load_errors_page,
    loads_lenient,
    matches,
    parse_errors_page,
    strip_trailing_commas,
)

from selftests.helpers.suite_runner import ROOT, run_suite

FIXTURES = Path(__file__).parents[1] / "data"
#: The published page, read-only beside the checkout; SELFTEST_ERRORS_PAGE points elsewhere.
ERRORS_PAGE = Path(os.environ.get("SELFTEST_ERRORS_PAGE")
                   or Path(__file__).resolve().parents[3] / "shared/reference/dfns-docs/getting-started/errors.md")
#: Where CI found the page it sets SELFTEST_REQUIRE_ERRORS_PAGE: these checks then run and fail, never skip.
needs_errors_page = pytest.mark.skipif(
    not ERRORS_PAGE.is_file() and not os.environ.get("SELFTEST_REQUIRE_ERRORS_PAGE"),
    reason="the reference copy of the errors page is absent: %s (set SELFTEST_ERRORS_PAGE)" % ERRORS_PAGE)
USAGE_ERROR = 4
#: One case is enough for the gate: the table and the drift count every catalog entry anyway.
ONE_CASE = ("tests/test_documented_errors.py", "-k", "nonce-reused-immediately")


def documented(id: str, status: int, message: str, **params: str) -> DocumentedError:
    return DocumentedError(id, "Common Errors › %d" % status, id, status, message, "read-only", params=params)


FORBIDDEN = documented(
    "forbidden-operation", 403,
    "{limitedPrincipalKind} {limitedPrincipalId} is not authorized to perform operation ({operation})",
    operation="Auth:Apps:Update",
)
SMALL_CATALOG = Catalog(
    errors=(
        documented("nonce-invalid", 400, "request nonce is missing or invalid"),
        documented("nonce-reused", 400, "request nonce has already been used"),
        FORBIDDEN,
    ),
    source="small catalog of test_drift.py",
)


def test_an_added_and_a_removed_error_are_exactly_the_drift():
    drift = compare(SMALL_CATALOG, load_errors_page(FIXTURES / "drift_small.md"))
    assert [(e.status, e.summary, e.message, e.group) for e in drift.not_covered] == [
        (404, "Wallet not found", "wallet not found", "Wallet Errors")]
    assert [e.id for e in drift.stale] == ["nonce-reused"]
    assert drift.found
    assert set(drift.matched) == {"nonce-invalid", "forbidden-operation"}


def test_the_shipped_catalog_against_an_edited_copy_of_the_page(catalog):
    drift = compare(catalog, load_errors_page(FIXTURES / "errors_drift.md"))
    assert [(e.section, e.summary, e.status) for e in drift.not_covered] == [
        ("Credential Management Errors › 409 - Conflict", "Credential already exists", 409)]
    assert [e.id for e in drift.stale] == ["registration-code-expired"]


def test_the_page_quirks_are_tolerated():
    errors, problems = parse_errors_page((FIXTURES / "drift_quirks.md").read_text())
    assert [(e.group, e.heading, e.status, e.summary, e.message) for e in errors] == [
        ("Common Errors", "400 - Bad Request", 400, "Upper-case fence, trailing comma", "upper, trailing,"),
        ("Common Errors", "400 - Bad Request", 400, "Lower-case fence, summary over lines",
         'lower case, a "quoted" part, } and ] inside'),
        ("Common Errors", "401 - Unauthorized", 401, "Tilde fence, no language", "tilde"),
        ("Common Errors", "401 - Unauthorized", 401, "No example at all", None),
    ]
    assert len(problems) == 1 and "No example at all" in problems[0] and "line " in problems[0]


def test_trailing_commas_are_dropped_outside_strings_only():
    assert strip_trailing_commas('{"a": [1, 2,], "b": "x,}",\n}') == '{"a": [1, 2], "b": "x,}"\n}'
    assert loads_lenient('{"error": {"message": "m",},}') == {"error": {"message": "m"}}
    assert loads_lenient("not json at all") is None


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (403, "CustomerEmployee us-24vwa is not authorized to perform operation (Auth:Apps:Update)", True),
        (403, "ServiceAccount sa-1 is not authorized to perform operation (Auth:Apps:Update)", True),
        (403, "CustomerEmployee us-24vwa is not authorized to perform operation (Auth:Apps:Read)", False),
        (403, " is not authorized to perform operation (Auth:Apps:Update)", False),
        (403, "CustomerEmployee us-24vwa is not authorized to perform operation (Auth:Apps:Update).", False),
        (401, "CustomerEmployee us-24vwa is not authorized to perform operation (Auth:Apps:Update)", False),
    ],
)
def test_the_templated_message_matches_concrete_examples(status, message, expected):
    page_error = PageError("Common Errors", "%d" % status, status, "summary", message, 1)
    assert matches(FORBIDDEN, page_error) is expected


def test_a_template_with_the_wrong_operation_is_stale_and_the_example_not_covered():
    page = load_errors_page(FIXTURES / "drift_small.md")
    wrong = documented("forbidden-operation", 403, FORBIDDEN.message, operation="Auth:Apps:Read")
    drift = compare(Catalog(errors=(wrong,), source="x"), page)
    assert [e.id for e in drift.stale] == ["forbidden-operation"]
    assert 403 in [e.status for e in drift.not_covered]


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda tmp: tmp / "absent.md", "no such file"),
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: _write(tmp / "prose.md", "# Hello\n\nNo errors here.\n"), "no documented error found"),
        (lambda tmp: _write(tmp / "binary.md", b"\xff\xfe\x00"), "not UTF-8"),
    ],
)
def test_an_unusable_page_is_one_sentence(tmp_path, make, fragment):
    with pytest.raises(DriftError, match="--dfns-errors-doc") as caught:
        load_errors_page(make(tmp_path))
    assert fragment in str(caught.value)


def _write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@needs_errors_page
def test_the_real_page_and_the_catalog_agree(catalog):
    page = load_errors_page(ERRORS_PAGE)
    drift = compare(catalog, page)
    assert drift.not_covered == [], "documented on the page, not in the catalog: %s" % drift.not_covered
    assert drift.stale == [], "in the catalog, no longer on the page: %s" % [e.id for e in drift.stale]
    assert page.problems == ()
    assert len(page.errors) == len(catalog.errors)


# -- the plugin: --dfns-errors-doc and --dfns-strict-drift in a real run -------------------------------------


def test_a_bad_errors_doc_is_one_usage_error():
    run = run_suite(*ONE_CASE, "--dfns-errors-doc", "no/such/errors.md")
    assert run.returncode == USAGE_ERROR, run.output
    assert "--dfns-errors-doc no/such/errors.md: no such file" in run.output
    assert "Traceback" not in run.output


def test_strict_drift_without_a_page_is_a_usage_error():
    run = run_suite(*ONE_CASE, "--dfns-strict-drift")
    assert run.returncode == USAGE_ERROR, run.output
    assert "--dfns-strict-drift needs --dfns-errors-doc PATH" in run.output
    assert "Traceback" not in run.output


def test_drift_is_listed_and_strict_drift_fails_the_run():
    page = str((FIXTURES / "errors_drift.md").relative_to(ROOT))
    listed = run_suite(*ONE_CASE, "--dfns-errors-doc", page)
    assert listed.returncode == 0, listed.output
    assert re.search(r"not covered +409 +– +\"Credential already exists\": on the errors page", listed.output), listed.output
    assert re.search(r"stale +400 +registration-code-expired +no longer on the errors page", listed.output), listed.output
    assert "1 not covered, 1 stale" in listed.output

    strict = run_suite(*ONE_CASE, "--dfns-errors-doc", page, "--dfns-strict-drift")
    assert strict.returncode == 1, strict.output
    assert ("--dfns-strict-drift: the run fails because the errors page and the catalog differ; "
            "not covered: 409 Credential already exists (line 155); stale: registration-code-expired") in strict.output


@needs_errors_page
def test_strict_drift_passes_against_the_real_page():
    run = run_suite(*ONE_CASE, "--dfns-errors-doc", str(ERRORS_PAGE), "--dfns-strict-drift")
    assert run.returncode == 0, run.output
    assert "0 not covered, 0 stale" in run.output


# -- every published version against its own copy of the page, and against the others' ----------------------

#: The shared reference folder; each catalog names its copy of the page in it (``page``: errors-page-versions/…).
REFERENCE = Path(os.environ.get("SELFTEST_REFERENCE") or Path(__file__).resolve().parents[3] / "shared/reference")
needs_page_versions = pytest.mark.skipif(
    not (REFERENCE / "errors-page-versions").is_dir() and not os.environ.get("SELFTEST_REQUIRE_ERRORS_PAGE"),
    reason="the copies of the published pages are absent: %s/errors-page-versions (set SELFTEST_REFERENCE)" % REFERENCE)
#: The versions whose page --dfns-errors-doc compares (2026: today's API Errors page, test_drift_2026.py).
VERSIONS = [version for version in published_contracts() if load_contract(version).comparable]
#: Those of the 2024/2025 form: <details> entries, one per message.
DETAILS_VERSIONS = [version for version in VERSIONS if catalog_form(load_contract(version)) == DETAILS]
#: The eleven errors the page gained later on 2024-08-19 (2024-08-19-extended), as (section, status, message).
ADDED_LATER = sorted([
    ("Delegated Authentication Errors › 400 - Bad Request", 400, "User account has been deactivated."),
    ("Delegated Authentication Errors › 401 - Unauthorized", 401, "User not found"),
    ("User Login Errors › 400 - Bad Request", 400, "User account has been deactivated."),
    ("User Login Errors › 401 - Unauthorized", 401, "User not found"),
    ("User Login Errors › 401 - Unauthorized", 401, "User does not have a credential that can be used for the application."),
    ("User Login Errors › 403 - Forbidden", 403, "Invalid code"),
    ("User Action Signing Errors › 400 - Bad Request", 400, "User account has been deactivated."),
    ("User Action Signing Errors › 400 - Bad Request", 400, "Challenge token is not valid."),
    ("User Action Signing Errors › 401 - Unauthorized", 401, "User not found"),
    ("User Action Signing Errors › 401 - Unauthorized", 401, "User does not have a credential that can be used for the application."),
    ("User Recovery Errors › 401 - Unauthorized", 401, "Credential cannot be used as a recovery factor."),
])


def page_of(version: str) -> Path:
    return REFERENCE / load_contract(version).page


def test_the_published_versions():
    assert VERSIONS == ["2024-08-19", "2024-08-19-extended", "2025-02-07", "2026"]
    assert DETAILS_VERSIONS == VERSIONS[:3]
    assert [load_contract(v).page for v in VERSIONS] == [
        "errors-page-versions/2024-08-19-first.md", "errors-page-versions/2024-08-19-extended.md",
        "errors-page-versions/2025-02-07.md", "dfns-docs-2026/api-errors.md"]


@needs_page_versions
@pytest.mark.parametrize("version", DETAILS_VERSIONS)
def test_each_version_and_its_own_page_agree(version: str):
    catalog = load_contract(version)
    page = load_errors_page(page_of(version))
    drift = compare(catalog, page)
    assert drift.not_covered == [], "documented on the page, not in the catalog: %s" % drift.not_covered
    assert drift.stale == [], "in the catalog, no longer on the page: %s" % [e.id for e in drift.stale]
    assert page.problems == () and len(page.errors) == len(catalog.errors)
    # each entry matched the page error of its own section (a message on several sections counts once each)
    assert [drift.matched[e.id].section for e in catalog.errors] == [e.section for e in catalog.errors]


def _not_covered(drift) -> list[tuple[str, int, str | None]]:
    return sorted((p.section, p.status, p.message) for p in drift.not_covered)


@needs_page_versions
def test_a_version_against_the_others_pages_is_exactly_their_difference():
    """The control of the test above: the same comparison finds what a version lacks or holds too much."""
    first, extended, latest = (load_contract(v) for v in DETAILS_VERSIONS)
    first_page, extended_page, latest_page = (load_errors_page(page_of(v)) for v in DETAILS_VERSIONS)
    drift = compare(first, extended_page)
    assert (_not_covered(drift), drift.stale) == (ADDED_LATER, [])
    drift = compare(extended, first_page)
    assert drift.not_covered == [] and len(drift.stale) == 11 and "no-jwt" not in drift.stale_ids
    drift = compare(latest, extended_page)
    assert (_not_covered(drift), [e.id for e in drift.stale]) == (
        [("Common Errors › 401 - Unauthorized", 401, "Not Authorized.")], ["no-jwt"])
    drift = compare(extended, latest_page)
    assert (_not_covered(drift), [e.id for e in drift.stale]) == (
        [("Common Errors › 401 - Unauthorized", 401, "user token is missing or invalid")], ["no-jwt"])


def test_one_message_on_several_sections_is_matched_once_per_section():
    """Three "User not found" on the page, two in the catalog: the one of the missing section is not covered."""
    def on_page(group: str, line: int) -> PageError:
        return PageError(group, "401 - Unauthorized", 401, "User not found", "User not found", line)

    def entry(id: str, group: str) -> DocumentedError:
        return DocumentedError(id, "%s › 401 - Unauthorized" % group, "User not found", 401, "User not found", "read-only")

    page = ErrorsPage("p.md", "0" * 64, (on_page("A", 1), on_page("B", 2), on_page("C", 3)))
    drift = compare(Catalog((entry("c", "C"), entry("a", "A")), source="x"), page)
    assert [p.group for p in drift.not_covered] == ["B"] and drift.stale == []
    assert {i: p.group for i, p in drift.matched.items()} == {"a": "A", "c": "C"}
    drift = compare(Catalog((entry("a", "A"), entry("a2", "A"), entry("a3", "A"), entry("a4", "A")), source="x"), page)
    assert drift.not_covered == [] and [e.id for e in drift.stale] == ["a4"]  # a renamed section is no drift


@needs_page_versions
@pytest.mark.parametrize("version", DETAILS_VERSIONS)
def test_strict_drift_passes_for_each_version_against_its_own_page(version: str):
    run = run_suite(*ONE_CASE, "--dfns-contract", version, "--dfns-errors-doc", str(page_of(version)),
                    "--dfns-strict-drift")
    assert run.returncode == 0, run.output
    assert "0 not covered, 0 stale" in run.output and "contract %s" % version in run.output


@needs_page_versions
def test_strict_drift_fails_the_first_version_against_the_latest_page():
    """The control: the default contract against the 2025 page lacks its 11 later errors and its new 401 message."""
    run = run_suite(*ONE_CASE, "--dfns-errors-doc", str(page_of("2025-02-07")), "--dfns-strict-drift")
    assert run.returncode == 1, run.output
    assert "12 not covered, 1 stale" in run.output and "stale: no-jwt" in run.output
