"""FastAPI dependencies: settings, the current model, and the admin key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from app.errors import Unauthorized
from app.model import ModelState, ModelStore
from app.settings import Settings

__all__ = ["AdminDep", "ModelDep", "SessionsDep", "SettingsDep", "StoreDep"]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_model_store(request: Request) -> ModelStore:
    """The app's model store (built in the lifespan)."""
    models: ModelStore = request.app.state.models
    return models


def get_sessions(request: Request) -> sessionmaker[Session]:
    """The app's database session factory."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
StoreDep = Annotated[ModelStore, Depends(get_model_store)]


def current_model(models: StoreDep) -> ModelState:
    """The model of the active dataset."""
    return models.current()


ModelDep = Annotated[ModelState, Depends(current_model)]

_bearer = HTTPBearer(
    auto_error=False,
    description="Writes need `Authorization: Bearer <key>`, the key being COUNTERPART_ADMIN_KEY.",
)


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse a write without the admin key (401)."""
    if settings.admin_key is None:
        raise Unauthorized("writes are disabled: the server has no COUNTERPART_ADMIN_KEY set")
    if credentials is None:
        raise Unauthorized("this is a write: send 'Authorization: Bearer <admin key>'")
    expected = settings.admin_key.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise Unauthorized("the API key is not valid")


AdminDep = Annotated[None, Depends(require_admin)]
