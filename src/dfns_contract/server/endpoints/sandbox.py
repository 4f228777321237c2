"""Sandbox-only routes: NOT part of the Dfns API.

The real API emails a new user's registration code. The reference server
keeps the "email" in a mailbox that anyone may read, without nonce, app or
token, so integrators and the suite can complete a registration:

    GET /sandbox/mailbox/{username} -> {"registrationCode": ..., "expiresAt": ...}
    GET /sandbox/mailbox/{username}/login-code -> {"code": ..., "expiresAt": ...}
    GET /sandbox/mailbox/{username}/recovery-code -> {"code": ..., "expiresAt": ...}

(the last code Send Login Code, or Send Recovery Code Email, sent the user).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, ErrorId
from ..state import ServerState


def sandbox_routes(state: ServerState) -> list[Route]:
    async def mailbox(request: Request) -> Response:
        mail = state.world.mailbox.get(request.path_params["username"])
        if mail is None:
            return state.renderer.error(ApiError(ErrorId.MAIL_NOT_FOUND))
        return state.renderer.json(mail.to_json())

    async def code_mail(request: Request) -> Response:
        kind = request.path_params["kind"].removesuffix("-code")
        code = state.world.code_mail.get((kind, request.path_params["username"]))
        if code is None:
            return state.renderer.error(ApiError(ErrorId.MAIL_NOT_FOUND))
        return state.renderer.json(code.to_json())

    return [
        Route("/sandbox/mailbox/{username}", mailbox, methods=["GET"]),
        Route("/sandbox/mailbox/{username}/{kind:str}", code_mail, methods=["GET"]),
    ]
