"""The suite's fixtures: the target, its profile, clients of its principals, the session cleanup.

Registered with pytest only when the suite is collected (``suite.activate``),
so another project in the same virtualenv sees none of them. What only tests
use (the client, ``requests``, the keys, the reference server) is imported
here, in the fixtures: the pytest-xdist controller runs no test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from dfns_contract.contract.binding import skip_reason
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.profile import Profile, load_profile
from dfns_contract.contract.target import Target
from dfns_contract.plugin.conformance import dfns_evidence  # noqa: F401 - a fixture
from dfns_contract.plugin.fuzzing import (  # noqa: F401 - fixtures
    count_examples,
    dfns_hypothesis_settings,
    dfns_seed,
)
from dfns_contract.plugin.options import Settings
from dfns_contract.plugin.ratelimit import run_pacer
from dfns_contract.plugin.stash import CATALOG, NEEDS, SETTINGS
from dfns_contract.plugin.xdist import SharedServerError, shared_server

if TYPE_CHECKING:
    import requests

    from dfns_contract.client import DfnsClient
    from dfns_contract.client.guard import TargetGuard
    from dfns_contract.client.pacing import InFlight
    from dfns_contract.contract.pauses import Pauses
    from dfns_contract.contract.recipes import RecipeContext
    from dfns_contract.plugin.ahead import RunAhead


@pytest.fixture(scope="session")
def dfns_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The environment under test: the --base-url, the xdist controller's server, or one started here."""
    settings = request.config.stash[SETTINGS]
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
    from dfns_contract.server.runner import ServerStartError, start_server

    try:
        server = start_server(faults=settings.faults, contract=settings.server_contract)
    except ServerStartError as exc:
        failure = "the reference server did not start: %s" % exc
    if failure:
        pytest.fail(failure, pytrace=False)
    with server:
        yield Target(server.url, load_profile(None, {}, defaults=server.profile), embedded=server)


@pytest.fixture(scope="session")
def base_url(dfns_target: Target) -> str:
    """pytest-base-url's fixture, answered with the target the plugin resolved (the embedded server's URL without one)."""
    return dfns_target.base_url


@pytest.fixture(scope="session")
def dfns_profile(dfns_target: Target) -> Profile:
    return dfns_target.profile


@pytest.fixture(scope="session")
def dfns_catalog(request: pytest.FixtureRequest) -> Catalog:
    """The catalog of the contract the run certifies against."""
    return request.config.stash[CATALOG]


@pytest.fixture
def dfns_error(request: pytest.FixtureRequest, dfns_catalog: Catalog) -> DocumentedError:
    """The documented error the running test is a case of (its ``documented_error`` marker)."""
    return documented_error_of(request.node, dfns_catalog)


def documented_error_of(item: pytest.Item, catalog: Catalog) -> DocumentedError:
    marker = item.get_closest_marker("documented_error")
    if marker is None:
        raise pytest.UsageError("%s uses dfns_error without a documented_error marker" % item.nodeid)
    return catalog.by_id(marker.args[0])


@pytest.fixture(autouse=True)
def dfns_requirements(request: pytest.FixtureRequest) -> None:
    """Skip a test of the suite whose profile keys (from its markers) are missing, naming them."""
    keys = request.node.stash.get(NEEDS, None)
    if not keys:
        return
    missing = request.getfixturevalue("dfns_profile").missing(keys)
    if missing:
        pytest.skip(skip_reason(missing))


@pytest.fixture(scope="session")
def dfns_http() -> Iterator[requests.Session]:
    """One keep-alive connection pool for the whole run."""
    import requests

    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def dfns_client(dfns_target: Target, dfns_http: requests.Session, request: pytest.FixtureRequest) -> DfnsClient:
    """The profile's main principal; every response it gets is audited against the envelope."""
    from dfns_contract.client.secrets import remember_received
    from dfns_contract.contract.catalog import ENVIRONMENT, PENDING
    from dfns_contract.contract.expectations import auditor

    catalog = request.config.stash[CATALOG]
    audit = auditor(catalog.envelope, catalog.internal_message,
                    recognised={entry.status: entry.meaning for entry in catalog.recognised
                                if entry.answer == ENVIRONMENT},
                    pending=next((entry.meaning for entry in catalog.recognised if entry.answer == PENDING), None))
    client = principal_client(dfns_target.base_url, dfns_target.profile, request.config.stash[SETTINGS],
                              session=dfns_http, observers=[remember_received, audit])
    client.guard = run_guard(request)  # copied to every other principal and race sender of this process
    return client


def run_guard(request: pytest.FixtureRequest) -> TargetGuard:
    """This process's breaker and deadline (``client/guard.py``), the deadline counted from now (its first case).

    ``--dfns-deadline``, else ``run_deadline`` from the timeout, the selected
    cases, the heavy ones among them and the fuzzing budget's examples.
    """
    from dfns_contract.client.guard import TargetGuard, run_deadline
    from dfns_contract.client.retries import Retries
    from dfns_contract.contract.fuzzing import VALUES

    settings = request.config.stash[SETTINGS]
    deadline = settings.deadline
    if deadline is None:
        items = request.session.items
        heavy = sum(1 for item in items if item.get_closest_marker("heavy") is not None)
        budget = request.config.pluginmanager.get_plugin("dfns-fuzzing").profile
        deadline = run_deadline(settings.timeout, len(items), heavy, VALUES[budget])
    return TargetGuard(deadline, retries=Retries(settings.rate_limit_budget))


def principal_client(base_url: str, profile: Profile, settings: Settings, *,
                     session: requests.Session | None = None, observers: list | None = None) -> DfnsClient:
    """A client of the profile's main principal, as the settings say (the fixture's, the controller's cleanup's)."""
    from dfns_contract.client import DfnsClient, KeySigner
    from dfns_contract.client.secrets import remember_received

    cred, pem = profile.get("credId"), profile.get("privateKey")
    headers = settings.request_headers
    return DfnsClient(
        base_url,
        profile.get("appId") if "x-dfns-appid" in headers else None,
        sends_nonce="x-dfns-nonce" in headers,
        auth_token=profile.get("authToken"),
        signer=KeySigner(cred, pem) if cred and pem else None,
        app_origin=profile.get("appOrigin"),
        timeout=settings.timeout,
        retry_transport=settings.retry_transport,
        session=session,
        observers=observers if observers is not None else [remember_received],
        pacer=run_pacer(settings),
        in_flight=_in_flight(settings.concurrency),
    )


def _in_flight(concurrency: int) -> InFlight:
    """``--dfns-concurrency``, split between the pytest-xdist workers (each at least one request at a time)."""
    from dfns_contract.client.pacing import InFlight

    return InFlight(max(1, concurrency // _workers()))


def _workers() -> int:
    return max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), 1)


@pytest.fixture(scope="session")
def dfns_run_id(request: pytest.FixtureRequest) -> str:
    """Unique per run and per worker: names of what the suite creates carry it."""
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    run_id = "dfns-contract-%s-%s" % (secrets.token_hex(4), worker)
    preflight = request.config.stash[SETTINGS].preflight  # the controller's: a worker's is None
    if preflight is not None and preflight.token_accepted is not None:
        from dfns_contract.contract.recipes import control_key
        from dfns_contract.contract.shared import shared_for

        # The preflight's accepted GET /auth/apps is the cases' shared control: a quota charges each request.
        shared_for(run_id).seed(control_key("GET", "/auth/apps"), preflight.token_accepted)
    return run_id


@pytest.fixture(scope="session")
def dfns_cleanup(request: pytest.FixtureRequest, dfns_client: DfnsClient) -> Iterator[Cleanup]:
    """Undo actions for what the run changes on the target; run once when the session ends.

    Torn down before the client and the target, also after failures and
    ``-x``; every change is journaled before it is made, so that the
    controller undoes what a process stopped by Ctrl-C, SIGTERM or a crash
    could not (``restore.py``).
    """
    # for_cleanup: the run's breaker and deadline must not stop the cleanup (client/guard.py).
    cleanup = request.config.pluginmanager.get_plugin("dfns-restore").new_cleanup(dfns_client.for_cleanup())
    yield cleanup
    cleanup.run()


@pytest.fixture(scope="session", autouse=True)
def dfns_pauses(request: pytest.FixtureRequest) -> Pauses:
    """First uses for this process's replay-after-a-pause cases, sent when its first test starts (``pauses.py``).

    Only for the cases selected, whose profile keys are there and which may
    run on this target (a user action's first use changes state). Under
    pytest-xdist every worker sends them, not knowing which will run the case.
    """
    from dfns_contract.contract.concurrency import at_once
    from dfns_contract.contract.pauses import Pauses, pause_from
    from dfns_contract.contract.recipes import FIRST_USES

    settings = request.config.stash[SETTINGS]
    due = [item for item in request.session.items if _case_id(item) in FIRST_USES and _may_run(item, settings)]
    if not due:
        return Pauses()
    ctx = _session_context(request)
    pauses = Pauses(pause_from(ctx.profile.get("replayPauseSeconds")))
    due = [item for item in due if not ctx.profile.missing(item.stash.get(NEEDS, []))]
    at_once(ctx.client, lambda item: pauses.use_now(_case_id(item), FIRST_USES[_case_id(item)](ctx)), due,
            label=lambda index: "first use of %s" % _case_id(due[index]))
    return pauses


@pytest.fixture(scope="session", autouse=True)
def dfns_run_ahead(request: pytest.FixtureRequest, dfns_pauses: Pauses) -> Iterator[RunAhead]:
    """This process's tests, started at once when its first test starts (``ahead.py``); stopped before the cleanup.

    Only in a process that runs its tests itself (not a pytest-xdist worker),
    with ``--dfns-concurrency`` above 1, for the tests selected that will not
    be skipped and whose fixtures ``ahead.py`` knows.
    """
    from dfns_contract.contract.concurrency import lanes_of
    from dfns_contract.plugin.ahead import fixtures_known

    ahead: RunAhead = request.config.pluginmanager.get_plugin("dfns-ahead")
    settings = request.config.stash[SETTINGS]
    if not hasattr(request.config, "workerinput") and settings.concurrency > 1 and not _hypothesis_talks(request.config):
        due = [item for item in request.session.items if _in_suite(item, request) and _may_run(item, settings)
               and fixtures_known(item, PER_TEST)]
        if due:
            profile = request.getfixturevalue("dfns_target").profile
            due = [item for item in due if not profile.missing(item.stash.get(NEEDS, []))]
        if due:
            ctx = _session_context(request)
            guard = ctx.client.guard
            ahead.start(due, lambda item: _call_ahead(item, request, ctx, dfns_pauses), lanes_of(ctx.client),
                        halt=guard.halt if guard is not None else None)
    yield ahead
    ahead.stop()


def _call_ahead(item: pytest.Item, request: pytest.FixtureRequest, session: RecipeContext, pauses: Pauses) -> None:
    """Call ``item``'s function as its turn would: session fixtures as they are, per-test ones made here."""
    from dfns_contract.client.chains import CHAINS

    made = {"session": session, "pauses": pauses, "catalog": request.config.stash[CATALOG]}
    params = getattr(getattr(item, "callspec", None), "params", {})
    kwargs = {}
    for name in item._fixtureinfo.argnames:  # noqa: SLF001 - what pytest passes the function
        if name in PER_TEST:
            kwargs[name] = PER_TEST[name](item, made)
        elif name in params:
            kwargs[name] = params[name]
        else:
            kwargs[name] = request.getfixturevalue(name)  # session-scoped, set up by the first test already
    case = params.get("dfns_case")
    with CHAINS.chain(case.id if case is not None else item.name):
        item.obj(**kwargs)


def _recipe_context_of(item: pytest.Item, made: Mapping[str, Any]) -> RecipeContext:
    return case_context(item.name, made["session"], made["pauses"])


def _evidence_of(item: pytest.Item, made: Mapping[str, Any]) -> Callable[..., None]:
    from dfns_contract.plugin.conformance import evidence_recorder

    return evidence_recorder(item)


def _error_of(item: pytest.Item, made: Mapping[str, Any]) -> DocumentedError:
    return documented_error_of(item, made["catalog"])


def _counter_of(item: pytest.Item, made: Mapping[str, Any]) -> Callable[[], None]:
    from dfns_contract.plugin.ahead import counter_of

    return counter_of(item).tick


#: The per-test fixtures a test run ahead gets (``ahead.py``), each made as its fixture makes it.
PER_TEST: dict[str, Callable[[pytest.Item, Mapping[str, Any]], Any]] = {
    "recipe_context": _recipe_context_of,
    "dfns_evidence": _evidence_of,
    "dfns_error": _error_of,
    "count_examples": _counter_of,
}


def _hypothesis_talks(config: pytest.Config) -> bool:
    """Hypothesis' own output was asked for: its properties show it only in their turn."""
    verbosity = config.getoption("hypothesis_verbosity", None)
    return bool(config.getoption("hypothesis_show_statistics", False)) or verbosity not in (None, "normal")


def _in_suite(item: pytest.Item, request: pytest.FixtureRequest) -> bool:
    return item.path.is_relative_to(request.config.pluginmanager.get_plugin("dfns-fuzzing").suite_dir)


def _case_id(item: pytest.Item) -> str | None:
    case = getattr(item, "callspec", None) and item.callspec.params.get("dfns_case")
    return getattr(case, "id", None)


def _may_run(item: pytest.Item, settings: Settings) -> bool:
    return not (item.get_closest_marker("destructive") and settings.sensitive and not settings.allow_destructive)


def _session_context(request: pytest.FixtureRequest) -> RecipeContext:
    from dfns_contract.contract.recipes import RecipeContext

    target = request.getfixturevalue("dfns_target")
    return RecipeContext(profile=target.profile, client=request.getfixturevalue("dfns_client"),
                         run_id=request.getfixturevalue("dfns_run_id"), cleanup=request.getfixturevalue("dfns_cleanup"))


@pytest.fixture
def recipe_context(request: pytest.FixtureRequest, dfns_target: Target, dfns_client: DfnsClient, dfns_run_id: str,
                   dfns_cleanup: Cleanup, dfns_pauses: Pauses) -> RecipeContext:
    """A case's context; its requests spell header names one way, fixed by the case id (``wire/headers.py``)."""
    from dfns_contract.contract.recipes import RecipeContext

    session = RecipeContext(profile=dfns_target.profile, client=dfns_client, run_id=dfns_run_id, cleanup=dfns_cleanup)
    return case_context(request.node.name, session, dfns_pauses)


def case_context(name: str, session: RecipeContext, pauses: Pauses) -> RecipeContext:
    """The context of the case whose test is ``name``: the session's, its header names spelled one way (by name)."""
    from dfns_contract.contract.recipes import RecipeContext
    from dfns_contract.wire.headers import spelling_for

    client = session.client.spelled(spelling_for(name))
    return RecipeContext(profile=session.profile, client=client, run_id=session.run_id, cleanup=session.cleanup,
                         pauses=pauses)
