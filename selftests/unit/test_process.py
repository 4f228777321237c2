"""What each pytest process of the suite saves at its start and its end (``dfns_contract.process``).

Each check runs a fresh pytest process (pytester, subprocess): what a process
imported and registered before cannot be seen from inside this one.
"""

from __future__ import annotations

import pytest

from dfns_contract.plugin.internals import NOT_REWRITTEN, skip_assertion_rewriting

LOADERS = '''
import importlib, sys

def loader_of(name):
    return type(importlib.import_module(name).__loader__).__name__

def test_libraries_load_from_their_bytecode():
    assert loader_of("hypothesis.strategies") != "AssertionRewritingHook"
    assert loader_of("anyio") != "AssertionRewritingHook"
    assert loader_of("dfns_contract.client") != "AssertionRewritingHook"

def test_the_test_module_itself_is_rewritten():
    assert type(sys.modules[__name__].__loader__).__name__ == "AssertionRewritingHook"

def test_a_failing_assert_still_explains_itself():
    assert [1, 2, 3] == [1, 2, 4]
'''


def test_only_the_tests_asserts_are_rewritten(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_loaders=LOADERS)
    # As the project's pytest.ini does: anyio's own plugin would import anyio before this one loads.
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=2, failed=1)
    # pytest's own explanation of the failed comparison: rewriting still works where it is read.
    result.stdout.fnmatch_lines(["*At index 2 diff: 3 != 4*"])


def test_without_the_plugin_pytest_rewrites_them_all(pytester: pytest.Pytester) -> None:
    """The control: the first test above fails when nothing unmarks the libraries."""
    pytester.makepyfile(test_loaders=LOADERS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:dfns_contract",
                                           "-k", "bytecode")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionRewritingHook*"])


def test_unmarking_without_a_rewriting_hook_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "meta_path", [finder for finder in sys.meta_path
                                           if type(finder).__name__ != "AssertionRewritingHook"])
    assert skip_assertion_rewriting(NOT_REWRITTEN) == []


FREEZE_PROBE = '''
import atexit, gc, sys

# Registered before the plugin's pytest_configure, so it runs after the plugin's handler (LIFO).
atexit.register(lambda: sys.stdout.write("frozen at exit: %d\\n" % gc.get_freeze_count()))
'''
#: A conftest that makes its folder a contract suite, as tests/conftest.py does.
ACTIVATE = '''
from pathlib import Path
from dfns_contract.plugin.suite import activate

def pytest_configure(config):
    activate(config, Path(__file__).parent)
'''


def test_the_heap_is_frozen_at_exit_not_before(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FREEZE_PROBE + ACTIVATE)
    pytester.makepyfile(test_nothing_frozen="import gc\ndef test_x():\n    assert gc.get_freeze_count() == 0\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    line = next(line for line in result.outlines if line.startswith("frozen at exit: "))
    assert int(line.split(": ")[1]) > 10_000, line


@pytest.mark.parametrize("plugin", ["installed, not activated", "disabled"])
def test_without_the_suite_nothing_is_frozen(pytester: pytest.Pytester, plugin: str) -> None:
    pytester.makeconftest(FREEZE_PROBE)
    pytester.makepyfile(test_nothing="def test_x():\n    pass\n")
    disabled = ("-p", "no:dfns_contract") if plugin == "disabled" else ()
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", *disabled)
    result.assert_outcomes(passed=1)
    assert "frozen at exit: 0" in result.outlines
