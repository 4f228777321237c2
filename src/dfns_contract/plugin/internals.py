"""Every place the plugin touches pytest's (or its assertion rewriter's) internals, in one file.

Each is pinned by the range in pyproject.toml (pytest 9) and guarded by a selftest:

* ``repair_setup``: keep ``--dfns-profile /elsewhere/profile.json`` from moving
  pytest's rootdir (``test_profile_outside_the_project_keeps_the_rootdir``);
* ``rename_deprecated_options``: the option names of earlier releases, still
  accepted with a warning (``test_old_option_names_still_work_and_warn_once``);
* ``add_junit_properties``: the run's target and word as global properties of
  the JUnit XML report (``selftests/runs/test_verdict.py``);
* ``skip_assertion_rewriting``: no assertion rewriting of libraries whose
  asserts no user reads (``selftests/unit/plugin/test_process.py``);
* ``mask_before_truncating``: pytest masks a repr, a diff or an assertion's
  explanation before it cuts it (``selftests/unit/test_masking.py``, and the
  sweep of every output in ``selftests/runs/test_secrets.py``);
* ``hide_collected_items``: ``--dfns-list`` shows its list instead of pytest's
  item-by-item listing of a collection, and still exits 0
  (``selftests/runs/test_reading.py``).

It imports nothing of this package: the entry module calls
``skip_assertion_rewriting`` before it imports the rest.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from _pytest.config.findpaths import determine_setup
from _pytest.junitxml import xml_key

#: Import names whose modules pytest need not rewrite: dependencies of the suite
#: that register pytest plugins, and this package itself.
NOT_REWRITTEN: tuple[str, ...] = ("hypothesis", "_hypothesis_pytestplugin", "anyio", "xdist", "dfns_contract")


def add_junit_properties(config: pytest.Config, properties: dict[str, str]) -> None:
    """Global ``<properties>`` of the ``--junitxml`` report (what ``record_testsuite_property`` adds), if one is written."""
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        for name, value in properties.items():
            xml.add_global_property(name, value)


def hide_collected_items(session: pytest.Session) -> None:
    """From ``pytest_collection_finish``: pytest's terminal lists no item of this collection-only run.

    The terminal lists ``session.items`` after this hook; the session counts
    the tests (for its exit status, and "N tests collected") from the list it
    built, which stays as it was: only the session's attribute is rebound.
    """
    session.items = []


def rename_deprecated_options(early_config: pytest.Config, args: list[str], deprecated: dict[str, str]) -> None:
    """Accept the old option names (``deprecated``: old flag → new flag) as their new names, one warning each.

    The old names are not registered with argparse: pytest-selenium registers
    ``--sensitive-url`` itself, and two plugins registering one flag stop
    pytest from starting. So the arguments are renamed here, before pytest
    parses them, and only where no other plugin owns the old name. The early
    parse (which read the old flag's value as a test path) is then redone. A
    pytest-xdist worker parses the controller's arguments again: it renames
    them silently (the controller has warned).
    """
    owned = _registered_flags(early_config)
    renamed: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            break
        flag, sep, rest = arg.partition("=")
        new = deprecated.get(flag)
        if new and flag not in owned:
            args[index] = new + sep + rest
            if flag not in renamed:
                renamed.append(flag)
    if not renamed:
        return
    early_config.known_args_namespace = early_config._parser.parse_known_args(
        args, namespace=early_config.known_args_namespace)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for flag in renamed:
        early_config.issue_config_time_warning(pytest.PytestDeprecationWarning(
            "%s is deprecated: use %s (the old name goes in a later release)" % (flag, deprecated[flag])), stacklevel=2)


def _registered_flags(early_config: pytest.Config) -> set[str]:
    """Every flag some plugin registered (the old names are not ours: those are another plugin's)."""
    parser = early_config._parser
    groups = [parser._anonymous, *parser._groups]
    return {name for group in groups for option in group.options for name in option.names()}


def repair_setup(early_config: pytest.Config, args: list[str], path_dests: tuple[str, ...]) -> None:
    """Keep ``--dfns-profile /elsewhere/profile.json`` from moving pytest's rootdir.

    pytest decides its rootdir and ini file before it loads any installed
    plugin. At that moment ``--dfns-profile`` (or any other option of ours that
    takes a path, ``path_dests``) is unknown, so the path after it is
    taken for a test path: its folder becomes the rootdir, ``pytest.ini`` is not
    read (no ``testpaths``, no ``addopts``) and pytest collects the current
    folder, selftests and all. Once the plugin is loaded the option is known,
    so the setup is computed again from the real test paths and, if pytest's
    guess was wrong, the right rootdir, ini file and ini ``addopts`` are put back.
    """
    ns = early_config.known_args_namespace
    if not any(getattr(ns, name, None) for name in path_dests):
        return
    rootpath, inipath, inicfg, ignored = determine_setup(
        inifile=ns.inifilename,
        override_ini=ns.override_ini,
        args=ns.file_or_dir,
        rootdir_cmd_arg=ns.rootdir or None,
        invocation_dir=early_config.invocation_params.dir,
    )
    if (rootpath, inipath) == (early_config.rootpath, early_config.inipath):
        return
    early_config._rootpath = rootpath
    early_config._inipath = inipath
    early_config._inicfg = inicfg
    early_config._ignored_config_files = ignored
    early_config._inicache.clear()
    early_config._parser.extra_info.update(rootdir=str(rootpath), inifile=str(inipath))
    args[:] = early_config._validate_args(early_config.getini("addopts"), "via addopts config") + args
    confcutdir_given = ns.confcutdir not in (None, str(early_config.rootpath))
    early_config.known_args_namespace = early_config._parser.parse_known_args(args, namespace=ns)
    if not confcutdir_given:
        early_config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)


def skip_assertion_rewriting(names: tuple[str, ...] = NOT_REWRITTEN) -> list[str]:
    """Keep pytest's assertion rewriting to the modules whose asserts a person reads.

    pytest rewrites the asserts of every module in the distribution of every
    installed plugin, so that a plugin's assertion helpers report like test
    code. Hypothesis, anyio and pytest-xdist ship plugins, so all their modules
    are parsed, rewritten and compiled at import, in every pytest process:
    pytest caches the result only where it may write bytecode, and CI images
    commonly set ``PYTHONDONTWRITEBYTECODE=1``. Measured: 0.8-1.2 s per
    process. None of these libraries' asserts is ever shown to a user of the
    suite (a contract failure is reported by the suite's own messages), and the
    test modules and conftest files are rewritten as before. Unmarked
    libraries are imported the ordinary way, from the bytecode pip compiled.

    This edits the hook's private set of marked names, so it checks the shape
    it expects and does nothing otherwise: a pytest that changed it runs as
    before, only slower. Modules imported before the call stay as they were.
    Returns the names it unmarked.
    """
    hook = next((finder for finder in sys.meta_path if type(finder).__name__ == "AssertionRewritingHook"), None)
    marked = getattr(hook, "_must_rewrite", None)
    cache = getattr(hook, "_marked_for_rewrite_cache", None)
    if not isinstance(marked, set) or not isinstance(cache, dict):
        return []
    unmarked = sorted(marked.intersection(names))
    marked.difference_update(unmarked)
    cache.clear()
    return unmarked


#: Where pytest releases keep the diff of two strings (it skips their identical ends, then caps them).
DIFF_TEXT_MODULES = ("_pytest.assertion.compare_text", "_pytest.assertion.util")
#: Marks a function of pytest's that masks its text first (so it is never wrapped twice).
_MASKS_FIRST = "_dfns_masks_first"
_ABSENT = object()


class Patches:
    """Attributes of pytest's replaced in this process, and how to put them back."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._saved: list[tuple[Any, str, Any]] = []

    def wrap(self, module: str, path: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        """Replace ``module.path`` (``name`` or ``Class.name``) by ``make(original)``, if it is there and a function."""
        try:
            owner: Any = importlib.import_module(module)
        except ImportError:
            return
        *classes, name = path.split(".")
        for cls in classes:
            owner = getattr(owner, cls, None)
        original = getattr(owner, name, None)
        if not callable(original) or getattr(original, _MASKS_FIRST, False):
            return
        wrapper = functools.wraps(original)(make(original))
        setattr(wrapper, _MASKS_FIRST, True)
        self._saved.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, wrapper)
        self.names.append("%s.%s" % (module, path))

    def undo(self) -> None:
        """Put every replaced attribute back (an inherited one is removed again)."""
        while self._saved:
            owner, name, previous = self._saved.pop()
            if previous is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
        self.names.clear()


def mask_before_truncating(mask: Callable[[str], str]) -> Patches:
    """Make pytest pass every text it cuts through ``mask`` first, in this process, until ``undo``.

    pytest shortens what it shows: a repr to 240 characters (a local, an
    argument, a value in an assertion; about 30 in an assertion's first line),
    keeping its two ends around ``...``; a string diff to where the strings
    differ; an assertion's explanation to 8 lines or 640 characters. A secret
    cut that way is no longer the secret: masking by value, which reads the
    report afterwards, would not recognise the part shown. So each cut masks
    its text first:

    * ``_pytest._io.saferepr._ellipsize`` (every size-limited repr), and
      ``SafeRepr.repr_str`` (a string inside one, which ``reprlib`` cuts first);
    * ``_diff_text`` (``_pytest.assertion.compare_text``, ``util`` before
      pytest 9.2): the strings a diff skips into and caps;
    * ``_pytest.assertion.truncate.materialize_with_truncation`` (pytest 9;
      ``truncate_if_required`` before it): the lines of an explanation.

    Each is replaced only if it is there, a function, and not replaced
    already; a pytest without it cuts that text unmasked, and the report's
    masking still masks any piece of a secret of 16 characters or more.
    """
    masked = functools.partial(_mask_if_text, mask)
    patches = Patches()
    patches.wrap("_pytest._io.saferepr", "_ellipsize", _masking_arguments(masked, 0))
    patches.wrap("_pytest._io.saferepr", "SafeRepr.repr_str", _masking_arguments(masked, 1))  # 0 is self
    for module in DIFF_TEXT_MODULES:
        patches.wrap(module, "_diff_text", _masking_arguments(masked, 0, 1))
    patches.wrap("_pytest.assertion.truncate", "materialize_with_truncation", _masking_lines(masked, lazily=True))
    patches.wrap("_pytest.assertion.truncate", "truncate_if_required", _masking_lines(masked, lazily=False))
    return patches


def _mask_if_text(mask: Callable[[str], str], value: Any) -> Any:
    return mask(value) if isinstance(value, str) else value


Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


def _masking_arguments(masked: Callable[[Any], Any], *positions: int) -> Wrap:
    """A wrapper for a function that cuts text: its positional arguments at ``positions`` masked first."""
    def wrap(cut: Callable[..., Any]) -> Callable[..., Any]:
        def masking_first(*args: Any, **kwargs: Any) -> Any:
            return cut(*(masked(arg) if index in positions else arg for index, arg in enumerate(args)), **kwargs)
        return masking_first
    return wrap


def _masking_lines(masked: Callable[[Any], Any], *, lazily: bool) -> Wrap:
    """A wrapper for a function that cuts an explanation: each of its lines (its first argument) masked first.

    ``lazily``: handed on as a stream (pytest 9.2 reads only the lines it keeps), else as a list.
    """
    def wrap(cut: Callable[..., Any]) -> Callable[..., Any]:
        def masking_first(lines: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
            shown = map(masked, lines)
            return cut(shown if lazily else list(shown), *args, **kwargs)
        return masking_first
    return wrap
