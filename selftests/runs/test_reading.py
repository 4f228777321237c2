"""Reading and reproducing a run, as a person at a terminal or in a CI log does.

* Know before you run: ``--co`` and ``--dfns-list`` never contact the target
  (a closed port is fine) and list the documented errors with their cases,
  in text and as JSON that validates against ``schemas/errors-list.json``.
  Those runs use pytester, in a project of their own that holds a copy of the
  suite's ``tests/`` folder, as a user's checkout would.
* Output that fits where it is read: a green run's ``-q`` is one line per
  documented error and fits on one screen; ``-qq`` is the word alone.
* Reproducible fuzzing: a failed property, race or replay model reads like a
  failed case (doc section, expected vs actual, the request as a masked curl),
  ends with the command that replays it, and that command replays it; the
  HTML report carries them; the event stream names each case and its verdict.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
from pathlib import Path

import pytest

from dfns_contract.contract.binding import load_catalog
from dfns_contract.contract.schemas import problems

from selftests.helpers.suite_runner import ROOT, SuiteRun, run_suite

USAGE_ERROR = 4
#: What a pytester run of the suite leaves out: plugins that are not the suite's.
QUIET_PLUGINS = ("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:anyio", "-p", "no:platformdirs")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed: the runs below must not contact it anyway)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's checkout: the suite's tests/ folder and nothing else of this repository."""
    shutil.copytree(ROOT / "tests", pytester.path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    return pytester


def lines_of(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines + result.errlines)


# -- 1. know before you run ------------------------------------------------------------------------------------


def test_collect_only_never_contacts_the_target(project: pytest.Pytester) -> None:
    """``--co`` against a closed port exits 0 and lists every case; no reachability check, no preflight, no word."""
    url = "http://127.0.0.1:%d" % closed_port()
    result = project.runpytest_subprocess(*QUIET_PLUGINS, "--co", "--base-url", url)
    output = lines_of(result)
    assert result.ret == 0, output
    assert "cannot reach" not in output and "dfns verdict" not in output, output
    assert "dfns preflight: not run (collection only: the target is not contacted)" in output
    for case in load_catalog().cases():
        assert "test_documented_error[%s]" % case.id in output, case.id


def test_the_list_names_every_error_its_cases_keys_and_safety_without_a_target(project: pytest.Pytester) -> None:
    """``--dfns-list`` and ``--dfns-list-json`` at once, under ``-n 2`` and ``-k``, against a closed port and a
    profile without keys: exit 0, the text and the JSON agree, no pytest item listing, nothing run."""
    url = "http://127.0.0.1:%d" % closed_port()
    profile = project.path / "profile.json"
    profile.write_text(json.dumps({"appId": "ap-1"}))
    result = project.runpytest_subprocess(*QUIET_PLUGINS, "--dfns-list", "--dfns-list-json", "out/list.json",
                                          "--base-url", url, "--dfns-profile", str(profile), "-k", "not immediately",
                                          "-n", "2")
    output = lines_of(result)
    assert result.ret == 0, output
    assert "<Function" not in output and "created: 2/2 workers" not in output and "cannot reach" not in output, output
    data = json.loads((project.path / "out" / "list.json").read_text())
    assert problems("errors-list.json", data) == []
    catalog = load_catalog()
    assert [error["id"] for error in data["errors"]] == [error.id for error in catalog.errors]
    by_id = {error["id"]: error for error in data["errors"]}
    reused = by_id["nonce-reused"]
    assert reused["safety"] == "read-only" and reused["profileKeys"] == ["appId", "authToken"]
    assert reused["missingProfileKeys"] == ["authToken"] and "DFNS_AUTH_TOKEN" in reused["skip"]
    assert {case["id"]: case["selected"] for case in reused["cases"]}["nonce-reused-immediately"] is False
    assert by_id["unknown-app"]["destructive"] and by_id["unknown-app"]["safety"] == "writes-on-success"
    assert data["target"] == {"kind": "live", "baseUrl": url, "profile": str(profile), "contacted": False}
    for error in catalog.errors:
        assert re.search(r"^  %s +%d \"" % (re.escape(error.id), error.status), output, re.MULTILINE), error.id
    selected = sum(case["selected"] for case in reused["cases"])
    assert "read-only · %d cases (1 deselected) · needs appId, authToken (missing here: authToken)" % selected in output
    assert "cases: nonce-reused-other-connection" in output and "documented errors listed in out/list.json" in output


def test_a_list_path_that_is_a_folder_is_one_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*QUIET_PLUGINS, "--dfns-list-json", str(project.path))
    assert result.ret == USAGE_ERROR and "--dfns-list-json %s: is a folder" % project.path in lines_of(result)


# -- 2. output that fits where it is read ----------------------------------------------------------------------


def test_a_green_run_at_q_is_one_line_per_documented_error_and_fits_one_screen() -> None:
    """Under pytest-xdist, 80 columns (a CI log): the progress, the fuzzing, the table, the word, the cleanup."""
    run = run_suite("-q", "-n", "2", env={"COLUMNS": "80"}, allow_incomplete=False)
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0, run.output[-3000:]
    assert len(lines) <= 24, "\n".join(lines)
    for error in load_catalog().errors:
        assert len([line for line in lines if re.match(r"^  (verified|not provoked) +\d{3} +%s " % error.id, line)]) == 1
    assert re.search(r"^fuzzing: \d+ examples in 6 properties \(hypothesis profile dev, seed \d+\)$", run.stdout, re.M)
    assert "dfns verdict: PASSED" in run.stdout
    assert re.search(r"^dfns cleanup: nothing was left changed \(\d+ changes? checked\)$", run.stdout, re.M), run.stdout
    assert all(len(line) <= 80 for line in lines if not line.startswith(("dfns verdict", "  not provoked"))), lines


def test_a_green_run_at_qq_is_the_word_alone() -> None:
    run = run_suite("-qq", allow_incomplete=False)
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0, run.output[-3000:]
    assert len(lines) == 2 and set(lines[0]) <= set(". [100%]"), lines
    assert lines[1].startswith("dfns verdict: PASSED against the embedded reference server"), lines


# -- 3. reproducible fuzzing -------------------------------------------------------------------------------------

TRACEBACK_NOISE = ("Traceback", "_ _ _ _", "site-packages", "def test_", "dfns_client=", "@seed(")


def replay_args(output: str, test: str) -> list[str]:
    """The arguments of the replay command printed for ``test`` (without its leading ``pytest``)."""
    found = re.search(r"^  replay:   pytest (\S*%s\S*.*)$" % test, output, re.MULTILINE)
    assert found, output[-3000:]
    return shlex.split(found.group(1))


@pytest.fixture(scope="module")
def failed_property(tmp_path_factory: pytest.TempPathFactory) -> tuple[SuiteRun, Path]:
    """A property of nonce-reused against a server whose reuse message gains a period: it fails at once."""
    out = tmp_path_factory.mktemp("property")
    run = run_suite("tests/test_fuzz_headers.py", "-k", "valid_nonce_passes_once", "--dfns-hypothesis-profile", "dev",
                    "--dfns-mock-fault", "nonce-replay-message", "--dfns-contract-report-html", str(out / "r.html"),
                    "--report-log", str(out / "events.jsonl"))
    assert run.returncode == 1, run.output[-3000:]
    return run, out


def test_a_failed_property_reads_like_a_case_and_ends_with_its_replay(failed_property) -> None:
    run, out = failed_property
    seed = re.search(r"^dfns hypothesis profile: dev, seed (\d+) ", run.stdout, re.MULTILINE).group(1)
    failure = run.stdout[run.stdout.index("[test_fuzz_valid_nonce_passes_once] the contract is broken"):]
    for expected in ("the contract is broken (documented error nonce-reused)\n",
                     "  doc:      getting-started/errors.md (2024-08-19) › Common Errors › 400", "  expected: HTTP 400",
                     '  actual:   HTTP 400, Content-Type application/json, message "request nonce has already been used."',
                     "  differed: message\n",
                     '- message is "request nonce has already been used.", expected', "curl -sS -i -X GET",
                     "Bearer <masked:authToken>"):
        assert expected in failure, expected
    # Each drawn value once: named by the record (and sent by its curl), not again in Hypothesis' batch.
    drawn = re.search(r"^  drawn:    '([^']+)'$", failure, re.MULTILINE).group(1)
    # (The curl sends it as bytes, so a value with a tab or padding reads differently there: count the record's line.)
    before_replay = failure.split("  replay:")[0]
    assert before_replay.count("  drawn:") == 1 and before_replay.count(drawn) <= 2, failure[:3000]
    assert "batch=[(" not in failure, failure[:3000]
    for noise in TRACEBACK_NOISE:
        assert noise not in run.output, noise
    args = replay_args(run.stdout, "test_fuzz_valid_nonce_passes_once")
    assert args[0] == "tests/test_fuzz_headers.py::test_fuzz_valid_nonce_passes_once"
    assert "--hypothesis-seed=%s" % seed in args and "nonce-replay-message" in args
    html = (out / "r.html").read_text()
    assert '<pre class="details">[test_fuzz_valid_nonce_passes_once] the contract is broken' in html
    assert "replay:   pytest tests/test_fuzz_headers.py::test_fuzz_valid_nonce_passes_once" in html


def test_the_replay_command_finds_the_same_example(failed_property) -> None:
    """Run as printed (seed and budget), the property fails again on the same tier after as many examples."""
    run, _ = failed_property
    again = run_suite(*replay_args(run.stdout, "test_fuzz_valid_nonce_passes_once"))
    assert again.returncode == 1, again.output[-3000:]

    def found(output: str) -> tuple[str, str]:
        tier = re.search(r"^\[fuzz X-DFNS-NONCE \(reused\), tier ([\w+-]+)\]", output, re.MULTILINE).group(1)
        examples = re.search(r"^ +(\d+) examples +\S+::test_fuzz_valid_nonce_passes_once$", output, re.MULTILINE).group(1)
        return tier, examples

    assert found(again.stdout) == found(run.stdout)


def test_the_event_stream_carries_the_case_its_verdict_and_replay(failed_property) -> None:
    """``--report-log`` (pytest-reportlog), here outside the project and space-separated: one JSON line per report."""
    _, out = failed_property
    records = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    [call] = [r for r in records if r.get("$report_type") == "TestReport" and r["when"] == "call"]
    assert call["dfns_error"] == "nonce-reused" and call["dfns_verdict"] == "failed"
    assert call["dfns_case"] == "test_fuzz_valid_nonce_passes_once" and "--hypothesis-seed=" in call["dfns_replay"]
    assert "<masked:authToken>" in call["dfns_details"]
    assert records[-1] == {"exitstatus": 1, "$report_type": "SessionFinish"}


def test_a_failed_race_and_replay_model_read_like_cases_and_reach_the_html(tmp_path: Path) -> None:
    """Derandomized (``ci``): the model's walk, Hypothesis' blob to replay it, and the command without a seed."""
    html, report = tmp_path / "r.html", tmp_path / "r.json"
    run = run_suite("tests/test_fuzz_replay_model.py", "tests/test_replay_races.py", "-k", "rules or nonce",
                    "--dfns-hypothesis-profile", "ci", "--dfns-mock-fault", "nonce-replay-message",
                    "--dfns-contract-report-html", str(html), "--dfns-contract-report", str(report))
    assert run.returncode == 1, run.output[-3000:]
    for noise in TRACEBACK_NOISE:
        assert noise not in run.output, noise
    model = run.stdout[run.stdout.index("[test_replay_rules_hold_in_any_order] the contract is broken (exercises"):]
    assert "\nwalk:\n  1. " in model and "@reproduce_failure(" in model and "Bearer <masked:authToken>" in model
    args = replay_args(run.stdout, "test_replay_rules_hold_in_any_order")
    assert "ci" in args and not any(arg.startswith("--hypothesis-seed") for arg in args)
    race = run.stdout[run.stdout.index("[test_one_nonce_sent_at_once_passes_once] the contract is broken"):]
    assert "[nonce-reused-race] a concurrent reuse" in race and "curl -sS -i" in race
    # The other checks this selection left out are listed too, as not run (a selection is never a certification).
    [check] = [c for c in json.loads(report.read_text())["otherChecks"] if "test_replay_rules_hold" in c["nodeid"]]
    assert check["outcome"] == "failed" and "\nwalk:\n  1. " in check["details"]
    assert check["failures"][0]["context"].startswith("walk:\n  1. ")
    page = html.read_text()
    assert "Other checks: fuzzing and the replay model" in page and "walk:" in page
    assert "[test_one_nonce_sent_at_once_passes_once] the contract is broken" in page
