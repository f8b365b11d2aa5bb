"""The ASGI app: ``uvicorn app.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.enterprises import EnterpriseService
from app.errors import install_error_handlers
from app.limits import BodySizeLimit
from app.model import ModelStore
from app.routers import (
    dataset,
    enterprises,
    graph,
    links,
    meta,
    plans,
    regions,
    rounds,
    scenarios,
)
from app.settings import Settings, get_settings
from app.storage.database import connect
from matching import load_taxonomy
from schemas.common import ErrorBody

__all__ = ["app", "create_app"]

#: Endpoints that stream large uploads and check their own limits.
BULK_PATHS: tuple[str, ...] = ("/enterprises/import",)

DESCRIPTION = """
counterpart finds partnerships between northeast and eastern Chinese regions beyond their
official counterparts: it scores every link along the plan's four dockings and soft cooperation,
explains each score, and suggests additional partners one region at a time or as a whole plan.

Reads are open. Writes need `Authorization: Bearer <COUNTERPART_ADMIN_KEY>`. Every error has the
shape `{"error": ..., "detail": ...}`; every result names the dataset version it was computed on.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its lifespan connects the database and loads the active dataset."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine, sessions = connect(settings.resolved_database_url)
        models = ModelStore(sessions, load_taxonomy())
        models.start()
        app.state.models = models
        app.state.sessions = sessions
        enterprises = EnterpriseService(sessions)
        # Build the search index now, so that the first query does not wait for it.
        with enterprises.reading(models.current()):
            pass
        app.state.enterprises = enterprises
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="counterpart",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Every route answers invalid requests in the API's error shape, not FastAPI's default.
        responses={422: {"model": ErrorBody, "description": "Invalid request."}},
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, exempt=BULK_PATHS)
    install_error_handlers(app)
    for router in (
        meta.router,
        regions.router,
        links.router,
        plans.router,
        graph.router,
        scenarios.router,
        scenarios.admin_router,
        dataset.router,
        dataset.admin_router,
        enterprises.router,
        enterprises.admin_router,
        enterprises.search_router,
        rounds.router,
    ):
        app.include_router(router)
    return app


app = create_app()
