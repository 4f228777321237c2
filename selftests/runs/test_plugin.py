"""The suite's set-up errors are one clear message and a usage-error exit, never a traceback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from selftests.helpers.suite_runner import run_suite

USAGE_ERROR = 4


@pytest.fixture(scope="module")
def plain_http_server():
    """Something that answers HTTP on loopback but is not a Dfns API."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def assert_one_clear_error(run, *fragments):
    assert run.returncode == USAGE_ERROR, run.output
    assert "Traceback" not in run.output, run.output
    for fragment in fragments:
        assert fragment in run.output, run.output


def test_unreachable_base_url_is_one_clear_error():
    run = run_suite("--base-url", "http://127.0.0.1:9")
    assert_one_clear_error(run, "cannot reach http://127.0.0.1:9")
    assert run.output.count("cannot reach") == 1


def test_malformed_base_url():
    run = run_suite("--base-url", "localhost:8000")
    assert_one_clear_error(run, "is not an http(s) URL")


def test_malformed_profile_lists_every_problem(tmp_path, plain_http_server):
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"appId": 7, "authTokn": "x", "privateKey": "hunter2-secret"}))
    run = run_suite("--base-url", plain_http_server, "--dfns-profile", str(profile))
    assert_one_clear_error(run, "appId: must be of type string", "authTokn", "credId")
    assert "hunter2" not in run.output


def test_profile_that_is_not_json(tmp_path, plain_http_server):
    profile = tmp_path / "profile.json"
    profile.write_text("{not json")
    run = run_suite("--base-url", plain_http_server, "--dfns-profile", str(profile))
    assert_one_clear_error(run, "not JSON: line 1")


def test_empty_profile_skips_with_key_names_and_counts_them(tmp_path, plain_http_server):
    profile = tmp_path / "profile.json"
    profile.write_text("{}")
    run = run_suite("--base-url", plain_http_server, "--dfns-profile", str(profile), "--dfns-skip-preflight")
    assert run.returncode == 0, run.output
    assert "dfns verdict: INCOMPLETE" in run.output
    assert "profile keys missing: appId, authToken (set them in --dfns-profile or as DFNS_APP_ID, DFNS_AUTH_TOKEN)" in run.output
    assert "documented errors: 0 verified, 0 failed, 11 not verified" in run.output


def test_require_all_turns_unverified_into_a_failed_run(tmp_path, plain_http_server):
    profile = tmp_path / "profile.json"
    profile.write_text("{}")
    run = run_suite("--base-url", plain_http_server, "--dfns-profile", str(profile), "--dfns-skip-preflight", "--dfns-require-all")
    assert run.returncode == 1, run.output
    assert "--dfns-require-all: the run fails because 11 documented errors were not verified" in run.output


def test_require_all_counts_deselected_errors(tmp_path, plain_http_server):
    profile = tmp_path / "profile.json"
    profile.write_text("{}")
    run = run_suite("--base-url", plain_http_server, "--dfns-profile", str(profile), "--dfns-skip-preflight", "--dfns-require-all", "-k", "nonce")
    assert run.returncode == 1, run.output
    assert "not run (deselected or not collected)" in run.output


def test_an_ini_key_sets_its_option():
    """``dfns_require_all = true`` in the ini file (here through -o) gates the run as the flag does."""
    run = run_suite("tests/test_documented_errors.py", "-k", "nonce-reused", "-o", "dfns_require_all=true")
    assert run.returncode == 1, run.output[-3000:]
    # nonce-reused too: its race and property are in files the command line did not name.
    assert "--dfns-require-all: the run fails because 11 documented errors were not verified" in run.output


def test_a_bad_ini_value_is_one_clear_error():
    run = run_suite("tests/test_documented_errors.py", "-o", "dfns_timeout=soon")
    assert_one_clear_error(run, "dfns_timeout = soon in", "'soon' is not a number of seconds")


def test_an_invalid_sensitive_url_pattern_is_one_clear_error():
    run = run_suite("tests/test_documented_errors.py", "--dfns-sensitive-url", "api.dfns.(io")
    assert_one_clear_error(run, "--dfns-sensitive-url 'api.dfns.(io' is not a regular expression")
