"""FastAPI dependencies: settings, the current model, and the admin key check."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.enterprises import EnterpriseService
from app.errors import Unauthorized
from app.model import ModelState, ModelStore
from app.settings import Settings
from app.storage.database import Sessions

__all__ = [
    "AdminDep",
    "AdminRoute",
    "EnterprisesDep",
    "ModelDep",
    "SessionsDep",
    "SettingsDep",
    "StoreDep",
    "check_admin_key",
]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_model_store(request: Request) -> ModelStore:
    """The app's model store (built in the lifespan)."""
    models: ModelStore = request.app.state.models
    return models


def get_sessions(request: Request) -> Sessions:
    """The app's database session factory."""
    sessions: Sessions = request.app.state.sessions
    return sessions


def get_enterprises(request: Request) -> EnterpriseService:
    """The app's enterprise service (with this worker's index)."""
    service: EnterpriseService = request.app.state.enterprises
    return service


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EnterprisesDep = Annotated[EnterpriseService, Depends(get_enterprises)]
SessionsDep = Annotated[Sessions, Depends(get_sessions)]
StoreDep = Annotated[ModelStore, Depends(get_model_store)]


def current_model(models: StoreDep) -> ModelState:
    """The model of the active dataset."""
    return models.current()


ModelDep = Annotated[ModelState, Depends(current_model)]

_bearer = HTTPBearer(
    auto_error=False,
    description="Writes need `Authorization: Bearer <key>`, the key being COUNTERPART_ADMIN_KEY.",
)


def check_admin_key(settings: Settings, authorization: str | None) -> None:
    """Refuse a write without the admin key (401): the one check behind every write."""
    if settings.admin_key is None:
        raise Unauthorized("writes are disabled: the server has no COUNTERPART_ADMIN_KEY set")
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("this is a write: send 'Authorization: Bearer <admin key>'")
    expected = settings.admin_key.get_secret_value().encode()
    if not secrets.compare_digest(key.strip().encode(), expected):
        raise Unauthorized("the API key is not valid")


def require_admin(
    request: Request,
    settings: SettingsDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The admin check as a dependency (it also marks the endpoint as secured in OpenAPI)."""
    check_admin_key(settings, request.headers.get("authorization"))


AdminDep = Annotated[None, Depends(require_admin)]


class AdminRoute(APIRoute):
    """A write route: the key is checked before the body is read.

    FastAPI parses a request's body before it resolves dependencies, so without this a write with
    a malformed body and no key would get 422 instead of 401.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler with the key check."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            check_admin_key(request.app.state.settings, request.headers.get("authorization"))
            return await handler(request)

        return guarded
