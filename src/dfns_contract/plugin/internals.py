"""Every place the plugin touches pytest's (or its assertion rewriter's) internals, in one file.

Each is pinned by the range in pyproject.toml (pytest 9) and guarded by a selftest:

* ``repair_setup``: keep ``--dfns-profile /elsewhere/profile.json`` from moving
  pytest's rootdir (``test_profile_outside_the_project_keeps_the_rootdir``);
* ``rename_deprecated_options``: the option names of earlier releases, still
  accepted with a warning (``test_old_option_names_still_work_and_warn_once``);
* ``add_junit_properties``: the run's target and word as global properties of
  the JUnit XML report (``selftests/runs/test_verdict.py``);
* ``skip_assertion_rewriting``: no assertion rewriting of libraries whose
  asserts no user reads (``selftests/unit/plugin/test_process.py``).

It imports nothing of this package: the entry module calls
``skip_assertion_rewriting`` before it imports the rest.
"""

from __future__ import annotations

import os
import sys

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
