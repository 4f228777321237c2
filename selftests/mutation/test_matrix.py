"""Each fault of the reference server must fail the suite; each benign variation must not.

Slow (one whole suite run per switch): ``pytest selftests -m "not mutation"``
leaves it out; ``pytest selftests -n 2`` halves it. The table is printed at
the end of the run.
"""

import pytest

from selftests.helpers.mutation import run_against, switches

pytestmark = pytest.mark.mutation


@pytest.mark.parametrize("fault", switches("fault"))
def test_fault_is_killed(fault: str, record_property) -> None:
    row = run_against(fault, "fault")
    record_property("mutation_matrix", row.to_json())
    assert row.killed, "fault %r survived the suite (exit %d):\n%s" % (fault, row.returncode, row.output_tail)


@pytest.mark.parametrize("variation", switches("benign"))
def test_benign_variation_passes(variation: str, record_property) -> None:
    row = run_against(variation, "benign")
    record_property("mutation_matrix", row.to_json())
    assert row.returncode == 0 and not row.failed_cases, (
        "false alarm on benign variation %r: %s\n%s" % (variation, ", ".join(row.failed_cases), row.output_tail))

