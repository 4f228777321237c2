"""Prints the mutation matrix at the end of a selftest run (also under pytest-xdist)."""

import json

import pytest

from selftests.helpers.mutation import MatrixRow, format_table

def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "mutation_matrix":
            _rows.append(MatrixRow(**json.loads(value)))


_rows: list[MatrixRow] = []


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # noqa: ANN001
    if _rows and not hasattr(config, "workerinput"):
        terminalreporter.section("mutation matrix")
        terminalreporter.write_line(format_table(_rows))
