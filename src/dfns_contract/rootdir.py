"""Keep ``--dfns-profile /elsewhere/profile.json`` from moving pytest's rootdir.

pytest decides its rootdir and ini file before it loads any installed plugin.
At that moment ``--dfns-profile`` (or any other option of ours that takes a
path, see ``PATH_OPTIONS``) is an unknown option, so the path after it
is taken for a test path: its folder becomes the rootdir, ``pytest.ini`` is
not read (no ``testpaths``, no ``addopts``) and pytest collects the current
folder, selftests and all. Once the plugin is loaded the option is known, so
this module recomputes the setup from the real test paths and, if pytest's
guess was wrong, puts the right rootdir, ini file and ini ``addopts`` back.

It touches pytest internals on purpose (pinned to pytest 9 in pyproject.toml);
the selftest ``test_profile_outside_the_project_keeps_the_rootdir`` guards it.
"""

from __future__ import annotations

import pytest
from _pytest.config.findpaths import determine_setup


#: Destinations of the plugin's options whose value is a path, which pytest
#: would otherwise mistake for a test path.
PATH_OPTIONS = ("dfns_profile", "dfns_contract_report", "dfns_contract_report_html", "dfns_errors_doc")


def repair_setup(early_config: pytest.Config, args: list[str]) -> None:
    ns = early_config.known_args_namespace
    if not any(getattr(ns, name, None) for name in PATH_OPTIONS):
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
