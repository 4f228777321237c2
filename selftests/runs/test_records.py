"""Whole runs: the reports carry the whole verdict as data.

* A list is the same between identical runs, whatever order pytest-randomly
  gives the items (control: it does give them in another order).
* The JSON and HTML reports record the cleanup: a run that put a change back
  lists it (control: a run that changed nothing lists no change).
* In an all-skipped run the verdict line comes after pytest's skip list.
* A failed case's records reach the JSON, the HTML and JUnit (a property).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from selftests.helpers.suite_runner import ROOT, run_suite, suite_environment

BREAK = ("-p", "selftests.helpers.plugins.break_after_deactivate")
OWN_STATE = ("tests/test_documented_errors.py", "-k", "app-modifies-own-state")
#: Read-only, changes nothing on the target.
NOTHING_CHANGED = ("tests/test_documented_errors.py", "-k", "no-jwt-missing")


def randomly(seed: int, *args: str) -> str:
    """``pytest ARGS`` with pytest-randomly shuffling the items by ``seed``; its stdout."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "randomly",
                           "--randomly-seed=%d" % seed, *args],
                          cwd=ROOT, env=suite_environment(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


def test_the_list_is_byte_identical_between_runs_whatever_order_the_items_came_in(tmp_path: Path) -> None:
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    text = [randomly(seed, "--dfns-list", "--dfns-list-json", str(path)) for seed, path in ((1, first), (2, second))]
    assert first.read_bytes() == second.read_bytes()
    shown = [each[each.index("documented errors of contract"):each.index("documented errors listed in")] for each in text]
    assert shown[0] == shown[1] and "cases: " in shown[0]
    # Control: the two seeds do shuffle the items (pytest's own listing of them differs).
    orders = [randomly(seed, "--co", "-q") for seed in (1, 2)]
    assert [line for line in orders[0].splitlines() if "::" in line] != [line for line in orders[1].splitlines() if "::" in line]


def test_the_json_and_html_record_a_change_put_back_and_a_run_changing_nothing_records_none(tmp_path: Path) -> None:
    """As ``runs/test_cleanup.py`` breaks it: a case fails right after it deactivated ``otherAppId``."""
    from dfns_contract.server.runner import start_server

    reports = {}
    with start_server() as server:
        profile = tmp_path / "profile.json"
        profile.write_text(json.dumps(server.profile))
        for name, args, env in (("changed", (*BREAK, *OWN_STATE), {"SELFTEST_BREAK": "error"}),
                                ("control", NOTHING_CHANGED, {})):
            report, page = tmp_path / (name + ".json"), tmp_path / (name + ".html")
            run_suite("--base-url", server.url, "--dfns-profile", str(profile), *args, "--dfns-contract-report",
                      str(report), "--dfns-contract-report-html", str(page), env=env)
            reports[name] = (json.loads(report.read_text())["cleanup"], page.read_text())
    (changed, changed_page), (control, control_page) = reports["changed"], reports["control"]
    assert changed["counts"]["put back"] >= 1, changed
    assert any(change["outcome"] == "put back" and change["line"].startswith("otherAppId") for change in changed["changes"])
    assert "Cleanup: state the run changed on the target" in changed_page and ">put back<" in changed_page
    assert control["changes"] == [] and control["counts"]["put back"] == 0, control
    assert ">put back<" not in control_page


def test_in_an_all_skipped_run_the_verdict_is_the_last_line_after_pytest_s_skip_list(tmp_path: Path) -> None:
    """A profile without ``otherAppId`` skips the cases that need it (``-rs`` lists them); the word comes last."""
    from dfns_contract.server.runner import start_server

    with start_server() as server:
        profile = {key: value for key, value in server.profile.items() if key != "otherAppId"}
        path = tmp_path / "profile.json"
        path.write_text(json.dumps(profile))
        run = run_suite("--base-url", server.url, "--dfns-profile", str(path), "-rs",
                        "tests/test_documented_errors.py", "-k", "unknown-app")
    lines = run.stdout.strip().splitlines()
    skips = [number for number, line in enumerate(lines) if line.startswith("SKIPPED")]
    words = [number for number, line in enumerate(lines) if line.startswith("dfns verdict: INCOMPLETE")]
    assert run.returncode == 0 and skips and " passed" not in lines[-1], run.stdout[-3000:]
    assert len(words) == 1 and words[0] > max(skips), run.stdout[-3000:]
    assert words[0] == len(lines) - 2 and "skipped" in lines[-1]  # then only pytest's closing count


def test_a_failure_s_record_reaches_json_html_and_junit(tmp_path: Path) -> None:
    """The status differed and only the status; control: the case of the same run that passed carries no record."""
    report, page, junit = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "j.xml"
    run = run_suite("tests/test_documented_errors.py", "-k", "unknown-app-get or no-jwt-missing",
                    "--dfns-mock-fault", "auth-status", "--dfns-contract-report", str(report),
                    "--dfns-contract-report-html", str(page), "--junitxml", str(junit))
    assert run.returncode == 1, run.output[-3000:]
    cases = {case["nodeid"].split("[")[-1][:-1]: case for error in json.loads(report.read_text())["errors"]
             for case in error["cases"]}
    [record] = cases["no-jwt-missing"]["failures"]
    assert record["differed"] == ["status"] and record["actual"]["status"] == 403 and record["expected"]["status"] == 401
    assert record["entry"] == "no-jwt" and record["case"] == "no-jwt-missing" and record["kind"] == "contract"
    assert cases["no-jwt-missing"]["failure"] == record["line"] and "differed: status" in record["line"]
    assert cases["unknown-app-get"]["failures"] == [] and cases["unknown-app-get"]["outcome"] == "passed"
    assert '<dl class="record">' in page.read_text() and "<strong>status</strong>" in page.read_text()
    properties = [(p.get("name"), p.get("value")) for p in ElementTree.parse(junit).iter("property")]
    assert ("dfns_failure", record["line"]) in properties
    assert sum(name == "dfns_failure" for name, _ in properties) == 1
