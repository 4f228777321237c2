"""Each fault of the reference server must fail the suite; each benign variation must not; for every version.

Slow (one whole suite run per switch and version): the full tier (``mutation``
implies ``slow``), so a plain ``pytest selftests`` leaves it out and
``pytest selftests -n 2 -m slow`` runs it. The table is printed at the end of the run.

Which switches run against which version (``mutation.plan``), and why not
every switch against every version (that would triple the matrix for little):

* every benign variation against **every version**: a false alarm is a
  property of a version's catalog and recipes (a new entry's case could
  reject a gzip body or a header spelling the others accept), so each
  version's suite must pass each of them;
* the **default version** (2024-08-19) against every fault of its own errors
  (``Fault.since``), as before the versions existed;
* **2024-08-19-extended** against every fault of the flows its eleven new
  entries document (``since`` 2024-08-19-extended), behaviour switches (a
  check skipped) and answer switches (a status or a message rewritten) alike:
  this is where those flows are first judged. The first edit's faults are not
  run again: its entries, their recipes and the server's answers to them are
  the default version's, unchanged, so they would die the same way;
* **2026**, a suite of its own (no nonce or app id, another body:
  ``mutation.own_suite``), against every switch its catalog names: the
  token, permission, user-action and envelope switches of the pages that a
  2026 server can still break, and its own (the body, the statuses, the
  idempotency, the tenants, the permissions);
* **2025-02-07** against the switches that rewrite the answer of one of its
  entries that differ from the default version's (``mutation.new_entries``:
  the eleven, and the 401 whose message changed): the switches its catalog
  names for those entries. Its flows run the same code and
  recipes as 2024-08-19-extended's, so their behaviour switches would only
  repeat that version's results; what 2025-02-07 changes is an answer, and
  an answer switch is what tells whether its suite reads the new one.

Which switches a version judges, and which entries' cases each must fail, is
the catalog's data: an entry's ``server.faults`` (some case of the entry
fails) and ``server.variantFaults`` (that variant's own case fails: per-case
attribution), the catalog's ``faults`` (the suite fails as a whole). Each
switch must be caught where its catalog says, and
``test_every_new_entry_has_a_switch`` checks, without running anything,
that the plan holds a switch for each new entry of each version.
"""

import pytest

from dfns_contract.contract.schemas import DEFAULT_CONTRACT, published_contracts

from selftests.helpers.mutation import cases_to_catch, entries_to_catch, entry_of, new_entries, plan, run_against


def _id(pair: tuple[str, str]) -> str:
    return "%s:%s" % pair


@pytest.mark.mutation
@pytest.mark.parametrize("version_and_fault", plan("fault"), ids=_id)
def test_fault_is_killed(version_and_fault: tuple[str, str], record_property) -> None:
    version, fault = version_and_fault
    row = run_against(fault, "fault", version)
    record_property("mutation_matrix", row.to_json())
    assert row.killed, "fault %r survived the %s suite (exit %d):\n%s" % (fault, version, row.returncode, row.output_tail)
    caught_by = {entry_of(case, version) for case in row.failed_cases}
    missed = entries_to_catch(fault, version) - caught_by
    assert not missed, "fault %r breaks %s (its catalog says), whose cases did not fail (%s suite): %s" % (
        fault, ", ".join(sorted(missed)), version, ", ".join(row.failed_cases))
    uncaught = cases_to_catch(fault, version) - set(row.failed_cases)
    assert not uncaught, "fault %r was made for the cases %s, which did not fail (%s suite); failed: %s" % (
        fault, ", ".join(sorted(uncaught)), version, ", ".join(row.failed_cases))


@pytest.mark.mutation
@pytest.mark.parametrize("version_and_variation", plan("benign"), ids=_id)
def test_benign_variation_passes(version_and_variation: tuple[str, str], record_property) -> None:
    version, variation = version_and_variation
    row = run_against(variation, "benign", version)
    record_property("mutation_matrix", row.to_json())
    assert row.returncode == 0 and not row.failed_cases, (
        "false alarm on benign variation %r (%s suite): %s\n%s"
        % (variation, version, ", ".join(row.failed_cases), row.output_tail))


@pytest.mark.parametrize("version", [v for v in published_contracts() if v != DEFAULT_CONTRACT])
def test_every_new_entry_has_a_switch(version: str) -> None:
    """The plan runs, against each version, a switch that its catalog says must fail each of its new entries."""
    planned = [switch for v, switch in plan("fault") if v == version]
    covered = set().union(*(entries_to_catch(switch, version) for switch in planned))
    assert new_entries(version) - covered == set()
    assert new_entries(version)  # the control: a version with no new entry would prove nothing here
