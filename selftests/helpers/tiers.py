"""The two tiers of the selftests: ``pytest selftests`` runs the fast one, ``-m slow`` the full one.

The full tier (marker ``slow``; ``mutation`` implies it) is whole-suite runs whose property is the
whole run: the mutation matrix, bootstrap per version, runs at once, slow targets. Left out of a
plain ``pytest selftests`` by deselection, never by skipping, so a skip still means "not here".
"""

from __future__ import annotations

import pytest

#: The command that runs what the fast tier leaves out (printed with the count).
FULL_TIER_COMMAND = "pytest selftests -n 2 -m slow"

#: Markers an ``-m`` expression names when its author chose the tier themselves.
TIER_MARKERS = ("slow", "mutation")

_left_out: list[int] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("selftests").addoption(
        "--full-tier", action="store_true", default=False,
        help="run the slow selftests too (the full tier: %s alone runs just them)" % FULL_TIER_COMMAND)


def chooses_tier(markexpr: str) -> bool:
    """Whether an ``-m`` expression names a tier marker: then it alone decides what runs."""
    words = markexpr.replace("(", " ").replace(")", " ").split()
    return any(marker in words for marker in TIER_MARKERS)


def named_on_command_line(config: pytest.Config) -> tuple[str, ...]:
    """The node ids the command line names (``path::test``), as ``rootdir``-relative prefixes."""
    named = []
    for arg in config.args:
        if "::" not in arg:
            continue
        path, _, rest = arg.partition("::")
        try:
            relative = (config.invocation_params.dir / path).resolve().relative_to(config.rootpath)
        except ValueError:
            continue
        named.append("%s::%s" % (relative.as_posix(), rest))
    return tuple(named)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the matrix ``slow``, then leave the slow tier out unless ``-m``, ``--full-tier`` or a node id asks.

    ``tryfirst``: the ``slow`` that ``mutation`` implies must be on the items before ``-m`` is matched.
    """
    for item in items:
        if item.get_closest_marker("mutation") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
    if config.getoption("full_tier") or chooses_tier(config.getoption("markexpr") or ""):
        return
    named = named_on_command_line(config)
    kept, slow = [], []
    for item in items:
        explicit = any(item.nodeid == n or item.nodeid.startswith((n + "[", n + "::")) for n in named)
        (slow if item.get_closest_marker("slow") and not explicit else kept).append(item)
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = kept
    _left_out.append(len(slow))
    if hasattr(config, "workeroutput"):
        config.workeroutput["slow_left_out"] = len(slow)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # noqa: ANN001 - xdist's hook: a worker's count reaches the controller
    count = getattr(node, "workeroutput", {}).get("slow_left_out")
    if count is not None:
        _left_out.append(count)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # noqa: ANN001
    if hasattr(config, "workerinput") or not _left_out or not max(_left_out):
        return
    terminalreporter.write_line("fast tier: %d slow selftests left out (the full tier: %s)"
                                % (max(_left_out), FULL_TIER_COMMAND))
