"""The mutation matrix: run the whole contract suite against each fault switch, for each published version.

A fault is killed when the suite fails against it; the JUnit report says
which contract cases caught it. A benign variation must leave the suite green.
Which switches run against which version is ``plan`` (``test_matrix.py``
says why).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from dfns_contract.contract.binding import load_contract
from dfns_contract.contract.schemas import DEFAULT_CONTRACT, published_contracts
from dfns_contract.server.contracts import faults_judged_by, judged_by
from dfns_contract.server.faults import FIRST_CONTRACT, describe_faults

from selftests.helpers.suite_runner import run_suite

TESTS_FAILED = 1


@dataclass
class MatrixRow:
    switch: str
    kind: str  # "fault" or "benign"
    returncode: int
    failed_cases: list[str]
    seconds: float
    output_tail: str
    contract: str = DEFAULT_CONTRACT

    @property
    def killed(self) -> bool:
        return self.returncode == TESTS_FAILED and bool(self.failed_cases)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def switches(kind: str, contract: str = FIRST_CONTRACT) -> list[str]:
    """The switches of ``kind`` a suite of ``contract`` judges: those its catalog names (every benign one)."""
    judged = set(faults_judged_by(contract))
    return [name for name, switch_kind, _ in describe_faults() if switch_kind == kind and name in judged]


def entries_to_catch(switch: str, version: str) -> frozenset[str]:
    """The entries of ``version`` one of whose cases must fail under ``switch``: those whose ``server`` names it."""
    return frozenset(e.id for e in load_contract(version).errors if switch in e.switches())


def cases_to_catch(switch: str, version: str) -> frozenset[str]:
    """The cases of ``version`` that must fail under ``switch`` themselves (``server.variantFaults``)."""
    return frozenset("%s-%s" % (e.id, variant) for e in load_contract(version).errors
                     for variant, names in e.variant_faults.items() if switch in names)


def new_entries(version: str) -> frozenset[str]:
    """The entries ``version`` documents otherwise than the default version (added, or with another answer)."""
    default = {(e.id, e.status, e.message) for e in load_contract(DEFAULT_CONTRACT).errors}
    return frozenset(e.id for e in load_contract(version).errors if (e.id, e.status, e.message) not in default)


def own_suite(version: str) -> bool:
    """A version whose requests or error body differ from the default's (2026: no nonce or app id, another
    body): its suite shares little with the default's, so it is run against every switch it judges."""
    default, catalog = load_contract(DEFAULT_CONTRACT), load_contract(version)
    return (catalog.envelope, catalog.request_headers) != (default.envelope, default.request_headers)


def plan(kind: str) -> list[tuple[str, str]]:
    """(version, switch) for every run of the matrix: benign variations against every version; faults against the
    first version whose catalog names them, against a version of its own (``own_suite``) when its catalog names
    them, and against another version when they break one of its new entries (``contracts.judged_by``)."""
    runs = []
    for version in published_contracts():
        separate = own_suite(version)
        for switch in (name for name, switch_kind, _ in describe_faults() if switch_kind == kind):
            judges = judged_by(switch)
            if kind == "benign" or judges[:1] == (version,) or (separate and version in judges) or (
                    version != DEFAULT_CONTRACT and not separate
                    and entries_to_catch(switch, version) & new_entries(version)):
                runs.append((version, switch))
    return runs


def entry_of(case: str, version: str) -> str | None:
    """The catalog entry a failing case (``failed_cases``' spelling) counts for, if it is a replayed case."""
    return next((c.error.id for c in load_contract(version).cases() if c.id == case), None)


def case_name(testcase: ElementTree.Element) -> str:
    """``test_documented_error[nonce-reused-immediately]`` → ``nonce-reused``; other tests keep their name."""
    name = testcase.get("name", "")
    match = re.search(r"\[(.*)\]$", name)
    return match.group(1) if match else name.removeprefix("test_")


def failed_cases(junit_xml: Path) -> list[str]:
    tree = ElementTree.parse(junit_xml)
    return sorted(
        case_name(case)
        for case in tree.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    )


#: Runs the matrix's suites under this fuzzing budget and its request plan (``trial``: as behind a trial quota,
#: which the embedded server does not have), e.g. ``DFNS_MATRIX_BUDGET=trial pytest selftests/mutation -k 2026``.
MATRIX_BUDGET = "DFNS_MATRIX_BUDGET"


def budget_args() -> tuple[str, ...]:
    """``--dfns-hypothesis-profile`` for each suite run when ``DFNS_MATRIX_BUDGET`` names one, else nothing."""
    chosen = os.environ.get(MATRIX_BUDGET)
    return ("--dfns-hypothesis-profile", chosen) if chosen else ()


def run_against(switch: str, kind: str, contract: str = DEFAULT_CONTRACT) -> MatrixRow:
    """The whole suite of ``contract``'s version against the embedded server of that version, with ``switch`` on."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        started = time.perf_counter()
        run = run_suite("-q", "--dfns-contract", contract, "--dfns-mock-fault", switch, "--junitxml", str(report),
                        *budget_args())
        seconds = time.perf_counter() - started
        cases = failed_cases(report) if report.exists() else []
    tail = "\n".join(run.output.strip().splitlines()[-15:])
    if kind == "benign" and run.returncode != 0:
        tail = failures_section(run.output) + "\n[...]\n" + tail  # a false alarm must be diagnosable from CI's log
    return MatrixRow(switch, kind, run.returncode, cases, round(seconds, 2), tail, contract)


def failures_section(output: str, limit: int = 12000) -> str:
    """pytest's FAILURES and ERRORS sections of a run's output (the records of what differed), at most ``limit``
    characters: the last 15 lines alone do not say why a benign variation failed."""
    start = min((i for i in (output.find("= ERRORS ="), output.find("= FAILURES =")) if i >= 0), default=-1)
    if start < 0:
        return ""
    end = output.find("short test summary info", start)
    section = output[start:end if end > 0 else None]
    return section if len(section) <= limit else section[:limit] + "\n[... %d more characters]" % (len(section) - limit)


def format_table(rows: list[MatrixRow]) -> str:
    """version, switch → verdict → the cases that caught it; then each case → the faults only it caught."""
    width = max([27, *(len(row.switch) for row in rows)])
    lines = ["%-19s %-*s %-7s %-9s %s" % ("version", width, "switch", "kind", "verdict", "failing contract cases")]
    for row in sorted(rows, key=lambda r: (r.contract, r.kind, r.switch)):
        if row.kind == "fault":
            verdict = "killed" if row.killed else "SURVIVED"
        else:
            verdict = "passed" if row.returncode == 0 else "FALSE-ALARM"
        lines.append("%-19s %-*s %-7s %-9s %s" % (row.contract, width, row.switch, row.kind, verdict,
                                                    ", ".join(row.failed_cases) or "-"))
    faults = [r for r in rows if r.kind == "fault"]
    by_case: dict[str, list[str]] = {}
    for row in faults:
        for case in row.failed_cases:
            by_case.setdefault(case, []).append(row.switch)
    lines.append("")
    lines.append("%-48s %-6s %s" % ("contract case", "kills", "faults no other case kills"))
    for case in sorted(by_case):
        unique = sorted({r.switch for r in faults if r.failed_cases == [case]})
        lines.append("%-48s %-6d %s" % (case, len(by_case[case]), ", ".join(unique) or "-"))
    lines.append("")
    for version in sorted({row.contract for row in rows}):
        faults = [r for r in rows if r.kind == "fault" and r.contract == version]
        benign = [r for r in rows if r.kind == "benign" and r.contract == version]
        lines.append("%s: faults killed: %d/%d; benign variations passed: %d/%d; suite runs: %.1f s in all"
                     % (version, sum(r.killed for r in faults), len(faults), sum(r.returncode == 0 for r in benign),
                        len(benign), sum(r.seconds for r in faults + benign)))
    return "\n".join(lines)
