"""No secret reaches any output of a run: terminal, JUnit XML, contract reports.

The suite runs against a reference server whose ``echo-secrets`` fault fails
every case and quotes the request's credentials back in every error (so
every failure shows the bearer token, user action and registration code
twice: in the curl and in the response body), with ``regcode-expiry-off`` too
(the expired-code case then shows a 200 that holds a temporary registration
token the run received). The run is as verbose as pytest gets (``-rA -vv
--showlocals --tb=long``: tracebacks print the arguments and locals of every
frame, Hypothesis prints its falsifying examples), once serially and once
under pytest-xdist. Its stdout, stderr, JUnit XML, JSON and HTML reports and
the Hypothesis example database are searched for every secret of the profile
and every token and code the server issued during the run, in each of their
derived forms (base64, URL-encoded, JSON-escaped, JWT parts, PEM lines).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from dfns_contract.client.secrets import derived_forms
from dfns_contract.contract.profile import SECRET_KEYS
from dfns_contract.server.runner import start_server
from dfns_contract.server.settings import Settings

from selftests.helpers.suite_runner import ROOT, SuiteRun, run_suite

LEAKY_FAULTS = ("echo-secrets", "regcode-expiry-off")
VERBOSE = ("-rA", "-vv", "--showlocals", "--tb=long")
HYPOTHESIS_DB = ROOT / ".hypothesis"


@dataclass
class LeakRun:
    run: SuiteRun
    #: label -> value: the profile's secrets, then every token and code the server issued.
    secrets: dict[str, str]
    #: name -> text of every output of the run.
    outputs: dict[str, str]


def find_leaks(secrets: dict[str, str], outputs: dict[str, str]) -> list[str]:
    """Where any derived form of any secret occurs; the secret itself is never named."""
    leaks = []
    for label, value in secrets.items():
        for form in sorted(derived_forms(value)):
            for name, text in outputs.items():
                if form in text:
                    leaks.append("%s (a %d-character form) in %s at offset %d" % (label, len(form), name, text.index(form)))
    return leaks


def hypothesis_db_texts() -> dict[str, str]:
    if not HYPOTHESIS_DB.is_dir():
        return {}
    return {
        str(path.relative_to(ROOT)): path.read_bytes().decode("latin-1")
        for path in HYPOTHESIS_DB.rglob("*")
        if path.is_file()
    }


def run_leaky(out: Path, *args: str) -> LeakRun:
    with start_server(faults=LEAKY_FAULTS, settings=Settings(record_secrets=True)) as server:
        profile = out / "profile.json"
        profile.write_text(json.dumps(server.profile))
        run = run_suite(
            "--base-url", server.url, "--dfns-profile", str(profile),
            "--junitxml", str(out / "junit.xml"),
            "--dfns-contract-report", str(out / "report.json"),
            "--dfns-contract-report-html", str(out / "report.html"),
            "--dfns-skip-preflight", *VERBOSE, *args,
        )
        secrets = {key: server.profile[key] for key in sorted(SECRET_KEYS) if server.profile.get(key)}
        for number, value in enumerate(server.state.issued_secrets()):
            secrets.setdefault("issued secret #%d" % number, value)
    outputs = {"stdout": run.stdout, "stderr": run.stderr}
    outputs.update((path.name, path.read_text()) for path in sorted(out.iterdir()) if path != profile)
    outputs.update(hypothesis_db_texts())
    return LeakRun(run, secrets, outputs)


@pytest.fixture(scope="module", params=["serial", "xdist"])
def leaky_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LeakRun:
    out = tmp_path_factory.mktemp("leaky-" + request.param)
    return run_leaky(out, *(["-n", "2"] if request.param == "xdist" else []))


def test_every_case_fails_and_shows_its_request(leaky_run: LeakRun) -> None:
    """The search covers real failure messages: many of them, each with a curl and the echoed credentials."""
    run, stdout = leaky_run.run, leaky_run.run.stdout
    assert run.returncode == 1, run.output[-3000:]
    report = json.loads(leaky_run.outputs["report.json"])
    cases = [case for error in report["errors"] for case in error["cases"]]
    assert cases and all(case["outcome"] == "failed" for case in cases), [c["nodeid"] for c in cases if c["outcome"] != "failed"]
    assert " passed" not in stdout.strip().splitlines()[-1], stdout.strip().splitlines()[-1]
    assert stdout.count("curl -sS -i") >= 30
    for label in ("authToken", "userAction", "pendingRegistrationCode", "temporaryAuthenticationToken"):
        assert "<masked:%s>" % label in stdout, label


def test_the_run_received_secrets_from_the_server(leaky_run: LeakRun) -> None:
    issued = [label for label in leaky_run.secrets if label.startswith("issued")]
    assert len(issued) >= 20, "the server should have issued user actions, challenges and a registration token"


def test_no_secret_in_any_output(leaky_run: LeakRun) -> None:
    assert {"stdout", "stderr", "junit.xml", "report.json", "report.html"} <= set(leaky_run.outputs)
    leaks = find_leaks(leaky_run.secrets, leaky_run.outputs)
    assert not leaks, "%d leaks:\n%s" % (len(leaks), "\n".join(leaks[:40]))


# -- the search itself can fail --------------------------------------------------------------------


TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1cy1zZWxmdGVzdC1wcmluY2lwYWwifQ.c2lnbmF0dXJlLW9mLXRoZS1zZWxmdGVzdA"


@pytest.mark.parametrize("planted", [
    "Authorization: Bearer " + TOKEN,
    "payload only: eyJzdWIiOiJ1cy1zZWxmdGVzdC1wcmluY2lwYWwifQ",
    "signature only: c2lnbmF0dXJlLW9mLXRoZS1zZWxmdGVzdA",
    "as base64: " + base64.b64encode(TOKEN.encode()).decode(),
])
def test_the_search_finds_a_planted_secret(planted: str) -> None:
    outputs = {"stdout": "clean line\n", "junit.xml": "<testsuite>%s</testsuite>" % planted}
    leaks = find_leaks({"userAction": TOKEN}, outputs)
    assert leaks and all("junit.xml" in leak for leak in leaks), leaks
    assert TOKEN not in "\n".join(leaks)


def test_the_search_passes_masked_output() -> None:
    outputs = {"stdout": "Authorization: Bearer <masked:userAction>"}
    assert find_leaks({"userAction": TOKEN}, outputs) == []
