"""The suite's fixtures: the target, its profile, clients of its principals, the session cleanup.

Registered with pytest only when the suite is collected (``suite.activate``),
so another project in the same virtualenv sees none of them. What only tests
use (the client, ``requests``, the keys, the reference server) is imported
here, in the fixtures: the pytest-xdist controller runs no test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from dfns_contract.contract.binding import skip_reason
from dfns_contract.contract.catalog import Catalog, DocumentedError
from dfns_contract.contract.cleanup import Cleanup
from dfns_contract.contract.profile import Profile, load_profile
from dfns_contract.contract.target import Target
from dfns_contract.plugin.conformance import dfns_evidence  # noqa: F401 - a fixture
from dfns_contract.plugin.fuzzing import count_examples, dfns_hypothesis_settings  # noqa: F401 - fixtures
from dfns_contract.plugin.output import mask_lines
from dfns_contract.plugin.stash import CATALOG, CLEANUP_LINES, NEEDS, SETTINGS
from dfns_contract.plugin.xdist import SharedServerError, shared_server

if TYPE_CHECKING:
    import requests

    from dfns_contract.client import DfnsClient
    from dfns_contract.client.pacing import Pacer
    from dfns_contract.contract.recipes import RecipeContext


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
        server = start_server(faults=settings.faults)
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
    marker = request.node.get_closest_marker("documented_error")
    if marker is None:
        raise pytest.UsageError("%s uses dfns_error without a documented_error marker" % request.node.nodeid)
    return dfns_catalog.by_id(marker.args[0])


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
    from dfns_contract.client import DfnsClient, KeySigner
    from dfns_contract.client.secrets import remember_received
    from dfns_contract.contract.expectations import audit

    profile, settings = dfns_target.profile, request.config.stash[SETTINGS]
    cred, pem = profile.get("credId"), profile.get("privateKey")
    return DfnsClient(
        dfns_target.base_url,
        profile.get("appId"),
        auth_token=profile.get("authToken"),
        signer=KeySigner(cred, pem) if cred and pem else None,
        app_origin=profile.get("appOrigin"),
        timeout=settings.timeout,
        retry_transport=settings.retry_transport,
        session=dfns_http,
        observers=[remember_received, audit],
        pacer=_pacer(settings.rate_limit),
    )


def _pacer(per_second: float | None) -> Pacer | None:
    """``--dfns-rate-limit``, split between the pytest-xdist workers that share the quota."""
    if per_second is None:
        return None
    from dfns_contract.client.pacing import Pacer

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    return Pacer(per_second / max(workers, 1))


@pytest.fixture(scope="session")
def dfns_run_id(request: pytest.FixtureRequest) -> str:
    """Unique per run and per worker: names of what the suite creates carry it."""
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return "dfns-contract-%s-%s" % (secrets.token_hex(4), worker)


@pytest.fixture(scope="session")
def dfns_cleanup(request: pytest.FixtureRequest, dfns_client: DfnsClient) -> Iterator[Cleanup]:
    """Undo actions for what the run changes on the target; run once when the session ends.

    Torn down before the client and the target, also after failures, ``-x`` and
    Ctrl-C; under pytest-xdist each worker undoes its own changes and hands its
    lines (masked: the controller does not know what this worker received) to
    the controller's summary (``restore.py``).
    """
    cleanup = Cleanup(dfns_client)
    yield cleanup
    lines = cleanup.run()
    config = request.config
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker is not None:
        config.workeroutput["dfns_cleanup"] = mask_lines("[%s] %s" % (worker, line) for line in lines)  # type: ignore[attr-defined]
    else:
        config.stash.setdefault(CLEANUP_LINES, []).extend(lines)


@pytest.fixture
def recipe_context(dfns_target: Target, dfns_client: DfnsClient, dfns_run_id: str, dfns_cleanup: Cleanup) -> RecipeContext:
    from dfns_contract.contract.recipes import RecipeContext

    return RecipeContext(profile=dfns_target.profile, client=dfns_client, run_id=dfns_run_id, cleanup=dfns_cleanup)
