"""The mutation matrix: run the whole contract suite against each fault switch.

A fault is killed when the suite fails against it; the JUnit report says
which contract cases caught it. A benign variation must leave the suite green.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from dfns_contract.server.contracts import faults_judged_by
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

    @property
    def killed(self) -> bool:
        return self.returncode == TESTS_FAILED and bool(self.failed_cases)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def switches(kind: str, contract: str = FIRST_CONTRACT) -> list[str]:
    """The switches of ``kind`` a suite of ``contract`` judges: a fault of an error only a later
    edit of the page documents (``Fault.since``) rightly survives an earlier edit's suite."""
    judged = set(faults_judged_by(contract))
    return [name for name, switch_kind, _ in describe_faults() if switch_kind == kind and name in judged]


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


def run_against(switch: str, kind: str) -> MatrixRow:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        started = time.perf_counter()
        run = run_suite("-q", "--dfns-mock-fault", switch, "--junitxml", str(report))
        seconds = time.perf_counter() - started
        cases = failed_cases(report) if report.exists() else []
    tail = "\n".join(run.output.strip().splitlines()[-15:])
    return MatrixRow(switch, kind, run.returncode, cases, round(seconds, 2), tail)


def format_table(rows: list[MatrixRow]) -> str:
    """switch → verdict → the cases that caught it; then each case → the faults only it caught."""
    width = max([27, *(len(row.switch) for row in rows)])
    lines = ["%-*s %-7s %-9s %s" % (width, "switch", "kind", "verdict", "failing contract cases")]
    for row in sorted(rows, key=lambda r: (r.kind, r.switch)):
        if row.kind == "fault":
            verdict = "killed" if row.killed else "SURVIVED"
        else:
            verdict = "passed" if row.returncode == 0 else "FALSE-ALARM"
        lines.append("%-*s %-7s %-9s %s" % (width, row.switch, row.kind, verdict,
                                             ", ".join(row.failed_cases) or "-"))
    faults = [r for r in rows if r.kind == "fault"]
    by_case: dict[str, list[str]] = {}
    for row in faults:
        for case in row.failed_cases:
            by_case.setdefault(case, []).append(row.switch)
    lines.append("")
    lines.append("%-48s %-6s %s" % ("contract case", "kills", "faults no other case kills"))
    for case in sorted(by_case):
        unique = [r.switch for r in faults if r.failed_cases == [case]]
        lines.append("%-48s %-6d %s" % (case, len(by_case[case]), ", ".join(unique) or "-"))
    killed = sum(r.killed for r in faults)
    benign = [r for r in rows if r.kind == "benign"]
    lines.append("")
    lines.append("faults killed: %d/%d; benign variations passed: %d/%d; suite runs: %.1f s in all"
                 % (killed, len(faults), sum(r.returncode == 0 for r in benign), len(benign),
                    sum(r.seconds for r in rows)))
    return "\n".join(lines)
