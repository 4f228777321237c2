"""No secret reaches any output of a run: terminal, JUnit XML, contract reports, the event stream.

The suite runs against a reference server whose ``echo-secrets`` fault fails
every case and quotes the request's credentials back in every error (so
every failure shows the bearer token, user action and registration code
twice: in the curl and in the response body), with ``regcode-expiry-off`` too
(the expired-code case then shows a 200 that holds a temporary registration
token the run received). The run is as verbose as pytest gets (``-rA -vv
--showlocals --tb=long``: tracebacks print the arguments and locals of every
frame, Hypothesis prints its falsifying examples), once serially and once
under pytest-xdist. Its stdout, stderr, JUnit XML, JSON and HTML reports, the
JSON-lines event stream (``--report-log``) and the Hypothesis example database
are searched for every secret of the profile and every token and code the
server issued during the run, in each of their derived forms (base64,
URL-encoded, JSON-escaped, JWT parts, PEM lines).

Then the places where pytest cuts what it shows (reprs, diffs, explanations,
the short summary): a 700-character token shown in each of them, under every
``--tb`` style, ``--showlocals`` with and without ``-vv``, ``-rA``, captured
output and JUnit XML, must leave no 16 characters of itself in any output,
while a token of the same shape the run does not know is found whole.
"""

from __future__ import annotations

import base64
import json
import random
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
            "--report-log", str(out / "events.jsonl"),
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


def test_the_event_stream_names_each_failed_case(leaky_run: LeakRun) -> None:
    """The JSON-lines event stream (pytest-reportlog) of the all-failing run: each case's record names its
    documented error, its case and its verdict, with its evidence; the sweep below searches it too."""
    records = [json.loads(line) for line in leaky_run.outputs["events.jsonl"].splitlines()]
    calls = [r for r in records if r.get("$report_type") == "TestReport" and r["when"] == "call" and r.get("dfns_error")]
    assert len(calls) >= 30, len(calls)
    assert {r["dfns_verdict"] for r in calls} == {"failed"}, {r["nodeid"]: r["dfns_verdict"] for r in calls}
    replayed = [r for r in calls if "test_documented_error[" in r["nodeid"]]
    assert replayed and all(r["nodeid"].endswith("[%s]" % r["dfns_case"]) for r in replayed)
    assert len([r for r in replayed if r.get("dfns_evidence")]) >= 20  # what the fault request got, where it got one
    assert "<masked:authToken>" in leaky_run.outputs["events.jsonl"]


def test_no_secret_in_any_output(leaky_run: LeakRun) -> None:
    assert {"stdout", "stderr", "junit.xml", "report.json", "report.html", "events.jsonl"} <= set(leaky_run.outputs)
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


# -- no piece of a secret where pytest cuts what it shows ------------------------------------------
#
# pytest shortens reprs, diffs and explanations (unless -vv), and the short test summary. A secret
# cut that way is no longer whole, so it used to escape masking by value: the first or last part of a
# token was shown. Each run below makes two cases fail with a 700-character JWT-like token in every
# place a failure shows one (selftests/helpers/plugins/long_secret.py): the first case shows the
# registered token, the second a token the run does not know, the control.

LONG_SECRET_PLUGIN = "selftests.helpers.plugins.long_secret"
LONG_SECRET_LABEL = "selftestToken"
#: The first case shows the registered token, the second (the control) an unregistered one.
LONG_SECRET_CASES = ("nonce-missing-or-invalid-missing", "nonce-missing-or-invalid-empty")
#: Every piece of a secret this long must be masked, however it was cut.
WINDOW = 16
#: Where pytest cuts, it cuts a placeholder: not even a piece this long of the secret is left beside the cut.
PIECE = 8


def jwt_like(seed: int) -> str:
    """A token shaped like a JWT, over 700 characters; two seeds share no 16 characters (only 12 of ``{"kid": "``)."""
    rng = random.Random(seed)

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return ".".join((part(json.dumps({"kid": part(rng.randbytes(18))}).encode()),
                     part(rng.randbytes(480)), part(rng.randbytes(64))))


LONG_SECRET, UNREGISTERED = jwt_like(1), jwt_like(2)


def windows(secret: str, length: int = WINDOW) -> set[str]:
    """Every piece of ``secret`` of ``length`` characters."""
    return {secret[start:start + length] for start in range(len(secret) - length + 1)}


def shown_windows(secret: str, outputs: dict[str, str], length: int = WINDOW) -> dict[str, int]:
    """Per output, how many of the pieces of ``secret`` of ``length`` characters it shows (the pieces never named)."""
    pieces = windows(secret, length)
    return {name: sum(piece in text for piece in pieces) for name, text in outputs.items()}


@dataclass
class CutRun:
    #: Whether pytest cuts a token in this run's terminal output: a repr, unless ``-vv`` or the style
    #: shows none (``--tb=short`` prints no arguments; ``-vv`` still cuts them, ``-vvv`` would not).
    cuts: bool
    #: name -> text: stdout, stderr and the JUnit XML (with captured output and logs).
    outputs: dict[str, str]


@pytest.fixture(scope="module", params=[
    pytest.param((("--tb=long", "--showlocals"), True), id="tb-long-showlocals"),
    pytest.param((("--tb=short", "--showlocals", "-vv"), False), id="tb-short-showlocals-vv"),
    pytest.param((("--tb=line", "-v"), True), id="tb-line"),
    pytest.param((("--tb=native", "--showlocals", "-n", "2"), True), id="tb-native-showlocals-xdist"),
    pytest.param((("--tb=auto", "-vv"), True), id="tb-auto-vv"),
])
def cut_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> CutRun:
    """One run of the two failing cases, with ``-rA`` and a JUnit XML report besides its parameters."""
    args, cuts = request.param
    xml = tmp_path_factory.mktemp("cut") / "junit.xml"
    run = run_suite(
        "-p", LONG_SECRET_PLUGIN, "-k", " or ".join(LONG_SECRET_CASES), "-rA",
        "--junitxml", str(xml), "-o", "junit_logging=all", *args,
        env={"SELFTEST_SECRET": LONG_SECRET, "SELFTEST_UNREGISTERED": UNREGISTERED,
             "SELFTEST_CONTROL_CASE": LONG_SECRET_CASES[1]},
    )
    assert run.returncode == 1 and "2 failed" in run.stdout, run.output[-3000:]
    return CutRun(cuts, {"stdout": run.stdout, "stderr": run.stderr, "junit.xml": xml.read_text()})


def test_both_cases_fail_showing_their_token(cut_run: CutRun) -> None:
    """The registered token was shown, and masked, in the terminal and in the XML (where ``<`` is escaped)."""
    assert "<masked:%s>" % LONG_SECRET_LABEL in cut_run.outputs["stdout"]
    assert "&lt;masked:%s&gt;" % LONG_SECRET_LABEL in cut_run.outputs["junit.xml"]


def test_no_16_character_piece_of_a_secret_in_any_output(cut_run: CutRun) -> None:
    """No output shows any 16 characters of the secret; the same search finds every piece of the control."""
    assert shown_windows(LONG_SECRET, cut_run.outputs) == {"stdout": 0, "stderr": 0, "junit.xml": 0}
    control = shown_windows(UNREGISTERED, cut_run.outputs)
    assert control["stdout"] == control["junit.xml"] == len(windows(UNREGISTERED)), control


def test_pytest_cuts_a_placeholder_never_a_secret(cut_run: CutRun) -> None:
    """Where pytest cut, it cut the masked text: not even 8 characters of the secret are left beside a cut.

    (Pieces of 16 are masked whatever cut them; a shorter one, left beside a ``...``, would show
    that pytest cut the secret itself.) The control: the same search finds every piece of 8 of the
    unregistered token, and pytest did cut it where expected (a piece of it right before ``...``).
    """
    own = windows(LONG_SECRET, PIECE) - windows(UNREGISTERED, PIECE)  # the two share ``{"kid": "``
    shown = {name: sorted(text.find(piece) for piece in own if piece in text) for name, text in cut_run.outputs.items()}
    assert shown == {"stdout": [], "stderr": [], "junit.xml": []}, "offsets of 8-character pieces: %s" % shown
    control = shown_windows(UNREGISTERED, cut_run.outputs, PIECE)
    assert control["stdout"] == control["junit.xml"] == len(windows(UNREGISTERED, PIECE)), control
    cut = [piece for piece in windows(UNREGISTERED, PIECE) if piece + "..." in cut_run.outputs["stdout"]]
    assert bool(cut) == cut_run.cuts, "pieces of the control cut short: %d" % len(cut)


def test_the_piece_search_finds_a_cut_secret() -> None:
    """The sweep's search itself: a cut of 16 characters is found, of 15 not; a masked token shows nothing."""
    cut = "token = '%s...%s'" % (LONG_SECRET[:16], LONG_SECRET[-15:])
    assert shown_windows(LONG_SECRET, {"stdout": cut}) == {"stdout": 1}
    assert shown_windows(LONG_SECRET, {"stdout": "token = '<masked:%s>'" % LONG_SECRET_LABEL}) == {"stdout": 0}
    assert len(LONG_SECRET) > 700 and not windows(LONG_SECRET) & windows(UNREGISTERED)
