"""The suite switched on: settings checked, the catalog loaded, and the plugin's parts registered.

The plugin is a ``pytest11`` entry point, so it is loaded in every pytest run
of its virtualenv, including other projects'. There it registers its options
and does nothing else: no header line, no summary, no Hypothesis settings, no
fixtures. The suite's own ``conftest.py`` calls ``activate`` from its
``pytest_configure``; only then are the settings checked (a bad option, profile,
catalog or target is one usage error, exit 4, before any request is sent) and
the parts below registered, in every process of the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dfns_contract.contract.binding import load_catalog, load_contract
from dfns_contract.client.exchange import EnvironmentFailure
from dfns_contract.client.retries import RETRIES
from dfns_contract.contract.catalog import Catalog, CatalogError
from dfns_contract.contract.detection import AUTO, Detected, DetectionError, detect_contract
from dfns_contract.contract.schemas import DEFAULT_CONTRACT
from dfns_contract.contract.preflight import PreflightError, preflight
from dfns_contract.contract.profile import ProfileError
from dfns_contract.contract.target import TargetError, check_reachable
from dfns_contract.plugin import fixtures
from dfns_contract.plugin.conformance import Conformance, WordLast
from dfns_contract.plugin.events import label_report
from dfns_contract.plugin.failures import describe_contract_failure, describe_environment_failure
from dfns_contract.plugin.fuzzing import Fuzzing, choose_budget
from dfns_contract.plugin.listing import Listing
from dfns_contract.plugin.options import Settings, warn_unknown_variables
from dfns_contract.plugin.ahead import RunAhead
from dfns_contract.plugin.network import Network
from dfns_contract.plugin.ordering import RunOrder
from dfns_contract.plugin.progress import controller_progress
from dfns_contract.plugin.progress import register as register_progress
from dfns_contract.plugin.output import mask, mask_before_truncating, mask_lines, mask_report
from dfns_contract.plugin.process import exit_without_freeing_the_heap, freeze_what_is_loaded
from dfns_contract.plugin.reports import ContractReport
from dfns_contract.plugin.restore import Restore
from dfns_contract.plugin.safety import (
    LINES,
    declared_errors,
    mark_destructive,
    needs,
    not_in_contract,
    selenium_safety_present,
    skip_if_unsafe,
)
from dfns_contract.plugin.options import AUTO_RATE
from dfns_contract.plugin.ratelimit import Quota, RateLimits, quota_folder, quota_limit, run_pacer
from dfns_contract.plugin.retries import Retried
from dfns_contract.plugin.inventory import item_key, read_suite
from dfns_contract.plugin.stash import CATALOG, COLLECTED, COLLECTED_OTHERS, COLLECTED_TESTS, NEEDS, SETTINGS, SUITE_TESTS
from dfns_contract.reporting.verdicts import ERROR
from dfns_contract.plugin.xdist import DESCRIPTION as EMBEDDED
from dfns_contract.plugin.xdist import SharedServer

def environment_failure(error: BaseException | None) -> BaseException | None:
    """The environment's failure behind an exception (also inside a group), if it is one.

    Also behind an error Hypothesis raised because of it: when the target dies
    during an example, Hypothesis' run of that example again stops sooner and it
    reports ``FlakyStrategyDefinition`` ("inconsistent data generation") while
    handling the environment's failure.
    """
    exchange = sys.modules.get("dfns_contract.client.exchange")  # no client imported, no such failure raised
    if exchange is None or error is None:
        return None
    if isinstance(error, exchange.EnvironmentFailure):
        return error
    if isinstance(error, BaseExceptionGroup):
        return next((found for inner in error.exceptions if (found := environment_failure(inner))), None)
    if type(error).__module__.startswith("hypothesis"):
        return environment_failure(error.__cause__ or error.__context__)
    return None


#: What Hypothesis adds to a failed property's report (its own section, or a line printed by a state machine).
HYPOTHESIS_SECTION, HYPOTHESIS_ADVICE = "Hypothesis", "You can reproduce this failure by adding @seed("


def without_reproduction_advice(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A report's sections without Hypothesis' "reproduce with this seed": the environment's failure
    does not follow from the example, and one environment error is one paragraph."""
    kept = []
    for title, text in sections:
        if title == HYPOTHESIS_SECTION:
            continue
        lines = [line for line in text.splitlines() if not line.startswith(HYPOTHESIS_ADVICE)]
        if any(line.strip() for line in lines):
            kept.append((title, "\n".join(lines) if len(lines) != len(text.splitlines()) else text))
    return kept


#: Key of ``workerinput`` with the version ``--dfns-contract auto`` chose, and why.
DETECTED_KEY = "dfns_detected_contract"

#: The parameter through which ``test_documented_error`` receives each case of the catalog.
CASE_ARGUMENT = "dfns_case"


def activate(config: pytest.Config, suite_dir: Path) -> None:
    """Called by the suite's conftest: check the settings, load the catalog, register the plugin's parts."""
    if config.stash.get(SETTINGS, None) is not None:
        return
    controller = not hasattr(config, "workerinput")
    contacted = settings_ok = False
    doing = "reading the settings"  # what a Ctrl-C interrupts, said when it does
    progress = None
    start_up = ExitStack()  # the start-up check's progress lines, until it ends
    try:
        settings = Settings(config)
        settings_ok = True
        if not settings.collect_only:
            progress = controller_progress(config, settings.progress, settings.progress_interval)
        if progress is not None:
            start_up.enter_context(progress.during("the start-up check"))
        if settings.rate_limit == AUTO_RATE and not settings.collect_only:
            settings.quota_folder = quota_folder(config)  # before the preflight, whose answers show the quota
        RETRIES.budget = settings.rate_limit_budget  # the 429 budget of the detection's requests
        contacted = bool(settings.base_url) and controller and not settings.collect_only  # --co, --dfns-list: never
        if settings.contract == AUTO and not settings.catalog_path:
            doing = "detecting the target's version (--dfns-contract auto: read-only requests to %s)" % settings.shown_url
            if contacted:
                check_reachable(settings.base_url, settings.timeout, settings.retry_transport)
            settings.detected = choose_contract(config, settings, contacted=contacted)
            settings.contract = settings.detected.version
        # A named version's catalog is checked against its recipes before anything is sent.
        catalog = load_catalog(settings.catalog_path) if settings.catalog_path else load_contract(settings.contract)
        if contacted and settings.detected is None:
            doing = "the start-up check (is %s reachable?)" % settings.shown_url
            check_reachable(settings.base_url, settings.timeout, settings.retry_transport)
        if settings.detected is not None:
            catalog = replace(catalog, detected=settings.detected.why)
        settings.request_headers = frozenset(name.lower() for name in catalog.request_headers)
        if settings.errors_doc and not catalog.comparable:
            raise CatalogError("--dfns-errors-doc: contract %s is documented as facts (%s), not as a page of errors "
                               "to compare with; drift is compared for the errors page's versions"
                               % (catalog.version, catalog.page))
        if contacted and not settings.skip_preflight:
            doing = ("the start-up check (the preflight: does %s answer as a Dfns API and accept the profile?)"
                     % settings.shown_url)
            settings.preflight = preflight(settings.base_url, settings.profile, timeout=settings.timeout,
                                           retries=settings.retry_transport,
                                           rate_limit_budget=settings.rate_limit_budget, pacer=run_pacer(settings),
                                           request_headers=catalog.request_headers,
                                           contract=catalog.version if catalog.published else None)
    except (ProfileError, TargetError, CatalogError, PreflightError, DetectionError) as exc:
        raise pytest.UsageError(mask(str(exc))) from None
    except KeyboardInterrupt:
        # pytest's exit status for an interrupted run (2), with one sentence instead of a traceback.
        pytest.exit(mask(interrupted_at_start(doing, contacted)), returncode=pytest.ExitCode.INTERRUPTED)
    except EnvironmentFailure as exc:
        if not settings_ok:
            raise
        raise pytest.UsageError(mask("--dfns-contract auto: the target did not answer the detection's requests: %s "
                                     "(the target, not its contract: try again later, or name the version with "
                                     "--dfns-contract)" % str(exc).splitlines()[0])) from None
    finally:
        start_up.close()
    if controller:
        warn_unknown_variables(config, os.environ)
    config.stash[SETTINGS] = settings
    config.stash[CATALOG] = catalog
    if settings.listing:
        config.option.collectonly = True  # nothing runs, and pytest-xdist (configured after this) starts no worker
    mask_before_truncating(config)  # pytest cuts long values: it must cut a placeholder, never a secret
    if settings.base_url and settings.shown_url != settings.base_url:
        # pytest-base-url prints its option in the header ("baseurl: …"): from here on it holds the
        # URL without its user info (the suite keeps the real one in its settings).
        config.option.base_url = settings.shown_url
    for line in LINES:
        config.addinivalue_line("markers", line)
    exit_without_freeing_the_heap()
    manager = config.pluginmanager
    manager.register(fixtures, "dfns-fixtures")
    manager.register(Suite(config, settings, catalog, suite_dir), "dfns-suite")
    config.stash[SUITE_TESTS] = read_suite(suite_dir, config.rootpath)
    manager.register(Restore(config, settings), "dfns-restore")
    manager.register(RateLimits(settings.rate_limit_budget), "dfns-rate-limits")
    manager.register(Quota(config, settings), "dfns-quota")
    manager.register(Retried(config), "dfns-retries")
    manager.register(RunOrder(), "dfns-run-order")
    manager.register(RunAhead(), "dfns-ahead")
    manager.register(Network(config, settings.concurrency), "dfns-network")
    if not settings.base_url and controller:
        manager.register(SharedServer(settings.faults, settings.server_contract), "dfns-shared-server")  # acts under xdist only
    conformance = Conformance(config, settings, catalog)
    manager.register(conformance, "dfns-conformance")
    manager.register(WordLast(conformance), "dfns-word-last")
    manager.register(ContractReport(config, settings, conformance), "dfns-contract-report")
    manager.register(Fuzzing(config, choose_budget(settings.hypothesis_profile, quota_limit(settings)), suite_dir),
                     "dfns-fuzzing")
    if settings.listing and controller:
        manager.register(Listing(config, settings, catalog), "dfns-listing")
    if not settings.collect_only:
        register_progress(config, progress)


def interrupted_at_start(doing: str, contacted: bool) -> str:
    """What a Ctrl-C before the first case stopped, and that the target was left as it was (start-up only reads)."""
    target = ("nothing was changed on the target (the start-up requests read; the preflight's one signed request "
              "activates an app that is already active)" if contacted else "no target was contacted")
    return "dfns verdict: INTERRUPTED while %s: no case ran and %s" % (doing, target)


def choose_contract(config: pytest.Config, settings: Settings, *, contacted: bool) -> Detected:
    """``--dfns-contract auto``: the controller asks the target; a pytest-xdist worker is told (``workerinput``)."""
    handed = getattr(config, "workerinput", {}).get(DETECTED_KEY)
    if handed:
        return Detected(*handed)
    if contacted:
        return detect_contract(settings.base_url, settings.profile, timeout=settings.timeout,
                               retries=settings.retry_transport)
    if settings.base_url:
        return Detected(DEFAULT_CONTRACT, "not detected: collection only, the target is not contacted; the default "
                                          "version's cases are listed")
    return Detected(settings.server_contract, "the embedded reference server implements it (--dfns-mock-contract, "
                                              "else the default version)")


def describe_contract(catalog: Catalog) -> str:
    """The header's line: the version certified against, the page and the copy it came from, how many errors."""
    if catalog.published and catalog.detected:
        return "%s (--dfns-contract auto: %s; %d documented errors)" % (
            catalog.version, catalog.detected, len(catalog.errors))
    if catalog.published:
        return "%s (%s as published, copied in %s; %d documented errors; --dfns-contract to choose another)" % (
            catalog.version, catalog.doc, catalog.page, len(catalog.errors))
    return "none: the catalog %s (it says version %s; %d documented errors)" % (
        catalog.source, catalog.version, len(catalog.errors))


class Suite:
    """The suite's hooks: the header, its cases, their marks and skips, and every report masked."""

    def __init__(self, config: pytest.Config, settings: Settings, catalog: Catalog, suite_dir: Path) -> None:
        self.config = config
        self.settings = settings
        self.catalog = catalog
        self.suite_dir = suite_dir
        #: Tests of another version's contract, deselected at collection, and why.
        self.outside: dict[pytest.Item, str] = {}

    def pytest_report_header(self) -> list[str]:
        settings = self.settings
        target = "%s (live)" % settings.shown_url if settings.base_url else \
            "%s implementing contract %s — not a live environment" % (EMBEDDED, settings.server_contract)
        if settings.faults:
            target += " with faults: " + ", ".join(settings.faults)
        mode = "allowed" if settings.allow_destructive or not settings.sensitive else \
            "skipped (sensitive target; --dfns-allow-destructive to run)"
        fuzzing = self.config.pluginmanager.get_plugin("dfns-fuzzing")
        lines = ["dfns target: " + target, "dfns contract: " + describe_contract(self.catalog),
                 "dfns state-changing cases: " + mode,
                 "dfns hypothesis profile: " + fuzzing.describe()]
        if settings.profile is not None:
            overrides = settings.profile.overridden
            lines.append("dfns profile: %s%s" % (
                settings.profile.source, " (env overrides: %s)" % ", ".join(overrides) if overrides else ""))
        if settings.base_url:
            checked = settings.preflight
            lines.append("dfns preflight: " + (
                "not run (collection only: the target is not contacted)" if settings.collect_only else
                "skipped (--dfns-skip-preflight)" if checked is None else
                "%s (%d requests)" % (", ".join(checked.checks), checked.requests)))
        return mask_lines(lines)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: the version ``--dfns-contract auto`` chose, for every worker (asked once)."""
        if self.settings.detected is not None:
            node.workerinput[DETECTED_KEY] = [self.settings.detected.version, self.settings.detected.why]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """One case per catalog entry and variant, with a readable id (``pytest -k nonce``)."""
        if CASE_ARGUMENT in metafunc.fixturenames:
            metafunc.parametrize(CASE_ARGUMENT, [
                pytest.param(case, id=case.id, marks=pytest.mark.documented_error(case.error.id))
                for case in self.catalog.cases()])

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Marks and needs from the catalog, before ``-m`` and ``-k`` select (``-m "not destructive"``)."""
        leave_to_the_suite = selenium_safety_present(config)
        collected = config.stash.setdefault(COLLECTED, {})
        others = config.stash.setdefault(COLLECTED_OTHERS, {})
        config.stash.setdefault(COLLECTED_TESTS, set()).update(item_key(item, config.rootpath) for item in items)
        outside = {item: why for item in items if (why := not_in_contract(item, self.catalog))}
        if outside:
            config.hook.pytest_deselected(items=list(outside))
            items[:] = [item for item in items if item not in outside]
            self.outside = outside
        for item in items:
            errors = declared_errors(item, self.catalog)
            if errors:
                mark_destructive(item, errors)
                case = getattr(item, "callspec", None) and item.callspec.params.get(CASE_ARGUMENT)
                item.stash[NEEDS] = needs(errors, getattr(case, "variant", None))
            counted = item.get_closest_marker("documented_error")
            if counted:
                collected.setdefault(counted.args[0], []).append(item.nodeid)
            elif exercised := [error_id for marker in item.iter_markers("exercises") for error_id in marker.args]:
                others[item.nodeid] = exercised
            if leave_to_the_suite and item.path.is_relative_to(self.suite_dir):
                item.add_marker("nondestructive")

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        """Which tests are no part of this version's contract, and why (they were deselected); not at -qq,
        where a green run is its verdict alone."""
        if config.get_verbosity() <= -2:
            return []
        return mask_lines(["dfns not in contract %s (deselected): %s: %s" % (self.catalog.version, item.name, why)
                           for item, why in sorted(self.outside.items(), key=lambda pair: pair[0].nodeid)])

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            # Every case collected per documented error, -k and -m deselections included, for the controller.
            session.config.workeroutput["dfns_collected"] = session.config.stash.get(COLLECTED, {})  # type: ignore[attr-defined]
            session.config.workeroutput["dfns_collected_tests"] = sorted(session.config.stash.get(COLLECTED_TESTS, set()))  # type: ignore[attr-defined]
            session.config.workeroutput["dfns_collected_others"] = session.config.stash.get(COLLECTED_OTHERS, {})  # type: ignore[attr-defined]
            freeze_what_is_loaded()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        skip_if_unsafe(item, self.settings)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
        """What the environment did is an *error*, not a broken contract; a property's, race's or model's failure
        reads like a case's (``failures.py``); each report names its case and verdict (``events.py``); every text
        masked before anyone reads it."""
        report: pytest.TestReport = yield
        if report.failed:
            failure = environment_failure(call.excinfo.value if call.excinfo is not None else None)
            if failure is not None:
                describe_environment_failure(item, failure, report)
                report.sections = without_reproduction_advice(report.sections)
                report.dfns_outcome = ERROR  # type: ignore[attr-defined]
            elif call.when != "call":
                report.dfns_outcome = ERROR  # type: ignore[attr-defined] - a set-up or teardown step broke
            else:
                describe_contract_failure(item, call, report, self.settings)  # a property, race or model
        label_report(item, report)  # what an event stream (pytest-reportlog) reads on each record
        mask_report(report)
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """What the environment did reads as pytest's *error* (E, ``1 error``), as the conformance table counts it."""
        if report.failed and getattr(report, "dfns_outcome", None) == ERROR and report.when == "call":
            return "error", "E", "ERROR"
        return None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Iterator[pytest.CollectReport]:
        report: pytest.CollectReport = yield
        mask_report(report)
        return report
