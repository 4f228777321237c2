"""The reference server as an ASGI application: ``create_app``.

Wires the seeded world, the token service, the stores and the renderer into
one ``ServerState`` (``app.state.server``), turns the endpoint declarations
into routes through the pipeline, and adds the middlewares: the access log
when it is on, the last-resort 500, the request limits, and those the fault
set asks for. Unknown routes and wrong methods are answered in the error
envelope too. Its lifespan runs the sweeper that prunes expired one-time
values (so serve it with uvicorn's lifespan on, as runner.py does).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from .access_log import AccessLog
from .capture import CaptureResponses
from .clock import Clock, system_clock
from .contracts import ContractVersion, resolve_contract
from .endpoints import ENDPOINTS
from .endpoints.sandbox import sandbox_routes
from .errors import ApiError, ErrorId
from .faults import ODD_BYTE_FAULTS, FaultSet, resolve_faults
from .middleware import AnswerEverything, CatchAll, CrashOnOddBytes, EchoSecrets
from .pipeline import Pipeline
from .quota import QuotaLimit, WindowQuota
from .rendering import Renderer
from .request_limits import RequestLimits
from .seed import SeededWorld, new_seeded_world
from .settings import Settings
from .state import ServerState
from .stores import OneTimeStore, Sweeper

_HTTP_ERRORS = {404: ErrorId.ROUTE_NOT_FOUND, 405: ErrorId.METHOD_NOT_ALLOWED}


def create_app(
    *,
    faults: Iterable[str] | FaultSet = (),
    clock: Clock | None = None,
    settings: Settings | None = None,
    seeded_world: SeededWorld | None = None,
    contract: ContractVersion | str | None = None,
) -> Starlette:
    """A fresh server: new ids, keys, secret and seeded world every call (or the ``seeded_world`` given,
    made with the same ``settings`` and ``clock``), answering as the ``contract`` version
    (contracts.py; default the first edit of the errors page)."""
    faults = faults if isinstance(faults, FaultSet) else resolve_faults(faults)
    version = resolve_contract(contract)
    clock = clock or system_clock
    settings = settings or Settings()
    seeded_world = seeded_world or new_seeded_world(settings, clock)
    world, tokens, renderer = seeded_world.world, seeded_world.tokens, Renderer(faults, version)
    nonces, user_actions, challenges = OneTimeStore(clock), OneTimeStore(clock), OneTimeStore(clock)
    state = ServerState(
        settings=settings,
        clock=clock,
        faults=faults,
        world=world,
        tokens=tokens,
        renderer=renderer,
        seeded=seeded_world.seeded,
        nonces=nonces,
        user_actions=user_actions,
        challenges=challenges,
        sweeper=Sweeper((nonces, user_actions, challenges), settings.prune_interval),
        contract=version,
        quota=WindowQuota(settings.rate_limit, settings.rate_window) if settings.rate_limit else None,
    )
    pipeline = Pipeline(state)
    routes = [pipeline.route(endpoint) for endpoint in ENDPOINTS] + sandbox_routes(state)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error = _HTTP_ERRORS.get(exc.status_code)
        if error is None:  # Starlette raises only 404 and 405 here; anything else is a bad request.
            return renderer.error(ApiError(ErrorId.BAD_REQUEST, exc.detail))
        if error is ErrorId.METHOD_NOT_ALLOWED:
            return renderer.error(
                ApiError(error), headers={"Allow": _allowed_methods(routes, request)}
            )
        return renderer.error(ApiError(error))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(state.sweeper.run)
            yield
            tasks.cancel_scope.cancel()

    app = Starlette(
        routes=routes,
        middleware=_middleware(faults, renderer, settings, state.quota),
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.server = state
    return app


def _allowed_methods(routes: list[Route], request: Request) -> str:
    """Every method some route serves at this path (Starlette's own 405 names one route's)."""
    methods = {
        m for r in routes if r.matches(request.scope)[0] is not Match.NONE for m in r.methods or ()
    }
    return ", ".join(sorted(methods))


def _middleware(faults: FaultSet, renderer: Renderer, settings: Settings,
                quota: WindowQuota | None = None) -> list[Middleware]:
    """Outermost first: the catch-all must see every other layer's exceptions, the access log and
    the capture every answer, the quota and the limits every request before any fault acts on it."""
    stack = [Middleware(AccessLog)] if settings.access_log else []
    if settings.capture is not None:
        stack.append(Middleware(CaptureResponses, capture=settings.capture))
    stack.append(Middleware(CatchAll, renderer=renderer))
    if quota is not None:
        stack.append(Middleware(QuotaLimit, renderer=renderer, quota=quota))
    stack.append(Middleware(RequestLimits, renderer=renderer, settings=settings))
    if "gzip" in faults:
        stack.append(Middleware(GZipMiddleware, minimum_size=0))
    if faults.names & ODD_BYTE_FAULTS:
        stack.append(Middleware(CrashOnOddBytes))
    if "reject-all" in faults:
        stack.append(Middleware(AnswerEverything, renderer=renderer, error=ErrorId.NOT_AUTHORIZED))
    elif "one-error" in faults:
        stack.append(Middleware(AnswerEverything, renderer=renderer, error=ErrorId.NONCE_INVALID))
    if "echo-secrets" in faults:
        stack.append(Middleware(EchoSecrets))
    return stack
