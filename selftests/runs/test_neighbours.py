"""The plugin beside others: an unrelated project keeps its pytest, old option names still work, plugins of the family coexist.

The plugin is a ``pytest11`` entry point, so it loads in every pytest run of
its virtualenv. Where no suite is collected it must change nothing; where
pytest-selenium, pytest-html, pytest-metadata or pytest-rerunfailures are
installed (``tox -e neighbours``), pytest must start and the suite must still
test its target (not be skipped by pytest-selenium's safety check).
"""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

from selftests.helpers.suite_runner import run_suite

NEIGHBOURS = ("pytest_selenium", "pytest_html", "pytest_metadata", "pytest_rerunfailures")
ONE_CASE = ("tests/test_documented_errors.py", "-k", "nonce-reused-immediately")

#: Prints what Hypothesis did and had: examples run, the loaded profile, its budget and deadline.
HYPOTHESIS_PROBE = '''
from hypothesis import given, settings, strategies as st

CALLS = []

@given(st.integers())
def test_a_property(n):
    CALLS.append(n)

def test_report_what_hypothesis_did():
    print("HYPOTHESIS calls=%d profile=%s max_examples=%d deadline=%s" % (
        len(CALLS), settings.get_current_profile_name(), settings.default.max_examples, settings.default.deadline))
'''

OWN_CI_PROFILE = '''
import os
from hypothesis import settings

settings.register_profile("ci", max_examples=7)
settings.load_profile("ci" if os.environ.get("CI") else "default")
'''

@pytest.fixture
def unrelated(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Another project in this virtualenv (the plugin is installed, not activated), run under CI=1."""
    monkeypatch.setenv("CI", "1")
    for name in [name for name in os.environ if name.startswith(("DFNS_", "PYTEST_"))]:
        monkeypatch.delenv(name)
    return pytester


def run_unrelated(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", *args)


def hypothesis_line(result: pytest.RunResult) -> str:
    result.assert_outcomes(passed=2)
    # pytest's own "plugins:" line names every installed plugin; nothing else may mention the suite.
    assert not [line for line in result.outlines if "dfns" in line.lower() and not line.startswith("plugins:")], result.outlines
    # With -s the line follows the progress dot of the test that printed it.
    return next(line[line.index("HYPOTHESIS "):] for line in result.outlines if "HYPOTHESIS " in line)


def test_an_unrelated_project_keeps_hypothesis_defaults(unrelated: pytest.Pytester) -> None:
    """Hypothesis behaves exactly as with the plugin disabled (under CI=1 that is Hypothesis' own ci profile)."""
    unrelated.makepyfile(test_unrelated=HYPOTHESIS_PROBE)
    installed = hypothesis_line(run_unrelated(unrelated, "-s"))
    disabled = hypothesis_line(run_unrelated(unrelated, "-s", "-p", "no:dfns_contract"))
    assert installed == disabled, (installed, disabled)
    assert "calls=100 " in installed and "max_examples=100 " in installed


def test_an_unrelated_project_keeps_its_own_ci_profile(unrelated: pytest.Pytester) -> None:
    unrelated.makeconftest(OWN_CI_PROFILE)
    unrelated.makepyfile(test_unrelated=HYPOTHESIS_PROBE)
    line = hypothesis_line(run_unrelated(unrelated, "-s"))
    assert line.startswith("HYPOTHESIS calls=7 profile=ci max_examples=7 "), line


def test_an_unrelated_project_gets_none_of_the_suites_fixtures(unrelated: pytest.Pytester) -> None:
    unrelated.makepyfile(test_unrelated="def test_x(dfns_client):\n    pass\n")
    result = run_unrelated(unrelated)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'dfns_client' not found*"])


def test_the_suites_own_profile_applies_to_its_property_tests() -> None:
    """The control for the two above: in the suite, its budget (dev: 32 values) is what a property runs."""
    run = run_suite("tests/test_fuzz_headers.py", "-k", "invalid_nonce", "--dfns-hypothesis-profile", "dev")
    assert run.returncode == 0, run.output[-3000:]
    assert re.search(r"^\s+32 examples  tests/test_fuzz_headers.py::test_fuzz_invalid_nonce$", run.stdout, re.MULTILINE), run.stdout


OLD_NAMES = {
    "--require-all": "--dfns-require-all",
    "--contract-report": "--dfns-contract-report",
    "--allow-destructive": "--dfns-allow-destructive",
}


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_old_option_names_still_work_and_warn_once(tmp_path, workers: tuple[str, ...]) -> None:
    report = tmp_path / "report.json"
    run = run_suite(*ONE_CASE, "--require-all", "--contract-report=%s" % report, "--allow-destructive", *workers)
    # --require-all acted: one case of nonce-reused ran, so no documented error is verified and all fail the gate.
    assert run.returncode == 1, run.output[-3000:]
    assert "--dfns-require-all: the run fails because 11 documented errors were not verified" in run.output
    assert report.is_file(), "--contract-report=PATH did not write the report"
    for old, new in OLD_NAMES.items():
        warning = "%s is deprecated: use %s" % (old, new)
        assert run.output.count(warning) == 1, (warning, run.output[-3000:])


def test_the_new_names_do_not_warn(tmp_path) -> None:
    run = run_suite(*ONE_CASE, "--dfns-require-all", "--dfns-contract-report", str(tmp_path / "r.json"))
    assert run.returncode == 1 and "deprecated" not in run.output, run.output[-3000:]


def neighbours_installed() -> bool:
    missing = [name for name in NEIGHBOURS if importlib.util.find_spec(name) is None]
    if missing and os.environ.get("SELFTEST_REQUIRE_NEIGHBOURS"):
        pytest.fail("SELFTEST_REQUIRE_NEIGHBOURS is set but these plugins are not installed: %s" % ", ".join(missing))
    return not missing


@pytest.fixture
def neighbours() -> None:
    if not neighbours_installed():
        pytest.skip("pytest-selenium, pytest-html, pytest-metadata, pytest-rerunfailures not installed (tox -e neighbours)")


@pytest.mark.usefixtures("neighbours")
def test_pytest_starts_beside_the_family_and_the_suite_still_tests_its_target() -> None:
    run = run_suite("-q")
    assert run.returncode == 0, run.output[-3000:]
    assert re.fullmatch(r"\d+ passed(, \d+ deselected)? in [\d.]+s", run.stdout.splitlines()[-1]), run.stdout[-2000:]  # nothing skipped
    assert "documented errors: 10 verified, 0 failed, 0 not verified, 1 not provoked" in run.stdout


@pytest.mark.usefixtures("neighbours")
def test_sensitive_url_is_pytest_seleniums_and_ours_is_dfns_sensitive_url() -> None:
    help_text = run_suite("--help").stdout
    assert "--sensitive-url=SENSITIVE_URL" in help_text and "--dfns-sensitive-url=REGEX" in help_text
    run = run_suite(*ONE_CASE, "--sensitive-url", "nothing-matches-this")
    assert run.returncode == 0 and "deprecated" not in run.output, run.output[-3000:]
