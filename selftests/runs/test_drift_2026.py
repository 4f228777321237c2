"""Drift for today's API Errors page (contract 2026): statuses as sections, the messages its examples give.

The small page under selftests/data/ is written for these tests; the others
read the shipped copy of today's page (``dfns-docs-2026/api-errors.md``, the
2026 catalog's ``page``, in the shared reference folder), or a copy of it each
test edits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.catalog import Catalog, DocumentedError, Recognised
from dfns_contract.reporting.drift import DETAILS, STATUSES, DriftError
from dfns_contract.reporting.drift_statuses import parse_status_page
from dfns_contract.reporting.errors_page import catalog_form, compare_page, load_page_for

from selftests.helpers.suite_runner import run_suite
from selftests.runs.test_drift import ERRORS_PAGE, FIXTURES, REFERENCE

LATEST = "2026"
USAGE_ERROR = 4
SMALL_PAGE = FIXTURES / "drift_statuses_small.md"
#: Today's page, where the 2026 catalog says its copy is (its ``page``, relative to the shared reference folder).
TODAYS_PAGE = REFERENCE / load_contract(LATEST).page
needs_todays_page = pytest.mark.skipif(
    not TODAYS_PAGE.is_file() and not os.environ.get("SELFTEST_REQUIRE_ERRORS_PAGE"),
    reason="the copy of today's API Errors page is absent: %s (set SELFTEST_REFERENCE)" % TODAYS_PAGE)
#: One case: the table and the drift count every entry and recognised status anyway.
ONE_CASE = ("tests/test_documented_errors.py", "--dfns-contract", LATEST, "-k", "unknown-wallet")


def entry(id: str, status: int, message: str | None, section: str = "") -> DocumentedError:
    return DocumentedError(id, section or "Common errors › %d" % status, id, status, message, "read-only")


SMALL_CATALOG = Catalog(
    errors=(entry("bad", 400, None, "Common errors › 400 Bad Request"), entry("expired", 401, None),
            entry("wallet", 404, "Wallet not found.", "Common errors › 404 Not Found"), entry("conflict", 409, "dup")),
    source="small catalog of test_drift_2026.py",
    recognised=(Recognised(202, "pending", "held", "Policy pending (202)", "pending"),
                Recognised(429, "rate", "slow down", "Common errors › 429 Too Many Requests")),
)


def test_the_sections_and_the_examples_of_todays_form():
    sections, examples, problems = parse_status_page(SMALL_PAGE.read_text())
    assert [(s.status, s.section, s.summary, s.message) for s in sections] == [
        (400, "Common errors › 400 Bad Request", "Bad Request", None),
        (404, "Common errors › 404 Not Found", "Not Found", "wallet not found"),
        (418, "Common errors › 418 I'm a teapot", "I'm a teapot", None),
        (202, "Policy pending (202)", "Policy pending", None),
    ]
    lines = SMALL_PAGE.read_text().splitlines()
    assert all(lines[s.line - 1].lstrip("#").strip().startswith(s.heading or s.group) for s in sections)
    assert [(x.status, x.message) for x in examples] == [(404, "wallet not found"), (401, "token expired")]
    assert '"message": "wallet not found"' in lines[examples[0].line - 1] and problems == []


def test_each_change_of_todays_form():
    drift = compare_page(SMALL_CATALOG, load_page_for(SMALL_CATALOG, SMALL_PAGE))
    assert [(p.status, p.summary) for p in drift.not_covered] == [(418, "I'm a teapot")]
    assert [e.id for e in drift.stale] == ["expired", "conflict"]  # no 401 or 409 section on the page
    assert [r.status for r in drift.stale_recognised] == [429]
    changes = [(c.status, c.error.id if c.error else None, c.old, c.message) for c in drift.changed]
    assert changes == [(401, None, None, "token expired"), (404, "wallet", "Wallet not found.", "wallet not found")]
    assert drift.matched["wallet"].section == "Common errors › 404 Not Found" and drift.found


def test_the_form_of_a_catalog_is_the_one_its_sections_copy():
    assert catalog_form(SMALL_CATALOG) == STATUSES
    assert catalog_form(load_contract(LATEST)) == STATUSES
    assert catalog_form(load_contract("2025-02-07")) == DETAILS


@needs_todays_page
def test_todays_page_and_the_2026_catalog_agree():
    catalog = load_contract(LATEST)
    page = load_page_for(catalog, TODAYS_PAGE)
    drift = compare_page(catalog, page)
    assert not drift.found, (drift.not_covered, drift.stale, drift.stale_recognised, drift.changed)
    assert page.problems == () and page.format == STATUSES
    on_page = {section.status for section in page.errors}
    assert on_page == {e.status for e in catalog.errors} | {r.status for r in catalog.recognised}
    assert {e.status for e in catalog.errors}.isdisjoint(r.status for r in catalog.recognised)
    assert [(x.status, x.message) for x in page.examples] == [(404, "wallet not found")]


@needs_todays_page
def test_the_details_the_2026_catalog_checks_are_those_of_the_pages_example():
    """The drift compares the examples' messages, not their details: this keeps the catalog's copy of the
    example's details (the 404's ``walletId`` and ``orgId``) in step with the page it was written from."""
    from dfns_contract.reporting.drift_statuses import json_blocks
    from dfns_contract.reporting.drift import loads_lenient

    examples = [loads_lenient("\n".join(body)) for _, body in json_blocks(TODAYS_PAGE.read_text().splitlines())]
    details = {x["error"]["status"]: sorted(x["error"]["details"]) for x in examples
               if isinstance(x, dict) and isinstance(x.get("error"), dict) and "details" in x["error"]}
    checked = {e.status: sorted(e.body["properties"]["error"]["properties"]["details"]["required"])
               for e in load_contract(LATEST).errors if e.body and e.message is not None and e.status in details}
    assert details == {404: ["orgId", "walletId"]} and checked == details, (details, checked)


@needs_todays_page
@pytest.mark.parametrize("version", ["2024-08-19", "2025-02-07"])
def test_a_page_of_the_other_form_is_one_sentence(version: str):
    with pytest.raises(DriftError, match="this page is in today's API Errors page's form") as caught:
        load_page_for(load_contract(version), TODAYS_PAGE)
    assert "contract %s was written from getting-started/errors.md" % version in str(caught.value)


@needs_todays_page
def test_strict_drift_passes_against_todays_page():
    run = run_suite(*ONE_CASE, "--dfns-errors-doc", str(TODAYS_PAGE), "--dfns-strict-drift")
    assert run.returncode == 0, run.output[-4000:]
    assert "0 not covered, 0 stale, 0 message changed" in run.output
    assert "7 recognised (no case provokes them; never a failure)" in run.output


def edited_copy(tmp_path: Path) -> Path:
    """Today's page with a status added (418), one removed (410) and the example's message reworded."""
    text = TODAYS_PAGE.read_text(encoding="utf-8")
    edits = [('"message": "wallet not found"', '"message": "Wallet not found."'),
             ("### 410 Gone\n\nThe resource was permanently deleted and can no longer be accessed.\n\n", ""),
             ("### 429 Too Many Requests", "### 418 I'm a teapot\n\nThe server refuses to brew coffee.\n\n"
                                           "### 429 Too Many Requests")]
    for old, new in edits:
        assert old in text, "today's page changed: the edit of this test no longer applies: %r" % old
        text = text.replace(old, new)
    path = tmp_path / "api-errors.md"
    path.write_text(text, encoding="utf-8")
    return path


@needs_todays_page
def test_an_edited_copy_is_named_change_by_change_and_fails_strict_drift(tmp_path: Path):
    page = edited_copy(tmp_path)
    listed = run_suite(*ONE_CASE, "--dfns-errors-doc", str(page))
    assert listed.returncode == 0, listed.output[-4000:]
    out = listed.output
    assert "1 not covered, 1 stale, 1 message changed" in out
    assert "\"I'm a teapot\": on the errors page (%s:119, 'Common errors › 418 I'm a teapot'), a status the catalog " \
           "neither tests nor recognises" % page in out
    assert "no longer on the errors page (%s): no section of status 410; recognised:" % page in out
    assert ('the errors page now documents "Wallet not found." for 404 (%s:31); the catalog entry unknown-wallet '
            'checks "wallet not found"' % page) in out

    strict = run_suite(*ONE_CASE, "--dfns-errors-doc", str(page), "--dfns-strict-drift")
    assert strict.returncode == 1, strict.output[-4000:]
    assert ("--dfns-strict-drift: the run fails because the errors page and the catalog differ; "
            "not covered: 418 I'm a teapot (line 119); stale: 410 recognised (Common errors › 410 Gone); "
            'message changed: 404 unknown-wallet "wallet not found" → "Wallet not found." (line 31).') in strict.output


@pytest.mark.skipif(not ERRORS_PAGE.is_file() and not os.environ.get("SELFTEST_REQUIRE_ERRORS_PAGE"),
                    reason="the reference copy of the errors page is absent: %s" % ERRORS_PAGE)
def test_the_2024_page_under_2026_is_one_usage_error():
    run = run_suite(*ONE_CASE, "--dfns-errors-doc", str(ERRORS_PAGE), "--dfns-list")
    assert run.returncode == USAGE_ERROR, run.output
    assert "this page is in the 2024/2025 errors page's form" in run.output
    assert "contract 2026 was written from api-reference/error-codes" in run.output
    assert run.output.count("ERROR:") == 1 and "Traceback" not in run.output
