"""The sign-off report: JSON that validates and holds no secret, HTML that renders on its own.

One suite run under pytest-xdist produces every verdict at once: a reference
server started here (so its secrets are known to the test) with one fault
switched on (a failed error), a profile without the expired-code keys (a
skipped case) and an edited copy of the errors page (one error not covered,
one stale). The run is in a subprocess, as a user runs the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from jsonschema import Draft202012Validator

from dfns_contract.contract import schemas
from dfns_contract.contract.binding import load_catalog
from dfns_contract.client.secrets import SECRETS, derived_forms
from dfns_contract.contract.profile import SECRET_KEYS
from dfns_contract.reporting.json_report import public_url
from dfns_contract.plugin.output import write_file
from dfns_contract.reporting.html import render_html
from dfns_contract.server.runner import start_server

from selftests.helpers.suite_runner import SuiteRun, run_suite

FIXTURES = Path(__file__).parents[1] / "data"
SUITE = "tests/test_documented_errors.py"
USAGE_ERROR = 4
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class SignOffRun:
    run: SuiteRun
    report: dict
    report_text: str
    html: str
    html_path: Path
    junit: Path
    secrets: list[str]


@pytest.fixture(scope="module")
def sign_off(tmp_path_factory: pytest.TempPathFactory) -> SignOffRun:
    out = tmp_path_factory.mktemp("sign-off")
    with start_server(faults=["nonce-replay-message"]) as server:
        profile = {k: v for k, v in server.profile.items() if k not in ("expiredRegistrationCode", "expiredUsername")}
        (out / "profile.json").write_text(json.dumps(profile))
        run = run_suite(
            SUITE, "-n", "2",
            "--base-url", server.url, "--dfns-profile", str(out / "profile.json"),
            "--dfns-contract-report", str(out / "report.json"), "--dfns-contract-report-html", str(out / "report.html"),
            "--dfns-errors-doc", str(FIXTURES / "errors_drift.md"), "--junitxml", str(out / "junit.xml"),
        )
        secrets = [server.profile[key] for key in SECRET_KEYS if server.profile.get(key)]
    assert run.returncode == 1, run.output  # the fault fails one case
    text = (out / "report.json").read_text()
    return SignOffRun(run, json.loads(text), text, (out / "report.html").read_text(), out / "report.html",
                      out / "junit.xml", secrets)


def by_id(report: dict) -> dict:
    return {error["id"] or error["summary"]: error for error in report["errors"]}


def test_the_report_validates_against_its_schema(sign_off):
    Draft202012Validator.check_schema(schemas.validator("report.json").schema)
    assert schemas.problems("report.json", sign_off.report) == []


def test_no_secret_of_the_profile_reaches_any_report(sign_off):
    assert sign_off.secrets, "the reference server's profile should hold secrets"
    files = {"report.json": sign_off.report_text, "report.html": sign_off.html, "junit.xml": sign_off.junit.read_text()}
    for secret in sign_off.secrets:
        for form in derived_forms(secret):
            for name, text in files.items():
                assert form not in text, "a secret (%d characters) leaked into %s" % (len(form), name)


def test_the_report_says_what_was_tested_against_what(sign_off):
    report = sign_off.report
    assert report["result"] == "FAILED" and report["exitStatus"] == 1
    assert report["target"]["kind"] == "live" and report["target"]["baseUrl"].startswith("http://127.0.0.1:")
    assert report["target"]["profile"].endswith("profile.json")
    assert report["catalog"]["path"].endswith("schemas/contracts/2024-08-19.json") and len(report["catalog"]["sha256"]) == 64
    assert report["errorsPage"]["path"].endswith("errors_drift.md")
    assert set(report["versions"]) == {"python", "pytest", "dfnsContract"}
    assert report["startedAt"] <= report["finishedAt"]
    # One file of the suite: the four errors with a race or a fuzzing property there are partially verified.
    assert report["totals"] == {"verified": 4, "not provoked": 1, "failed": 1, "error": 0, "not verified": 0,
                                "partially verified": 4, "recognised": 0, "not covered": 1, "stale": 1,
                                "message changed": 0}


def test_each_verdict_with_its_evidence(sign_off):
    errors = by_id(sign_off.report)
    failed = errors["nonce-reused"]
    assert failed["verdict"] == "failed"
    case = next(case for case in failed["cases"] if case["nodeid"].endswith("[nonce-reused-immediately]"))
    assert case["nodeid"] == SUITE + "::test_documented_error[nonce-reused-immediately]"
    assert case["outcome"] == "failed"
    assert case["evidence"]["status"] == 400
    assert case["evidence"]["message"] == "request nonce has already been used."
    assert case["evidence"]["expected"] == {"status": 400, "message": "request nonce has already been used",
                                            "messageText": '"request nonce has already been used"'}
    assert "documented error not honoured" in case["failure"] and "message is" in case["failure"]

    stale = errors["registration-code-expired"]
    assert (stale["verdict"], stale["tested"], stale["page"]) == ("stale", "not verified", None)
    assert stale["cases"][0]["outcome"] == "skipped"
    assert stale["cases"][0]["skipReason"].startswith("profile keys missing: expiredUsername")

    uncovered = errors["Credential already exists"]
    assert (uncovered["id"], uncovered["verdict"], uncovered["tested"], uncovered["status"]) == (
        None, "not covered", None, 409)
    assert uncovered["message"] == "credential already exists" and uncovered["page"]["line"] == 155

    verified = errors["forbidden-operation"]
    assert verified["verdict"] == "verified" and verified["page"]["summary"] == "Caller not authenticated"


def test_evidence_survives_xdist_for_every_case_that_ran(sign_off):
    cases = [case for error in sign_off.report["errors"] for case in error["cases"]]
    catalog_cases = len(load_catalog().cases())
    assert len(cases) == len({case["nodeid"] for case in cases}) == catalog_cases  # once each, from both workers
    ran = [case for case in cases if case["outcome"] != "skipped"]
    assert ran and all(case["evidence"] for case in ran), [c["nodeid"] for c in ran if not c["evidence"]]
    assert "2 workers [%d items]" % catalog_cases in sign_off.run.output, sign_off.run.output[:2000]


def test_junit_xml_keeps_readable_case_names(sign_off):
    cases = {case.get("name"): case for case in ElementTree.parse(sign_off.junit).iter("testcase")}
    assert "test_documented_error[nonce-reused-immediately]" in cases
    assert cases["test_documented_error[nonce-reused-immediately]"].find("failure") is not None
    assert cases["test_documented_error[no-jwt-missing]"].find("failure") is None


def test_the_html_needs_nothing_from_outside(sign_off):
    page = sign_off.html
    assert page.startswith("<!DOCTYPE html>")
    for pattern in (r"<script", r"<link", r"<img", r"<iframe", r"\b(src|href|srcset|action)\s*=", r"url\(", r"@import"):
        assert not re.search(pattern, page, re.IGNORECASE), pattern
    assert "Dfns error contract: FAILED" in page
    for text in ("nonce-reused", "not covered", "stale", "profile keys missing", "request nonce has already been used."):
        assert text in page


def test_the_html_escapes_and_masks_every_text(tmp_path):
    secret = "hunter2-hunter2-hunter2-secret"
    SECRETS.add(secret, "selftest")
    report = {
        "result": "failed", "exitStatus": 1, "startedAt": "2024-01-01T00:00:00Z", "finishedAt": "2024-01-01T00:00:01Z",
        "durationSeconds": 1.0, "totals": {"verified": 0, "failed": 1, "not verified": 0, "not covered": 0, "stale": 0},
        "target": {"kind": "live", "baseUrl": "http://x", "description": "<b>x</b>", "faults": [], "profile": None,
                   "envOverrides": []},
        "versions": {"python": "3", "pytest": "9", "dfnsContract": "0"},
        "catalog": {"path": "c.json", "sha256": None}, "errorsPage": None,
        "contract": {"version": "<i>v</i>", "published": True, "doc": "d & e", "page": "<p>"},
        "errors": [{
            "id": "x", "section": "s", "summary": "<script>alert(1)</script>", "status": 400, "message": "m & n",
            "verdict": "failed", "tested": "failed", "detail": "1 failed", "page": None,
            "cases": [{"nodeid": "t::c[x]", "outcome": "failed", "skipReason": None, "evidence": None,
                       "failure": "token " + secret + " echoed"}],
        }],
    }
    write_file(tmp_path / "report.html", render_html(report), html=True)  # the one place reports leave the run
    page = (tmp_path / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "m &amp; n" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert secret not in page and "&lt;masked:selftest&gt;" in page
    assert "&lt;i&gt;v&lt;/i&gt;, d &amp; e as published (copy: &lt;p&gt;)" in page


def test_the_html_renders_in_headless_chromium(sign_off, tmp_path):
    if not CHROMIUM:
        if os.environ.get("SELFTEST_REQUIRE_CHROMIUM"):
            pytest.fail("SELFTEST_REQUIRE_CHROMIUM is set but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium): the HTML is not rendered")
    shot = tmp_path / "report.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    url = sign_off.html_path.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile_dir:
        subprocess.run([*common, "--user-data-dir=" + profile_dir, "--screenshot=%s" % shot, "--window-size=1200,1600", url],
                       capture_output=True, timeout=120, check=False)
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1200, 1600)
    with tempfile.TemporaryDirectory() as profile_dir:
        dom = subprocess.run([*common, "--user-data-dir=" + profile_dir, "--dump-dom", url],
                             capture_output=True, text=True, timeout=120, check=False).stdout
    assert "Dfns error contract: FAILED" in dom and "Credential already exists" in dom


# -- without the extras: the embedded server, no page, one case ------------------------------------


def test_a_plain_run_reports_the_embedded_target_and_no_drift(tmp_path):
    path = tmp_path / "nested" / "report.json"
    run = run_suite(SUITE, "-k", "nonce-reused", "--dfns-contract-report", str(path))
    assert run.returncode == 0, run.output
    assert "contract report: %s" % path in run.output
    report = json.loads(path.read_text())
    assert schemas.problems("report.json", report) == []
    assert report["target"] == {"kind": "embedded", "baseUrl": None, "description": "embedded reference server (one per run, shared by local xdist workers) implementing contract 2024-08-19 — not a live environment",
                                "contract": "2024-08-19", "faults": [], "profile": None, "envOverrides": []}
    assert report["contract"] == {"version": "2024-08-19", "published": True, "doc": "getting-started/errors.md",
                                  "page": "errors-page-versions/2024-08-19-first.md", "detected": None}
    assert report["errorsPage"] is None
    errors = by_id(report)
    # One file of the suite: the race and the property of nonce-reused did not run, so it is partially verified.
    assert errors["nonce-reused"]["verdict"] == "partially verified"
    assert "not run: tests/test_fuzz_headers.py::test_fuzz_valid_nonce_passes_once" in errors["nonce-reused"]["detail"]
    assert errors["nonce-reused"]["cases"][0]["evidence"]["message"] == "request nonce has already been used"
    assert errors["no-jwt"]["verdict"] == "not verified"
    assert errors["no-jwt"]["detail"] == "not run (deselected or not collected)"
    assert report["totals"]["partially verified"] == 1 and report["totals"]["not covered"] == report["totals"]["stale"] == 0


def test_a_report_path_that_is_a_folder_is_one_usage_error(tmp_path):
    run = run_suite(SUITE, "-k", "nonce-reused", "--dfns-contract-report", str(tmp_path))
    assert run.returncode == USAGE_ERROR, run.output
    assert "--dfns-contract-report %s: is a folder" % tmp_path in run.output
    assert "Traceback" not in run.output


def test_user_info_never_reaches_the_target():
    assert public_url("https://user:s3cret@api.example.test:8443/v1") == "https://api.example.test:8443/v1"
    assert public_url("http://[::1]:8000") == "http://[::1]:8000"


@pytest.mark.parametrize("option", ["--dfns-contract-report", "--dfns-contract-report-html", "--dfns-errors-doc"])
def test_a_report_outside_the_project_keeps_the_rootdir(tmp_path, option):
    """'--dfns-contract-report /elsewhere/r.json' with the file already there (last run's report) must
    not be taken for a test path before the plugin loads: pytest.ini would go unread and the whole
    checkout, selftests and all, would be collected."""
    existing = tmp_path / "file"  # the report of the last run, about to be replaced; or the errors page
    existing.write_text((FIXTURES / "drift_small.md").read_text() if option == "--dfns-errors-doc" else "{}")
    run = run_suite("--collect-only", "-q", option, str(existing))
    assert run.returncode == 0, run.output
    assert not [line for line in run.output.splitlines() if line.startswith("selftests/")], run.output[:2000]
