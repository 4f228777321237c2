"""The package's import graph, read from its source: no cycle anywhere, and the layers point one way.

Every import counts, at module level, inside functions and under
``TYPE_CHECKING``: a cycle broken by a late import is still a cycle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "dfns_contract"
#: What each package may import from this one (besides itself); server/ and wire/ stand alone.
LAYERS = {
    "wire": set(),
    "server": {"wire"},
    "client": {"wire"},
    "contract": {"wire", "client"},
    "reporting": {"wire", "client", "contract"},
    "plugin": {"wire", "client", "contract", "reporting", "server"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The modules of the package that ``path`` imports (``from . import x`` resolved to the module ``x``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update("%s.%s" % (base, alias.name) for alias in node.names)
    return {module for module in found if module in MODULES}


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {module: imports_of(path) - {module} for module, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that returns to its start, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_packages_import_only_the_layers_below() -> None:
    wrong = sorted(
        "%s imports %s" % (module, target)
        for module, targets in GRAPH.items() for target in targets
        if package_of(module) in LAYERS and package_of(target) not in LAYERS[package_of(module)] | {package_of(module), None}
    )
    assert wrong == []


@pytest.mark.parametrize("graph, cycle", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": set(), "c": {"a"}}, None),
])
def test_the_cycle_finder_finds_a_planted_cycle(graph, cycle) -> None:
    """The control: the check can fail."""
    assert find_cycle(graph) == cycle


def test_the_graph_sees_late_and_type_checking_imports() -> None:
    """The control for the reader: imports inside functions and under TYPE_CHECKING are edges too."""
    assert "dfns_contract.client" in GRAPH["dfns_contract.contract.recipes"]  # TYPE_CHECKING only
    assert "dfns_contract.server.runner" in GRAPH["dfns_contract.plugin.fixtures"]  # inside a fixture
