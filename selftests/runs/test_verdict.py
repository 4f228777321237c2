"""A verdict a release manager can sign: never green without testing the named target, never red for what the API did not do.

Each broken set-up is one usage error (exit 4) before any case; each outcome
(verified, not provoked, partially verified, error, not verified) reaches the
terminal, the JSON report and the exit status alike; a rate limiter's answers
are waited out and never reported as a broken contract. Every negative run
here has its control: the same set-up, done right, passes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from dfns_contract.server.runner import RunningServer, start_server
from selftests.helpers.gateway import gateway
from selftests.helpers.suite_runner import SuiteRun, run_suite

USAGE_ERROR, TESTS_FAILED = 4, 1
ONE_CASE = ("tests/test_documented_errors.py", "-k", "nonce-reused-immediately")


@pytest.fixture(scope="module")
def server() -> RunningServer:
    with start_server() as running:
        yield running


def profile_file(tmp_path: Path, profile: dict, name: str = "profile.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(profile))
    return str(path)


def live(server_url: str, profile: str, *args: str, env: dict[str, str] | None = None) -> SuiteRun:
    """A run against a live target, as a gate runs it (an INCOMPLETE run fails)."""
    return run_suite("--base-url", server_url, "--dfns-profile", profile, *args, env=env, allow_incomplete=False)


def assert_set_up_error(run: SuiteRun, *fragments: str) -> None:
    assert run.returncode == USAGE_ERROR, run.output[-3000:]
    assert "Traceback" not in run.output and "passed" not in run.output and "NOT restored" not in run.output, run.output
    for fragment in fragments:
        assert fragment in run.output, run.output


# -- 1. target resolution fails closed ----------------------------------------------------------------


def test_an_empty_base_url_is_a_usage_error_not_the_embedded_server(tmp_path, server):
    """The CI gate (README, docs/ci-gate.md) with its variable unset: --base-url "$DFNS_BASE_URL"."""
    run = run_suite("--base-url", "", "--dfns-profile", profile_file(tmp_path, server.profile), "--dfns-require-all")
    assert_set_up_error(run, "the base URL is empty")


def test_a_profile_without_a_url_is_a_usage_error(tmp_path, server):
    profile = {key: value for key, value in server.profile.items() if key != "baseUrl"}
    assert_set_up_error(run_suite("--dfns-profile", profile_file(tmp_path, profile)), "--dfns-profile names a target but no URL")


def test_variables_without_a_url_are_a_usage_error(server):
    run = run_suite(*ONE_CASE, env={"DFNS_APP_ID": server.profile["appId"], "DFNS_AUTH_TOKEN": server.profile["authToken"]})
    assert_set_up_error(run, "DFNS_APP_ID, DFNS_AUTH_TOKEN name a target but no URL")


def test_variables_alone_name_and_reach_the_target(server):
    """The control: DFNS_* variables work without a profile file, and the header says the target is live."""
    env = {"DFNS_BASE_URL": server.url, "DFNS_APP_ID": server.profile["appId"], "DFNS_AUTH_TOKEN": server.profile["authToken"]}
    run = run_suite(*ONE_CASE, env=env)  # --dfns-allow-incomplete: one case of eleven
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns target: %s (live)" % server.url in run.stdout
    assert "against %s (live)" % server.url in run.stdout


def test_nothing_named_is_the_embedded_server_and_says_it_is_not_live():
    run = run_suite(*ONE_CASE)
    assert run.returncode == 0, run.output[-3000:]
    assert "— not a live environment" in run.stdout and "(not a live environment)" in run.stdout


def test_user_info_of_the_url_is_masked_everywhere(tmp_path, server):
    url = server.url.replace("http://", "http://release:hunter2-hunter2@")
    run = live(url, profile_file(tmp_path, server.profile), *ONE_CASE, "--dfns-allow-incomplete", "--junitxml", str(tmp_path / "j.xml"),
               "--dfns-contract-report", str(tmp_path / "r.json"))
    assert run.returncode == 0, run.output[-3000:]
    outputs = [run.output, (tmp_path / "j.xml").read_text(), (tmp_path / "r.json").read_text()]
    assert all("hunter2" not in text for text in outputs)
    assert "<masked:userinfo>@" in run.stdout


def test_a_misspelt_variable_is_a_warning_naming_the_right_one():
    run = run_suite(*ONE_CASE, env={"DFNS_AUTHTOKEN": "x"})
    assert run.returncode == 0, run.output[-3000:]
    assert "DFNS_AUTHTOKEN is not a variable the suite reads; did you mean DFNS_AUTH_TOKEN?" in run.output


@pytest.mark.parametrize("args, message", [
    (("--dfns-timeout", "0"), "--dfns-timeout: must be more than 0"),
    # The fast tier checks these in-process (unit/test_options.py); the full tier end to end too.
    pytest.param(("--dfns-timeout", "-1"), "--dfns-timeout: must be more than 0", marks=pytest.mark.slow),
    pytest.param(("--dfns-retry-transport", "-1"), "--dfns-retry-transport: must be 0 or more", marks=pytest.mark.slow),
    pytest.param(("--dfns-rate-limit", "0"), "--dfns-rate-limit: must be more than 0", marks=pytest.mark.slow),
    pytest.param(("--dfns-rate-limit-budget", "-5"), "--dfns-rate-limit-budget: must be 0 or more",
                 marks=pytest.mark.slow),
], ids=["timeout-0", "timeout-negative", "retries-negative", "rate-0", "budget-negative"])
def test_bad_option_values_are_usage_errors(args, message):
    assert_set_up_error(run_suite(*ONE_CASE, *args), message)


# -- 2. the preflight -----------------------------------------------------------------------------------


def test_the_preflight_passes_on_the_reference_server(tmp_path, server):
    run = live(server.url, profile_file(tmp_path, server.profile), *ONE_CASE, "--dfns-allow-incomplete")
    assert run.returncode == 0, run.output[-3000:]
    assert "dfns preflight: answers as a Dfns API, token accepted, user action signed (4 requests)" in run.stdout


@pytest.mark.parametrize("broken, message", [
    ("path-prefix", "GET /auth/apps answered HTTP 404"),
    ("token", "the profile's token and app were refused"),
    ("key", "privateKey does not load as a PEM private key"),
    ("credential", "a user action signed with credId and privateKey was refused"),
])
def test_the_preflight_stops_a_broken_set_up(tmp_path, server, broken, message):
    profile, url = dict(server.profile), server.url
    if broken == "path-prefix":
        url += "/v2"
    elif broken == "token":
        profile["authToken"] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJub2JvZHkifQ."
    elif broken == "key":
        profile["privateKey"] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n"
    else:
        profile["credId"] = "not-the-credential-of-this-key"
    assert_set_up_error(live(url, profile_file(tmp_path, profile)), message)


def test_the_preflight_stops_a_target_that_is_not_a_dfns_api(tmp_path, server):
    with gateway(server.url, limit=lambda n: False) as front:
        front.forward = lambda *a: (404, [("Content-Type", "text/html")], b"<h1>Not Found</h1>")
        run = live(front.url, profile_file(tmp_path, server.profile))
    assert_set_up_error(run, "does not answer as a Dfns API", "Check the base URL")


def test_the_preflight_can_be_skipped(tmp_path, server):
    profile = dict(server.profile, authToken="eyJhbGciOiJub25lIn0.eyJzdWIiOiJub2JvZHkifQ.")
    run = live(server.url, profile_file(tmp_path, profile), *ONE_CASE, "--dfns-skip-preflight")
    assert run.returncode == TESTS_FAILED and "dfns preflight: skipped" in run.stdout, run.output[-3000:]


# -- 3. outcomes and the run's word ------------------------------------------------------------------------


def report_of(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "r.json").read_text())


def verdict_of(report: dict, error_id: str) -> str:
    return next(error["verdict"] for error in report["errors"] if error["id"] == error_id)


def test_the_500_entry_is_not_provoked_on_a_faithful_server(tmp_path):
    run = run_suite("-k", "internal-error-shape", "--dfns-contract-report", str(tmp_path / "r.json"))
    assert re.search(r"not provoked +500 +internal-error-shape .*no 5xx seen: 3 probes got HTTP", run.stdout), run.stdout
    assert verdict_of(report_of(tmp_path), "internal-error-shape") == "not provoked"


def test_the_500_entry_is_verified_where_a_documented_5xx_is_seen(tmp_path):
    run = run_suite("-k", "internal-error-shape", "--dfns-mock-fault", "odd-bytes-500",
                    "--dfns-contract-report", str(tmp_path / "r.json"))
    assert verdict_of(report_of(tmp_path), "internal-error-shape") == "verified", run.output[-3000:]


def test_part_of_an_errors_cases_is_partially_verified_and_the_run_fails(tmp_path):
    """``-k nonce-reused`` runs the replayed case and deselects its race and its fuzzing."""
    run = run_suite("-k", "nonce-reused", "--dfns-contract-report", str(tmp_path / "r.json"), allow_incomplete=False)
    assert run.returncode == TESTS_FAILED, run.output[-3000:]
    report = report_of(tmp_path)
    assert verdict_of(report, "nonce-reused") == "partially verified" and report["result"] == "INCOMPLETE"
    assert report["exitStatus"] == TESTS_FAILED and "dfns verdict: INCOMPLETE" in run.stdout


def test_a_developer_may_let_an_incomplete_run_exit_0_but_not_a_gate():
    """--dfns-allow-incomplete (for -k while developing) keeps the word; --dfns-require-all overrides it."""
    run = run_suite("-k", "nonce-reused", "--dfns-allow-incomplete", allow_incomplete=False)
    assert run.returncode == 0 and "dfns verdict: INCOMPLETE" in run.stdout, run.output[-3000:]
    gated = run_suite("-k", "nonce-reused", "--dfns-allow-incomplete", "--dfns-require-all", allow_incomplete=False)
    assert gated.returncode == TESTS_FAILED, gated.output[-3000:]


def junit_properties(path: Path) -> dict[str, str]:
    return {prop.get("name"): prop.get("value") for prop in ElementTree.parse(path).iter("property")}


def test_a_whole_run_is_passed_in_every_output(tmp_path):
    """The control of the two above: terminal, JSON, HTML, JUnit XML and exit status agree."""
    run = run_suite("--dfns-require-all", "--dfns-hypothesis-profile", "trial", "--dfns-contract-report", str(tmp_path / "r.json"),
                    "--dfns-contract-report-html", str(tmp_path / "r.html"), "--junitxml", str(tmp_path / "j.xml"))
    assert run.returncode == 0, run.output[-3000:]
    report = report_of(tmp_path)
    assert report["result"] == "PASSED" and report["exitStatus"] == 0 and report["target"]["kind"] == "embedded"
    assert "dfns verdict: PASSED" in run.stdout and "Dfns error contract: PASSED" in (tmp_path / "r.html").read_text()
    properties = junit_properties(tmp_path / "j.xml")
    assert properties["dfns_result"] == "PASSED" and properties["dfns_target_kind"] == "embedded"


def test_an_empty_profile_against_a_live_target_is_never_passed(tmp_path, server):
    """The release sign-off command, without --dfns-require-all, and a profile with nothing in it."""
    run = live(server.url, profile_file(tmp_path, {}), "--dfns-contract-report", str(tmp_path / "r.json"),
               "--junitxml", str(tmp_path / "j.xml"))
    assert run.returncode == TESTS_FAILED and "dfns verdict: INCOMPLETE" in run.stdout, run.output[-3000:]
    assert report_of(tmp_path)["result"] == "INCOMPLETE" and report_of(tmp_path)["target"]["kind"] == "live"
    properties = junit_properties(tmp_path / "j.xml")
    assert properties["dfns_result"] == "INCOMPLETE" and properties["dfns_target_kind"] == "live"


# -- 4. rate limits --------------------------------------------------------------------------------------------


@pytest.mark.slow  # a whole gate run; test_environment_answers.py waits out a 429 in one request in 25 in the fast tier
def test_a_gateway_that_rate_limits_some_requests_leaves_the_run_green(tmp_path, server):
    limited = {5, 17, 40, 41, 90, 160}
    with gateway(server.url, limit=lambda n: n in limited) as front:
        run = live(front.url, profile_file(tmp_path, server.profile), "--dfns-require-all", "-p", "no:randomly")
        hits = front.limited
    assert hits == len(limited)
    assert run.returncode == 0, run.output[-3000:]
    assert "documented errors: 10 verified, 0 failed, 0 not verified, 1 not provoked" in run.stdout
    assert "dfns retries: 6 answers 429 met, 6 requests sent again" in run.stdout, run.stdout[-3000:]
    assert "dfns verdict: PASSED" in run.stdout


def test_a_gateway_that_always_rate_limits_is_an_error_not_a_broken_contract(tmp_path, server):
    with gateway(server.url, limit=lambda n: True) as front:
        run = live(front.url, profile_file(tmp_path, server.profile), "--dfns-skip-preflight",
                   "--dfns-rate-limit-budget", "0", "--dfns-contract-report", str(tmp_path / "r.json"),
                   "-k", "test_documented_error")  # INCOMPLETE either way: what matters is error, never failed
    assert run.returncode == TESTS_FAILED, run.output[-3000:]
    report = report_of(tmp_path)
    verdicts = {error["verdict"] for error in report["errors"]}
    assert "failed" not in verdicts and "error" in verdicts and report["result"] == "INCOMPLETE"
    assert "environment error, the contract was not checked: rate limited" in run.output
    assert not re.search(r"^  FAILED +\d{3} ", run.stdout, re.MULTILINE) and "dfns verdict: INCOMPLETE" in run.stdout


def test_a_rate_limited_preflight_is_one_set_up_error(tmp_path, server):
    with gateway(server.url, limit=lambda n: True) as front:
        run = live(front.url, profile_file(tmp_path, server.profile), "--dfns-rate-limit-budget", "0")
    assert_set_up_error(run, "rate limited", "past the rate-limit budget of 0 s", "try again later")
