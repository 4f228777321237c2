"""The pytest plugin: options, the target, fixtures and the conformance summary.

Registered as a ``pytest11`` entry point so that ``pytest --base-url URL
--dfns-profile PATH`` works in the space-separated form: pytest must know an
option before it reads the command line, and only installed plugins are known
that early (conftest files are found through the test paths, too late).

The pytest-xdist controller loads this plugin too but runs no test, and its
start delays every worker's: what only tests use (the client, ``requests``,
the keys, the recipes, the reference server) is imported in the fixtures.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from typing import TYPE_CHECKING, Iterator

from .process import exit_without_freeing_the_heap, freeze_what_is_loaded, skip_assertion_rewriting

# Before this package imports the rest of itself, and before pytest imports hypothesis.
skip_assertion_rewriting()

import pytest  # noqa: E402

from .catalog import Catalog  # noqa: E402
from .cleanup import Cleanup, run_summary  # noqa: E402
from .conformance import Conformance  # noqa: E402
from .embedded import DESCRIPTION as EMBEDDED, SharedServer, SharedServerError, shared_server  # noqa: E402
from .fuzzing import ExampleCounts, choose_profile, count_examples, register_for_options  # noqa: E402, F401 - fixture
from .profile import Profile, ProfileError, load_profile  # noqa: E402
from .report import ContractReport  # noqa: E402
from .rootdir import repair_setup  # noqa: E402
from .secrecy import mask_report  # noqa: E402
from .target import DEFAULT_SENSITIVE_URL, Target, TargetError, check_base_url, check_reachable, is_sensitive  # noqa: E402

if TYPE_CHECKING:
    import requests

    from .client import DfnsClient
    from .recipes import RecipeContext

CATALOG = pytest.StashKey[Catalog]()
SETTINGS = pytest.StashKey["Settings"]()
#: Lines of the session cleanup: this process's, then each xdist worker's.
CLEANUP_LINES = pytest.StashKey[list[str]]()


class Settings:
    """What the command line and the profile decided, checked once at start."""

    def __init__(self, config: pytest.Config) -> None:
        option = config.getoption
        self.timeout: float = option("dfns_timeout")
        self.retry_transport: int = option("dfns_retry_transport")
        self.faults: list[str] = option("dfns_mock_faults") or []
        self.require_all: bool = option("dfns_require_all")
        self.allow_destructive: bool = option("dfns_allow_destructive")
        self.sensitive_url: str = option("dfns_sensitive_url")
        profile_path = option("dfns_profile")
        base_url = option("base_url") or None
        # A live profile: the file plus DFNS_* overrides. The embedded server brings its own.
        self.profile: Profile | None = None
        if profile_path or base_url:
            self.profile = load_profile(profile_path, os.environ)
            base_url = base_url or self.profile.get("baseUrl")
        self.base_url = check_base_url(base_url) if base_url else None
        if self.faults and self.base_url:
            raise TargetError("--dfns-mock-fault applies to the embedded server only, not to --base-url")
        if self.faults:
            from .server.faults import UnknownFault, resolve_faults

            try:
                resolve_faults(self.faults)
            except UnknownFault as exc:
                raise TargetError("--dfns-mock-fault: %s" % exc) from None

    @property
    def sensitive(self) -> bool:
        return bool(self.base_url) and is_sensitive(self.base_url, self.sensitive_url)


def retry_count(text: str) -> int:
    """argparse type of ``--dfns-retry-transport``: a count, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text) from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more, not %d" % value)
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dfns", "Dfns error contract")
    group.addoption("--dfns-profile", metavar="PATH", help="target profile (JSON, schemas/profile.json); DFNS_* variables override single keys")
    group.addoption("--dfns-timeout", type=float, default=10.0, metavar="SECONDS", help="timeout of each HTTP request (default 10)")
    group.addoption("--dfns-retry-transport", type=retry_count, default=0, metavar="N", help="retry a request up to N times when its connection fails (refused, connect timeout, DNS): only before anything was sent, never after (default 0)")
    group.addoption("--require-all", dest="dfns_require_all", action="store_true", help="fail the run when any documented error was not verified (CI gate)")
    group.addoption("--allow-destructive", dest="dfns_allow_destructive", action="store_true", help="run state-changing cases against a --sensitive-url target")
    group.addoption("--sensitive-url", dest="dfns_sensitive_url", default=DEFAULT_SENSITIVE_URL, metavar="REGEX", help="targets where state-changing cases are skipped unless --allow-destructive (default: production API hosts)")
    group.addoption("--dfns-mock-fault", dest="dfns_mock_faults", action="append", metavar="NAME", help="start the embedded reference server with this fault switched on (the suite's own tests; see dfns-mock --list-faults)")
    group.addoption("--contract-report", dest="dfns_contract_report", metavar="PATH.json", help="write the conformance report for sign-off (JSON, schemas/report.json): target, versions, verdict and evidence per documented error")
    group.addoption("--contract-report-html", dest="dfns_contract_report_html", metavar="PATH.html", help="write the conformance report as one self-contained HTML page")
    group.addoption("--errors-doc", dest="dfns_errors_doc", metavar="PATH", help="a copy of getting-started/errors.md: list documented errors the catalog does not cover, and catalog entries the page no longer documents")
    group.addoption("--strict-drift", dest="dfns_strict_drift", action="store_true", help="fail the run when --errors-doc and the catalog differ")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    repair_setup(early_config, args)
    register_for_options(early_config.known_args_namespace)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "documented_error(id): the case replays this documented error of the catalog")
    config.addinivalue_line("markers", "destructive: the case may change state on the target")
    config.addinivalue_line("markers", "heavy: the case sends many requests; pytest-xdist hands it out first")
    exit_without_freeing_the_heap()
    try:
        settings = Settings(config)
        if settings.base_url and not hasattr(config, "workerinput"):
            check_reachable(settings.base_url, settings.timeout, settings.retry_transport)
    except (ProfileError, TargetError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS] = settings
    if not settings.base_url and not hasattr(config, "workerinput"):
        config.pluginmanager.register(SharedServer(settings.faults), "dfns-shared-server")  # acts under xdist only
    config.pluginmanager.register(Conformance(config), "dfns-conformance")
    config.pluginmanager.register(ContractReport(config), "dfns-contract-report")
    config.pluginmanager.register(ExampleCounts(choose_profile(config)), "dfns-fuzz-counts")


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        return []
    target = settings.base_url or EMBEDDED
    if settings.faults:
        target += " with faults: " + ", ".join(settings.faults)
    mode = "allowed" if settings.allow_destructive or not settings.sensitive else "skipped (sensitive target; --allow-destructive to run)"
    lines = ["dfns target: " + target, "dfns state-changing cases: " + mode,
             "dfns hypothesis profile: %s" % config.pluginmanager.get_plugin("dfns-fuzz-counts").profile]
    if settings.profile is not None:
        lines.append("dfns profile: %s%s" % (settings.profile.source, " (env overrides: %s)" % ", ".join(settings.profile.overridden) if settings.profile.overridden else ""))
    return lines


def register_catalog(config: pytest.Config, catalog: Catalog) -> None:
    """Called by the suite's conftest: the summary and the gate count against this catalog."""
    config.stash[CATALOG] = catalog


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Every text of the report masked by value, before any reporter (or the xdist controller) sees it."""
    report: pytest.TestReport = yield
    client = sys.modules.get(__package__ + ".client")  # no client imported, no TransportError raised
    if call.excinfo is not None and client is not None and call.excinfo.errisinstance(client.TransportError):
        report.longrepr = "transport error, the contract was not checked: %s" % call.excinfo.value
    mask_report(report)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[pytest.CollectReport]:
    report: pytest.CollectReport = yield
    mask_report(report)
    return report


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In pytest-xdist workers, heavy cases first (each keeps its place among its kind).

    xdist hands cases out in collection order, so a heavy case collected last
    kept one worker busy for up to 0.3 s while the other idled. Run after any
    shuffle (pytest-randomly), the same in every worker (xdist requires equal
    collections); a serial run keeps its order.
    """
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        freeze_what_is_loaded()


def pytest_runtest_setup(item: pytest.Item) -> None:
    settings = item.config.stash.get(SETTINGS, None)
    if settings and item.get_closest_marker("destructive") and settings.sensitive and not settings.allow_destructive:
        pytest.skip("may change state on a sensitive target (%s): pass --allow-destructive to run it" % settings.base_url)


@pytest.fixture(scope="session")
def dfns_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The environment under test: the --base-url, the xdist controller's server, or one started here."""
    settings: Settings = request.config.stash[SETTINGS]
    if settings.base_url:
        assert settings.profile is not None
        yield Target(settings.base_url, settings.profile)
        return
    # pytest.fail outside the except clauses: raised inside, it would print the message twice,
    # as the cause and as "another exception occurred".
    failure: str | None = None
    try:
        shared = shared_server(request.config)
    except SharedServerError as exc:
        shared, failure = None, str(exc)
    if failure:
        pytest.fail(failure, pytrace=False)
    if shared is not None:
        yield Target(shared["url"], load_profile(None, {}, defaults=shared["profile"]), shared=True)
        return
    from .server.runner import ServerStartError, start_server

    try:
        server = start_server(faults=settings.faults)
    except ServerStartError as exc:
        failure = "the reference server did not start: %s" % exc
    if failure:
        pytest.fail(failure, pytrace=False)
    with server:
        yield Target(server.url, load_profile(None, {}, defaults=server.profile), embedded=server)


@pytest.fixture(scope="session")
def dfns_profile(dfns_target: Target) -> Profile:
    return dfns_target.profile


@pytest.fixture(scope="session")
def dfns_http() -> Iterator[requests.Session]:
    """One keep-alive connection pool for the whole run."""
    import requests

    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def dfns_client(dfns_target: Target, dfns_http: requests.Session, request: pytest.FixtureRequest) -> DfnsClient:
    """The profile's main principal; every response it gets is audited against the envelope."""
    from .client import DfnsClient, KeySigner
    from .expectations import audit
    from .secrecy import remember_received

    profile = dfns_target.profile
    cred, pem = profile.get("credId"), profile.get("privateKey")
    return DfnsClient(
        dfns_target.base_url,
        profile.get("appId"),
        auth_token=profile.get("authToken"),
        signer=KeySigner(cred, pem) if cred and pem else None,
        app_origin=profile.get("appOrigin"),
        timeout=request.config.stash[SETTINGS].timeout,
        retry_transport=request.config.stash[SETTINGS].retry_transport,
        session=dfns_http,
        observers=[remember_received, audit],
    )


@pytest.fixture(scope="session")
def dfns_run_id(request: pytest.FixtureRequest) -> str:
    """Unique per run and per worker: names of what the suite creates carry it."""
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return "dfns-contract-%s-%s" % (secrets.token_hex(4), worker)


@pytest.fixture(scope="session")
def dfns_cleanup(request: pytest.FixtureRequest, dfns_client: DfnsClient) -> Iterator[Cleanup]:
    """Undo actions for what the run changes on the target; run once when the session ends.

    Torn down before the client and the target, also after failures, ``-x`` and
    Ctrl-C; under pytest-xdist each worker undoes its own changes.
    """
    cleanup = Cleanup(dfns_client)
    yield cleanup
    lines = cleanup.run()
    config = request.config
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker is not None:
        config.workeroutput["dfns_cleanup"] = ["[%s] %s" % (worker, line) for line in lines]  # type: ignore[attr-defined]
    else:
        config.stash.setdefault(CLEANUP_LINES, []).extend(lines)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist controller: collect each worker's cleanup lines for the summary."""
    lines = getattr(node, "workeroutput", {}).get("dfns_cleanup")
    config = getattr(node, "config", None)
    if lines and config is not None:
        config.stash.setdefault(CLEANUP_LINES, []).extend(lines)


def _not_restored(config: pytest.Config) -> list[str]:
    return [line for line in config.stash.get(CLEANUP_LINES, []) if "NOT restored" in line]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """(Before the reports are written, so they carry the exit status.) A target left changed fails an otherwise green run: the next reader of that environment
    (or the next run) would meet a state nobody chose."""
    if not hasattr(session.config, "workerinput") and _not_restored(session.config) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(CLEANUP_LINES, [])
    if not lines or hasattr(config, "workerinput"):
        return
    failed = _not_restored(config)
    terminalreporter.section("dfns cleanup (state the run changed on the target)")
    for line in lines:
        terminalreporter.write_line(line, red="NOT restored" in line)
    terminalreporter.write_line("dfns cleanup: " + run_summary(lines), bold=True, red=bool(failed))
    if failed:
        terminalreporter.write_line(
            "dfns cleanup: the run fails because %d state change%s not restored; put it back by hand (see above)"
            % (len(failed), " was" if len(failed) == 1 else "s were"), red=True, bold=True)


@pytest.fixture
def recipe_context(dfns_target: Target, dfns_client: DfnsClient, dfns_run_id: str, dfns_cleanup: Cleanup) -> RecipeContext:
    from .recipes import RecipeContext

    return RecipeContext(profile=dfns_target.profile, client=dfns_client, run_id=dfns_run_id, cleanup=dfns_cleanup)
