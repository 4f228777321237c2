"""Every test of the suite tied to a documented error, read from its files whatever the command line selected.

A selection is never a certification: ``pytest tests/test_documented_errors.py``
collects the replayed cases but not the races and fuzzing properties that
count towards the same errors, and a verdict built from what was collected
alone would call that run PASSED. So the suite's files are read here (their
syntax, not imported: nothing of a file a run did not name is executed) for
the tests that carry ``documented_error`` or ``exercises`` or take the
catalog's cases (``dfns_case``); a test of the inventory that no process
collected did not run, exactly like one that ``-k`` deselected.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The parameter through which a test receives each case of the catalog (``suite.CASE_ARGUMENT``).
CASE_ARGUMENT = "dfns_case"
#: The markers that tie a test to documented errors, and the one that ties it to a version's headers.
COUNTS, EXERCISES, HEADERS = "documented_error", "exercises", "requires_header"


@dataclass(frozen=True)
class SuiteTest:
    """One test function of the suite tied to documented errors (all its parametrized cases together)."""

    key: str  # ``tests/test_replay_races.py::test_one_nonce_sent_at_once_passes_once`` (relative to the rootdir)
    counts: tuple[str, ...]  # the error ids it counts towards (``documented_error``)
    exercises: tuple[str, ...]  # those it exercises without counting (``exercises``)
    headers: tuple[str, ...]  # request headers it needs (``requires_header``)
    cases: bool  # it replays every catalog case (``dfns_case``): its cases are the catalog's

    @property
    def ids(self) -> list[str]:
        return [*self.counts, *self.exercises]


def test_key(path: Path, name: str, root: Path) -> str:
    """The key of a collected test function: its file relative to ``root`` and its name without parameters."""
    return "%s::%s" % (Path(os.path.relpath(path, root)).as_posix(), name)


def item_key(item: pytest.Item, root: Path) -> str:
    """A collected item's ``test_key``: its parametrized cases share it."""
    name = getattr(item, "originalname", None) or getattr(item, "name", "")
    cls = getattr(item, "cls", None)
    return test_key(item.path, "%s::%s" % (cls.__name__, name) if cls is not None else name, root)


def read_suite(suite_dir: Path, root: Path) -> list[SuiteTest]:
    """The tied tests of every ``test_*.py`` under ``suite_dir``, in file then source order.

    A file that does not parse is left to pytest, which reports it as a collection error when it is collected.
    """
    found: list[SuiteTest] = []
    for path in sorted(suite_dir.rglob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        constants = _constants(tree)
        module_marks = _module_marks(tree, constants)
        for prefix, function in _test_functions(tree):
            marks = _merge(module_marks, [_mark(node, constants) for node in function.decorator_list])
            arguments = {arg.arg for arg in function.args.args + function.args.kwonlyargs}
            test = SuiteTest(test_key(path, prefix + function.name, root), tuple(marks.get(COUNTS, ())),
                             tuple(marks.get(EXERCISES, ())), tuple(marks.get(HEADERS, ())), CASE_ARGUMENT in arguments)
            if test.counts or test.exercises or test.cases:
                found.append(test)
    return found


def _test_functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Top-level ``test_*`` functions and the ``test_*`` methods of ``Test*`` classes (as pytest collects them)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            found.append(("", node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found += [(node.name + "::", member) for member in node.body
                      if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and member.name.startswith("test")]
    return found


def _constants(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """Module-level names bound to a literal tuple or list of strings (``CHECKED = ("nonce-reused", …)``)."""
    constants: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError):
                continue
            if isinstance(value, tuple | list) and all(isinstance(item, str) for item in value):
                constants[node.targets[0].id] = tuple(value)
    return constants


def _module_marks(tree: ast.Module, constants: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """The marks of ``pytestmark = …`` (one mark or a list of them)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            return _merge({}, [_mark(value, constants) for value in values])
    return {}


def _mark(node: ast.expr, constants: dict[str, tuple[str, ...]]) -> tuple[str, list[str]] | None:
    """``pytest.mark.NAME("a", *CONSTANT)`` → (NAME, its string arguments); None for any other decorator."""
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call is not None else node
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "mark"):
        return None
    args: list[str] = []
    for arg in call.args if call is not None else []:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            args.append(arg.value)
        elif isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
            args += constants.get(arg.value.id, ())
    return target.attr, args


def _merge(base: dict[str, list[str]], marks: list[tuple[str, list[str]] | None]) -> dict[str, list[str]]:
    merged = {name: list(args) for name, args in base.items()}
    for mark in marks:
        if mark is not None:
            merged.setdefault(mark[0], []).extend(mark[1])
    return merged
