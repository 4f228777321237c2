"""Units of what a person reads: the table at any width and verbosity, the cleanup lines, the list, a property's failure.

The runs that show them in a terminal, a CI log, a report and an event stream
are ``selftests/runs/test_reading.py``.
"""

from __future__ import annotations

import pytest

from dfns_contract.contract.binding import load_catalog
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.cleanup import NOT_RESTORED
from dfns_contract.contract.expectations import ContractViolation
from dfns_contract.contract.schemas import problems
from dfns_contract.contract.failure_record import FailureRecord
from dfns_contract.plugin.failures import _without_fixtures, contract_failures, failure_text, record_of
from dfns_contract.reporting.cleanup import TITLE as CLEANUP_TITLE
from dfns_contract.reporting.cleanup import CleanupView, cleanup_view
from dfns_contract.reporting.html import render_html
from dfns_contract.reporting.listing import ListedTest, ListTarget, build_list, list_lines
from dfns_contract.reporting.terminal import choose_columns, row_line, write_table
from dfns_contract.reporting.verdicts import Results, Row

LONG_MESSAGE = "{limitedPrincipalKind} {limitedPrincipalId} is not authorized to perform operation (Auth:Apps:Update)"
CATALOG = Catalog((
    DocumentedError("nonce-missing-or-invalid", "Common › 400", "Nonce header is missing or invalid", 400,
                    "request nonce is missing or invalid", "read-only"),
    DocumentedError("forbidden-operation", "Common › 403", "Caller does not have access to the requested resource",
                    403, LONG_MESSAGE, "writes-on-success"),
), "c.json")


class Recorder:
    """A terminal writer that keeps the lines (the plugin hands ``write_table`` a masking one)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def section(self, title: str, **markup: bool) -> None:
        self.lines.append("== %s ==" % title)

    def write(self, text: str, **markup: bool) -> None:
        self.lines.append(text)

    def write_line(self, text: str, **markup: bool) -> None:
        self.lines.append(text)


def rows(*outcomes: str, reason: str = "profile keys missing: limitedAuthToken") -> list[Row]:
    results = Results()
    for error, outcome in zip(CATALOG.errors, outcomes, strict=True):
        results.record(error.id, error.id + "-case", when="call", outcome=outcome,
                       skip_reason=reason if outcome == "skipped" else None)
    return results.rows(CATALOG, None)


def table(table_rows: list[Row], *, width: int, verbosity: int) -> list[str]:
    out = Recorder()
    write_table(out, table_rows, None, require_all=False, strict_drift=False, word="PASSED", width=width,
                verbosity=verbosity)
    return out.lines


# -- the table ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width, summary, message", [(80, False, False), (160, True, False), (260, True, True)])
def test_the_table_shows_a_column_only_where_it_fits_whole(width, summary, message):
    """80 columns: verdict, status, id and detail; wider: the summary, then the message. Nothing is cut."""
    columns = choose_columns(rows("passed", "skipped"), width)
    assert (columns.summary, columns.message) == (summary, message)
    lines = [row_line(row, columns) for row in rows("passed", "skipped")]
    assert all(len(line) <= width - 1 or line.endswith("limitedAuthToken") for line in lines), lines
    assert "…" not in "".join(lines)
    assert ("Caller does not have access to the requested resource" in lines[1]) == summary
    assert (LONG_MESSAGE in lines[1]) == message


def test_each_row_names_the_errors_id_which_k_takes():
    lines = table(rows("passed", "failed"), width=80, verbosity=0)
    assert any(line.startswith("  verified") and " nonce-missing-or-invalid " in line for line in lines), lines
    assert any(line.startswith("  FAILED") and " forbidden-operation " in line for line in lines), lines


def test_the_table_and_the_word_name_the_contract():
    """The same ids mean other messages in another version: the title and the word's line say which."""
    out = Recorder()
    write_table(out, rows("passed", "passed"), None, require_all=False, strict_drift=False, word="PASSED",
                width=100, verbosity=-1, contract="contract 2025-02-07")
    assert out.lines[0] == "== documented errors of contract 2025-02-07 (getting-started/errors.md) =="
    assert out.lines[-1].startswith("dfns verdict: PASSED against the embedded reference server (not a live "
                                    "environment) under contract 2025-02-07: "), out.lines


@pytest.mark.parametrize("verbosity, expected", [
    (0, ["== documented errors (getting-started/errors.md) ==", "heading", "Common › 400", "nonce", "Common › 403",
         "forbidden", "totals", "verdict"]),
    (-1, ["== documented errors (getting-started/errors.md) ==", "nonce", "forbidden", "totals", "verdict"]),
    (-2, ["forbidden", "verdict"]),
], ids=["default", "-q", "-qq"])
def test_quieter_runs_write_fewer_lines(verbosity, expected):
    """-q: one line per documented error; -qq: only what was not verified, and the word."""
    lines = table(rows("passed", "skipped"), width=100, verbosity=verbosity)
    kinds = []
    for line in lines:
        kinds.append(line if line.startswith(("==", "Common")) else
                     "heading" if line.startswith("  verdict") else
                     "nonce" if "nonce-missing-or-invalid" in line else
                     "forbidden" if "forbidden-operation" in line else
                     "totals" if line.startswith("documented errors:") else
                     "verdict" if line.startswith("dfns verdict:") else line)
    assert kinds == expected


# -- the cleanup -------------------------------------------------------------------------------------------

FOUND = ["otherAppId ap-1: already active", "[gw1] appId ap-2: already active"]
PUT_BACK = "otherAppId ap-1: re-activated"
LEFT = "%s: otherAppId ap-1 may be left inactive: timed out; to put it back, activate it" % NOT_RESTORED


def test_a_green_run_that_left_nothing_changed_says_so_in_one_line():
    view = cleanup_view(FOUND, passed=True, verbosity=0)
    assert view.title is None
    assert view.lines == [("dfns cleanup: nothing was left changed (2 changes checked)", False)]
    assert cleanup_view(FOUND, passed=True, verbosity=-2).lines == []
    assert cleanup_view([], passed=True, verbosity=0).lines == []


def test_what_was_put_back_is_listed_and_verbose_lists_everything():
    view = cleanup_view(FOUND + [PUT_BACK], passed=True, verbosity=0)
    assert view.title == CLEANUP_TITLE and (PUT_BACK, False) in view.lines
    quiet = cleanup_view(FOUND + [PUT_BACK], passed=True, verbosity=-1)
    assert [line for line, _ in quiet.lines] == [PUT_BACK, "dfns cleanup: 3 changes checked: 1 put back, "
                                                 "2 found as it should be, 0 not restored"]
    assert len(cleanup_view(FOUND, passed=True, verbosity=1).lines) == 3


def test_a_run_that_did_not_pass_says_what_it_checked():
    assert cleanup_view([], passed=False, verbosity=0).title == CLEANUP_TITLE
    assert cleanup_view(FOUND, passed=False, verbosity=-1) == CleanupView(
        None, [("dfns cleanup: 2 changes checked: 0 put back, 2 found as it should be, 0 not restored", False)])
    assert cleanup_view(FOUND, passed=False, verbosity=-2).lines == []


def test_what_is_left_changed_shows_at_every_verbosity_in_red():
    for verbosity in (1, 0, -1, -2):
        view = cleanup_view(FOUND + [LEFT], passed=False, verbosity=verbosity)
        assert (LEFT, True) in view.lines and view.title == CLEANUP_TITLE
        assert view.lines[-1] == ("dfns cleanup: the run fails because 1 state change was not restored; put it "
                                  "back by hand (see above)", True)


# -- the list ----------------------------------------------------------------------------------------------


def listed(catalog: Catalog) -> list[ListedTest]:
    tests = [ListedTest("t.py::test_documented_error[%s]" % case.id, case.id, case.error.id, (), case.id != "no-jwt-missing")
             for case in catalog.cases()]
    return tests + [ListedTest("m.py::test_model", "test_model", None, ("nonce-reused",), True)]


@pytest.mark.parametrize("target", [
    ListTarget(None, None, None, skips_destructive=False),
    ListTarget("https://user:pw@api.dfns.io", "p.json", lambda keys: [k for k in keys if k != "appId"],
               skips_destructive=True),
], ids=["embedded", "sensitive-live"])
def test_the_list_validates_against_its_schema_and_names_no_secret(target):
    catalog = load_catalog()
    data = build_list(catalog, listed(catalog), target, contract="2024-08-19")
    assert problems("errors-list.json", data) == []
    assert "pw@" not in str(data) and data["target"]["contacted"] is False
    by_id = {error["id"]: error for error in data["errors"]}
    assert by_id["no-jwt"]["cases"][0] == {"id": "no-jwt-missing", "nodeid": "t.py::test_documented_error[no-jwt-missing]",
                                           "selected": False}
    assert [test["id"] for test in by_id["nonce-reused"]["exercisedBy"]] == ["test_model"]
    if target.base_url:
        assert by_id["nonce-reused"]["missingProfileKeys"] == ["authToken"]
        assert "sensitive target" in by_id["unknown-app"]["skip"] and "DFNS_AUTH_TOKEN" in by_id["nonce-reused"]["skip"]
    else:
        assert all(error["skip"] is None and error["missingProfileKeys"] is None for error in data["errors"])


def test_the_list_is_one_line_per_error_at_q():
    catalog = load_catalog()
    data = build_list(catalog, listed(catalog), ListTarget(None, None, None, skips_destructive=False), contract=None)
    quiet = [text for text, _ in list_lines(data, width=80, verbosity=-1)]
    assert len(quiet) == len(catalog.errors) and quiet[0].startswith("nonce-missing-or-invalid ")
    full = [text for text, _ in list_lines(data, width=80, verbosity=0)]
    assert any("no-jwt-not-bearer" in line for line in full) and not any("no-jwt-missing" in line for line in full)
    assert any("(1 deselected)" in line for line in full)


# -- a property's failure ----------------------------------------------------------------------------------


def test_a_failed_property_reads_like_a_case_with_its_example_and_replay():
    record = FailureRecord("[fuzz X-DFNS-NONCE, tier empty]", doc="errors.md › Nonce",
                           curl="curl -sS -i -X GET http://127.0.0.1:1/auth/apps")
    note = ("Falsifying example: test_fuzz(\n    dfns_client=<DfnsClient object at 0x1>,\n"
            "    dfns_error=DocumentedError(id='x',\n     section='s'),\n    drawn=Drawn(value=''),\n)")
    text = failure_text("test_fuzz", "documented error nonce-missing-or-invalid", [record],
                        [[note, "You can reproduce this failure by adding @seed(1) to this test"]],
                        {"dfns_client", "dfns_error"}, "pytest t.py::test_fuzz --hypothesis-seed=7")
    assert text.splitlines()[:3] == ["[test_fuzz] the contract is broken (documented error nonce-missing-or-invalid)",
                                     "[fuzz X-DFNS-NONCE, tier empty]", "  doc:      errors.md › Nonce"]
    assert "curl -sS -i -X GET" in text and "drawn=Drawn(value='')" in text
    assert "DfnsClient" not in text and "section=" not in text and "@seed(" not in text
    assert text.endswith("  replay:   pytest t.py::test_fuzz --hypothesis-seed=7")


def test_a_record_naming_its_drawn_value_leaves_out_the_batch_that_repeats_it():
    """Each drawn value once: the record's ``drawn``; Hypothesis' listing of the whole batch is left out (control:
    a record without a drawn value keeps the example)."""
    batch = "Failing test case: test_fuzz(\n    batch=[(Drawn(value='v1'),), (Drawn(value='v2'),)],\n)"
    named = failure_text("t", "documented error no-jwt", [FailureRecord("[fuzz]", drawn="'v1'")], [[batch]], set(), "x")
    unnamed = failure_text("t", "documented error no-jwt", [FailureRecord("[fuzz]")], [[batch]], set(), "x")
    assert named.count("v1") == 1 and "batch=" not in named
    assert "batch=" in unnamed and unnamed.count("v1") == 1


def test_an_assert_keeps_its_message_not_pytests_explanation():
    error = AssertionError("[race] 2 passed, expected exactly 1\nGET /auth/apps\nassert 2 == 1\n +  where 2 = len([])")
    record = record_of(error).about(doc="errors.md › Reused")
    text = failure_text("test_race", "documented error nonce-reused", [record], [[]], set(), "pytest x")
    assert "[race] 2 passed" in text and "assert 2 == 1" not in text and "where" not in text
    assert "  doc:      errors.md › Reused" in text.splitlines()  # the plugin filled in where the page says it


def test_several_failures_are_numbered_under_what_hypothesis_said():
    text = failure_text("test_fuzz", "documented error no-jwt", [FailureRecord("first"), FailureRecord("second")],
                        [[], []], set(), "pytest x", group="Hypothesis found 2 distinct failures.")
    assert text.splitlines()[1:6] == ["  hypothesis: Hypothesis found 2 distinct failures.", "failure 1 of 2:", "first",
                                      "failure 2 of 2:", "second"]


def test_only_the_contracts_failures_lose_their_traceback():
    violation = ContractViolation("broken")
    assert contract_failures(violation) == [violation]
    assert contract_failures(ExceptionGroup("two", [violation, AssertionError("x")]))[0] is violation
    assert contract_failures(ExceptionGroup("mixed", [violation, TypeError("a bug of a test")])) == []
    assert contract_failures(TypeError("a bug of a test")) == []


def test_a_fixture_spanning_lines_is_dropped_whole_from_the_example():
    note = "f(\n    client=C(\n        a=1,\n    ),\n    drawn='x',\n)"
    assert _without_fixtures(note, {"client"}) == "f(\n    drawn='x',\n)"


# -- the HTML ----------------------------------------------------------------------------------------------


def report_with(cases: list[dict], others: list[dict]) -> dict:
    return {"result": "INCOMPLETE", "exitStatus": 1, "finishedAt": "t", "startedAt": "t", "durationSeconds": 1.0,
            "target": {"description": "x", "faults": [], "profile": None, "kind": "embedded", "envOverrides": []},
            "versions": {"python": "3", "pytest": "9", "dfnsContract": "0"}, "catalog": {"path": None},
            "contract": {"version": "2024-08-19", "published": True, "doc": "getting-started/errors.md", "page": "p.md"},
            "errorsPage": None, "totals": {"not verified": 1},
            "errors": [{"id": "nonce-missing-or-invalid", "section": "s", "summary": "S", "status": 400, "message": "m",
                        "verdict": "not verified", "detail": "d", "page": None, "cases": cases}],
            "otherChecks": others}


def case(nodeid: str, outcome: str, reason: str | None = None, details: str | None = None) -> dict:
    return {"nodeid": nodeid, "outcome": outcome, "skipReason": reason, "failure": "one line" if details else None,
            "evidence": None, "details": details}


def test_the_html_groups_a_repeated_skip_reason_with_its_count():
    reason = "profile keys missing: appId"
    cases = [case("t::test[c%d]" % n, "skipped", reason) for n in range(13)]
    page = render_html(report_with(cases + [case("t::test[other]", "skipped", "sensitive target")], []))
    assert page.count(reason) == 1 and "skipped ×13" in page and "skipped ×1<" in page
    assert "c0, c1, c2" in page and page.count("sensitive target") == 1


def test_the_html_shows_a_property_failure_and_the_replay_model():
    details = "[test_fuzz] the contract is broken\n  request:\n    curl -sS -i -X GET http://x\n  replay:   pytest t"
    page = render_html(report_with([case("t::test_fuzz", "failed", details=details)],
                                   [{"nodeid": "m::test_model", "exercises": ["nonce-reused"], "outcome": "failed",
                                     "failure": "[test_model] broken", "details": "state = Bound()"}]))
    assert '<pre class="details">[test_fuzz] the contract is broken' in page and "curl -sS -i -X GET" in page
    assert "m::test_model" in page and "state = Bound()" in page and "exercises nonce-reused" in page
