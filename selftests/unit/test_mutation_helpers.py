"""The mutation matrix's own helpers (selftests/helpers/mutation.py)."""

from selftests.helpers.mutation import failures_section

RUN = """tests/test_fuzz_headers.py .F
=================================== FAILURES ===================================
_ test_fuzz_invalid_nonce _
  differed: message
=========================== short test summary info ============================
FAILED tests/test_fuzz_headers.py::test_fuzz_invalid_nonce
"""


def test_a_false_alarm_keeps_pytests_failures_section() -> None:
    section = failures_section(RUN)
    assert section.startswith("= FAILURES =") and "differed: message" in section
    assert "short test summary" not in section


def test_a_green_run_has_no_failures_section() -> None:
    assert failures_section("tests/test_documented_errors.py ....\n1 passed\n") == ""


def test_a_long_section_is_cut_and_says_so() -> None:
    section = failures_section(RUN.replace("differed: message", "x" * 500), limit=100)
    assert len(section) < 200 and section.endswith("more characters]")
