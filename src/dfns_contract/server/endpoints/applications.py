"""Application Management (api-docs/authentication/application-management)."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, ErrorId, bad_request
from ..pipeline import Call, Endpoint
from ..validation import Field
from ..world import Application, new_id
from .common import permission_for


def list_apps(call: Call) -> dict[str, Any]:
    return {"items": [app.to_json() for app in call.state.world.apps_of(call.user.org_id)]}


def get_app(call: Call) -> dict[str, Any]:
    if "other-org-app-readable" in call.state.faults:
        found = call.state.world.apps.get(call.param("appId"))
        if found is not None and not found.is_archived:
            return found.to_json()  # the fault: no tenant check
    return _target(call).to_json()


def create_app(call: Call) -> dict[str, Any]:
    body, world = call.body, call.state.world
    _unique_name(call, body["name"])
    app = world.add_app(
        Application(
            new_id("ap"),
            call.user.org_id,
            body["name"],
            rp_id=body["relyingPartyId"],
            origin=body["origin"],
            permission=permission_for(call, body.get("permissionId")),
            kind=body["kind"],
            external_id=body.get("externalId"),
        )
    )
    return app.to_json()


def update_app(call: Call) -> dict[str, Any]:
    app = _target(call)
    if "name" in call.body:
        _unique_name(call, call.body["name"], app)
        app.name = call.body["name"]
    if "externalId" in call.body:
        app.external_id = call.body["externalId"]
    return app.to_json()


def activate_app(call: Call) -> dict[str, Any]:
    app = _changeable_target(call)
    app.is_active = True
    return app.to_json()


def deactivate_app(call: Call) -> dict[str, Any]:
    app = _changeable_target(call)
    app.is_active = False
    return app.to_json()


def archive_app(call: Call) -> dict[str, Any]:
    app = _changeable_target(call)
    app.is_active, app.is_archived = False, True
    return app.to_json()


def _target(call: Call) -> Application:
    app = call.state.world.find_app(call.user.org_id, call.param("appId"))
    if app is None:
        raise ApiError(ErrorId.APP_NOT_FOUND, details={"appId": call.param("appId"), "orgId": call.user.org_id})
    return app


def _changeable_target(call: Call) -> Application:
    """The path's application, which must exist (404) and not be the caller's (400)."""
    app = _target(call)
    if call.app is not None and app.app_id == call.app.app_id and "selfstate-off" not in call.state.faults:
        raise ApiError(ErrorId.SELF_STATE)
    return app


def _unique_name(call: Call, name: str, renamed: Application | None = None) -> None:
    existing = call.state.world.app_named(call.user.org_id, name)
    if existing is not None and existing is not renamed:
        raise bad_request("an application named %r already exists in the org" % name)


_READ, _UPDATE, _CREATE = "Auth:Apps:Read", "Auth:Apps:Update", "Auth:Apps:Create"
_ONE = "/auth/apps/{appId}"

ENDPOINTS = (
    Endpoint("GET", "/auth/apps", list_apps, operation=_READ),
    Endpoint("GET", _ONE, get_app, operation=_READ),
    Endpoint(
        "POST",
        "/auth/apps",
        create_app,
        operation=_CREATE,
        user_action=True,
        fields=(
            Field("name"),
            Field("relyingPartyId"),
            Field("origin"),
            Field("kind", choices=("ClientSideApplication",)),
            Field("permissionId", required=False),
            Field("externalId", required=False, allow_empty=True),
        ),
    ),
    Endpoint(
        "PUT",
        _ONE,
        update_app,
        operation=_UPDATE,
        user_action=True,
        fields=(
            Field("name", required=False),
            Field("externalId", required=False, allow_empty=True),
        ),
    ),
    Endpoint("PUT", _ONE + "/activate", activate_app, operation=_UPDATE, user_action=True),
    Endpoint("PUT", _ONE + "/deactivate", deactivate_app, operation=_UPDATE, user_action=True),
    Endpoint("DELETE", _ONE, archive_app, operation=_UPDATE, user_action=True),
)
