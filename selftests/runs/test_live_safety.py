"""Ready for live environments: safety classes, the sensitive-target mode, exit statuses,
``DFNS_*`` overrides end to end, and failures a person can reproduce.

Each run is the suite in a subprocess against a reference server started here
(``--base-url``), so the test can also look at what the server saw.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests

from dfns_contract.contract.binding import load_catalog
from dfns_contract.client import Exchange
from dfns_contract.server.runner import RunningServer, start_server

from selftests.helpers.suite_runner import SuiteRun, run_suite

SAFETY_CLASSES = {"read-only", "writes-on-success", "writes-if-broken"}
TESTS_FAILED, USAGE_ERROR = 1, 4
LOOPBACK = r"127\.0\.0\.1"
SKIP_REASON = "may change state on a sensitive target (%s): pass --dfns-allow-destructive to run it"
MARKS = ("-p", "selftests.helpers.plugins.record_marks")


def catalog():
    return load_catalog()


def collected_marks(tmp_path: Path) -> list[dict]:
    """Every test of the suite: its node id, the errors its markers name, whether it is destructive."""
    marks = tmp_path / "marks.jsonl"
    run = run_suite(*MARKS, "--collect-only", "-q", env={"SELFTEST_MARKS": str(marks)})
    assert run.returncode == 0, run.output
    return [json.loads(line) for line in marks.read_text().splitlines()]


def destructive_names(tmp_path: Path) -> set[str]:
    return {item["nodeid"].split("::")[-1] for item in collected_marks(tmp_path) if item["destructive"]}


def run_against(server: RunningServer, tmp_path: Path, *args: str, profile: dict | None = None,
                env: dict[str, str] | None = None) -> SuiteRun:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(server.profile if profile is None else profile))
    return run_suite("--base-url", server.url, "--dfns-profile", str(path), *args, env=env)


def junit_outcomes(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (outcome, skip message or failure text)."""
    outcomes = {}
    for case in ElementTree.parse(path).iter("testcase"):
        for outcome in ("failure", "error", "skipped"):
            element = case.find(outcome)
            if element is not None:
                outcomes[case.get("name")] = (outcome, element.get("message") or element.text or "")
                break
        else:
            outcomes[case.get("name")] = ("passed", "")
    return outcomes


# -- safety classes --------------------------------------------------------------------------------


def test_every_catalog_entry_has_a_safety_class():
    errors = catalog().errors
    assert errors and {error.safety for error in errors} <= SAFETY_CLASSES
    assert {"read-only", "writes-on-success", "writes-if-broken"} == {error.safety for error in errors}
    assert next(e for e in errors if e.id == "app-modifies-own-state").safety == "writes-if-broken"


def test_the_destructive_marker_follows_the_safety_class(tmp_path):
    """Every test of the suite (cases, races, fuzzing, the model) is destructive exactly when an error it names is."""
    items = collected_marks(tmp_path)
    safety = {error.id: error.safety for error in catalog().errors}
    for item in items:
        expected = any(safety[error_id] != "read-only" for error_id in item["errors"])
        assert item["destructive"] is expected, item
    destructive = {item["nodeid"] for item in items if item["destructive"]}
    selected = run_suite("--collect-only", "-q", "-m", "destructive")
    assert {line for line in selected.stdout.splitlines() if "::" in line} == destructive
    cases = [item for item in items if "[" in item["nodeid"]]
    assert len(cases) == len(catalog().cases()) and len(destructive) > sum("[" in n for n in destructive) > 0


#: The smallest fuzzing budget: these runs are about which cases run, not what the properties find.
TRIAL = ("--dfns-hypothesis-profile", "trial")


def test_a_sensitive_target_skips_every_destructive_case_and_says_so(tmp_path):
    with start_server() as server:
        run = run_against(server, tmp_path, "--dfns-sensitive-url", LOOPBACK, *TRIAL, "--junitxml", str(tmp_path / "junit.xml"))
        user_actions_spent = len(server.state.user_actions)
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns state-changing cases: skipped (sensitive target; --dfns-allow-destructive to run)" in run.stdout
    outcomes = junit_outcomes(tmp_path / "junit.xml")
    skipped = {name for name, (outcome, _) in outcomes.items() if outcome == "skipped"}
    assert skipped == destructive_names(tmp_path)
    reason = SKIP_REASON % server.url
    assert all(reason in outcomes[name][1] for name in skipped), {name: outcomes[name][1] for name in skipped}
    assert all(outcome == "passed" for name, (outcome, _) in outcomes.items() if name not in skipped)
    assert user_actions_spent == 0, "a state-changing request reached the sensitive target"
    assert "not verified" in run.stdout and reason in run.stdout  # the table says why


def test_allow_destructive_runs_them_on_a_sensitive_target(tmp_path):
    with start_server() as server:
        run = run_against(server, tmp_path, "--dfns-sensitive-url", LOOPBACK, "--dfns-allow-destructive", "--dfns-require-all",
                          *TRIAL)
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns state-changing cases: allowed" in run.stdout
    assert " skipped" not in run.stdout.strip().splitlines()[-1]
    assert "documented errors: 10 verified, 0 failed, 0 not verified, 1 not provoked" in run.stdout


def test_a_target_that_is_not_sensitive_runs_them_without_the_option(tmp_path):
    with start_server() as server:
        run = run_against(server, tmp_path, "-m", "destructive", "--dfns-sensitive-url", r"api\.dfns\.io",
                          *TRIAL)
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns state-changing cases: allowed" in run.stdout and "skipped" not in run.stdout


# -- exit statuses: a broken contract is 1, a broken set-up is 4 ----------------------------------


def test_a_broken_contract_is_exit_status_1():
    run = run_suite("tests/test_documented_errors.py", "-k", "nonce-reused", "--dfns-mock-fault", "nonce-replay-message")
    assert run.returncode == TESTS_FAILED, run.output
    assert "1 failed" in run.output


@pytest.mark.parametrize("args, message", [
    (("--dfns-mock-fault", "no-such-fault"), "--dfns-mock-fault: unknown fault 'no-such-fault'"),
    pytest.param(("--dfns-timeout", "soon"), "--dfns-timeout: 'soon' is not a number of seconds",
                 marks=pytest.mark.slow),  # in-process in the fast tier: unit/test_options.py
    (("--base-url", "http://127.0.0.1:9", "--dfns-profile", "/nonexistent/profile.json"), "file not found"),
], ids=["unknown-fault", "bad-timeout", "missing-profile"])
def test_a_broken_set_up_is_exit_status_4_without_a_traceback(args, message):
    run = run_suite(*args)
    assert run.returncode == USAGE_ERROR, run.output
    assert message in run.output and "Traceback" not in run.output


# -- DFNS_* overrides, end to end ------------------------------------------------------------------


def test_environment_variables_fill_and_override_profile_keys(tmp_path):
    with start_server() as server:
        token = server.profile["authToken"]
        profile = {**server.profile, "authToken": "eyJ.not-the-token.x", "appId": "ap-wrong"}
        run = run_against(server, tmp_path, "tests/test_documented_errors.py", "-k", "nonce-reused-immediately or no-jwt-missing",
                          profile=profile, env={"DFNS_AUTH_TOKEN": token, "DFNS_APP_ID": server.profile["appId"]})
    assert run.returncode == 0, run.output[-3000:]
    assert "(env overrides: appId, authToken)" in run.stdout
    assert "2 passed" in run.stdout and token not in run.output


# -- a failure a person can reproduce --------------------------------------------------------------


@pytest.fixture(scope="module")
def failures(tmp_path_factory) -> dict[str, tuple[RunningServer, str]]:
    """Failed cases, by kind: a wrong status, a wrong message, a body that breaks the schema."""
    runs = {}
    for kind, faults, selected in [
        ("status and message", ["nonce-replay-status", "useraction-reuse-message"], "nonce-reused-immediately or useraction-reused-immediately"),
        ("schema", ["envelope-non-string"], "nonce-reused-immediately"),
    ]:
        with start_server(faults=faults) as server:
            run = run_against(server, tmp_path_factory.mktemp("repro"), "tests/test_documented_errors.py", "-k", selected)
        assert run.returncode == TESTS_FAILED, run.output
        runs[kind] = server, run.stdout
    return runs


def failure_of(out: str, case_id: str) -> str:
    """The text of one case's failure in the terminal output."""
    start = out.index(" test_documented_error[%s] " % case_id)
    end = min(i for i in (out.find("\n___", start + 1), out.find("\n===", start + 1), len(out)) if i != -1)
    return out[start:end]


def assert_doc_and_expectation_of_nonce_reused(text: str) -> None:
    assert "doc:      getting-started/errors.md (2024-08-19) › Common Errors › 400 - Bad Request › Nonce already used" in text
    assert 'expected: HTTP 400 {"error": {"message": "request nonce has already been used"}}' in text


def test_a_failure_shows_expected_against_actual_and_the_doc_section(failures):
    _, out = failures["status and message"]
    status = failure_of(out, "nonce-reused-immediately")
    assert "[nonce-reused-immediately] documented error not honoured: Nonce already used" in status
    assert_doc_and_expectation_of_nonce_reused(status)
    assert "- status is 409, expected 400" in status and "- message" not in status
    message = failure_of(out, "useraction-reused-immediately")
    assert ('- message is "user action has already been used ", expected "user action has already been used"'
            in message), message
    assert "- status" not in message and "User Action Signature already used" in message


def test_a_schema_error_shows_the_case_and_what_it_expects(failures):
    _, out = failures["schema"]
    text = failure_of(out, "nonce-reused-immediately")
    assert "[nonce-reused-immediately] stopped before the documented error could be checked: Nonce already used" in text
    assert_doc_and_expectation_of_nonce_reused(text)
    assert "- body error/message: must be of type string" in text and "response: HTTP 400" in text


def test_a_failure_shows_the_request_as_a_runnable_curl_with_secrets_masked(failures):
    server, out = failures["status and message"]
    line = next(line.strip() for line in failure_of(out, "nonce-reused-immediately").splitlines() if line.strip().startswith("curl "))
    argv = shlex.split(line)
    assert argv[:5] == ["curl", "-sS", "-i", "-X", "GET"] and argv[5] == server.url + "/auth/apps"
    pairs = (value.split(": ", 1) for flag, value in zip(argv[6::2], argv[7::2], strict=False) if flag == "-H")
    headers = {name.lower(): value for name, value in pairs}  # each case spells header names its own way
    assert headers["authorization"] == "Bearer <masked:authToken>"
    assert headers["x-dfns-appid"] == server.profile["appId"] and "x-dfns-nonce" in headers
    assert server.profile["authToken"] not in out
    signed = next(line.strip() for line in failure_of(out, "useraction-reused-immediately").splitlines() if line.strip().startswith("curl "))
    assert "-X PUT" in signed and "--data-raw '{}'" in signed
    assert re.search(r"'X-DFNS-USERACTION: <masked:userAction>'", signed, re.IGNORECASE), signed


def test_a_failure_shows_the_response_status_headers_and_body(failures):
    _, out = failures["schema"]
    text = failure_of(out, "nonce-reused-immediately")
    assert re.search(r"^\s+content-type: application/json$", text, re.MULTILINE), text
    assert 'body: {"error":{"message":{"text":"request nonce has already been used"}}}' in text


def test_a_long_response_body_is_truncated():
    response = requests.Response()
    response.status_code, response._content = 502, b"x" * 5000
    response.headers["Content-Type"] = "text/html"
    text = Exchange("GET", "http://127.0.0.1:1/auth/apps", {"X-DFNS-APPID": "ap-1"}, None, response).describe()
    assert "… (5000 characters in all)" in text and "x" * 5000 not in text
    assert "response: HTTP 502" in text and "Content-Type: text/html" in text
