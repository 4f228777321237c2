"""A suite of one version against a server of another is one set-up error naming the cause, not a refused token.

The reference servers of the errors page's versions and of the 2026 reference
answer a request without a token in two forms, and the pages' versions with
two 401 messages (``contract/detection.py``); the preflight reads that answer
and stops the run (exit 4) before any case,
naming what the target answered, which version it looks like, and
``--dfns-contract auto``. The control: the same server under its own version
passes the preflight.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dfns_contract.server.runner import start_server
from selftests.helpers.suite_runner import run_suite

USAGE_ERROR = 4
ONE_CASE = ("tests/test_documented_errors.py", "-k", "unknown-app")


def _run(tmp_path: Path, server_contract: str, suite_contract: str):
    with start_server(contract=server_contract) as server:
        profile = tmp_path / "profile.json"
        profile.write_text(json.dumps(server.profile))
        return run_suite("--base-url", server.url, "--dfns-profile", str(profile), "--dfns-contract", suite_contract,
                         *ONE_CASE)


@pytest.mark.parametrize(("server", "suite", "looks_like"), [
    ("2024-08-19", "2026", "looks like a version of the errors page (2024-08-19, 2024-08-19-extended, 2025-02-07)"),
    ("2025-02-07", "2026", "looks like a version of the errors page"),
    ("2026", "2024-08-19", "looks like contract 2026 (the reference's)"),
    ("2026", "2025-02-07", "looks like contract 2026 (the reference's)"),
    # The pages' versions between them: the 401's message without a token, the first answer of the preflight.
    ("2024-08-19", "2025-02-07", "looks like 2024-08-19 or 2024-08-19-extended: its 401 without a token says "
                                 "'Not Authorized.'"),
    ("2024-08-19-extended", "2025-02-07", "looks like 2024-08-19 or 2024-08-19-extended"),
    ("2025-02-07", "2024-08-19", "looks like 2025-02-07: its 401 without a token says 'user token is missing or "
                                 "invalid', as that page documents, where 2024-08-19 documents 'Not Authorized.'"),
    ("2025-02-07", "2024-08-19-extended", "looks like 2025-02-07"),
])
def test_a_server_of_another_version_is_one_set_up_error_naming_it(tmp_path, server, suite, looks_like):
    run = _run(tmp_path, server, suite)
    assert run.returncode == USAGE_ERROR, run.output[-3000:]
    assert looks_like in run.output and "--dfns-contract auto" in run.output, run.output[-3000:]
    assert "than %s" % suite in run.output and "got HTTP 4" in run.output  # what it answered
    assert "Check authToken" not in run.output and "Traceback" not in run.output and "passed" not in run.output
    assert run.output.count("ERROR: ") == 1, run.output


@pytest.mark.parametrize(("server", "suite"), [
    ("2024-08-19", "2024-08-19"), ("2025-02-07", "2025-02-07"), ("2026", "2026"),
    # The later edit of 2024-08-19 only adds errors: the first edit's suite certifies its server.
    ("2024-08-19-extended", "2024-08-19"),
])
def test_a_server_the_version_fits_passes_the_preflight(tmp_path, server, suite):
    """The control: nothing in the check refuses a server that speaks the version named."""
    run = _run(tmp_path, server, suite)
    assert run.returncode == 0 and "dfns preflight: answers as a Dfns API" in run.stdout, run.output[-3000:]
    assert "another version" not in run.output


def test_the_two_edits_of_2024_08_19_are_told_apart_by_the_cases_not_the_preflight(tmp_path):
    """The later edit's suite against a server of the first: not a set-up error (telling the edits apart takes a
    login for an unknown user, whose answer is also what one of the later edit's cases checks); the run fails on
    that documented error by name, as every entry the server lacks does (``test_versions.py``: all eleven)."""
    with start_server(contract="2024-08-19") as server:
        profile = tmp_path / "profile.json"
        profile.write_text(json.dumps(server.profile))
        run = run_suite("--base-url", server.url, "--dfns-profile", str(profile), "--dfns-contract",
                        "2024-08-19-extended", "tests/test_documented_errors.py", "-k", "login-user-not-found")
    assert run.returncode == 1, run.output[-3000:]
    assert "another version" not in run.output and "dfns preflight: answers as a Dfns API" in run.stdout
    assert "login-user-not-found" in run.output and "FAILED" in run.output
