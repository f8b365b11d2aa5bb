"""The ASGI app: ``uvicorn app.main:app``; `create_app` builds one on any settings."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from app.busy import install_busy_handler
from app.errors import ERROR_RESPONSES, install_error_handlers
from app.http_headers import ResponseHeaders
from app.limits import BodySizeLimit
from app.observability import RequestContext
from app.routers import API_DESCRIPTION, BULK_PATHS, ROUTERS
from app.search_threads import SearchThreads
from app.services.context import open_services
from app.settings import Settings, get_settings
from app.webapp import install_web

__all__ = ["app", "create_app"]

#: Collect the youngest generation every 20,000 allocations rather than 700: a large answer
#: (a round of 40,000 meetings) otherwise triggers full collections that hold the interpreter's
#: lock for hundreds of milliseconds.
GC_THRESHOLDS = (20_000, 20, 100)


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI operation id: the name of its endpoint function."""
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its lifespan connects the database and loads the active dataset."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_services(settings) as services:
            app.state.database = services.database
            app.state.active = services.active
            app.state.enterprises = services.enterprises
            app.state.scenarios = services.scenarios
            app.state.budget = services.budget
            app.state.outcomes = services.outcomes
            app.state.keys = services.keys
            app.state.search_threads = SearchThreads(settings.search_threads)
            await _build_routes(app)
            # What start-up built lives as long as the process: moved out of the collector's
            # way, so that a collection while a request allocates stays short (and with it the
            # time the interpreter's lock is held away from other requests).
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            yield

    app = FastAPI(
        title="counterpart",
        version="0.2.0",
        license_info={"name": "MIT", "identifier": "MIT"},
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc are served from local files (app.webapp), never from a CDN.
        docs_url=None,
        redoc_url=None,
        # Every route answers invalid requests in the API's error shape, not FastAPI's default.
        responses=ERROR_RESPONSES,
        # Operation ids a generated client can use as method names: `get_link`, not
        # `get_link_links__northeast_id___east_id__get` (a test holds them unique).
        generate_unique_id_function=operation_id,
        # Relative: the spec's operations are on the host that serves it.
        servers=[{"url": "/", "description": "This service."}],
    )
    app.state.settings = settings
    # The last added is the outermost: CORS decorates every answer, errors and 413s included.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, exempt=BULK_PATHS)
    app.add_middleware(ResponseHeaders)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-Request-ID"],
        expose_headers=["ETag", "Retry-After", "X-Request-ID"],
    )
    # Outermost of all: every answer, CORS preflights and errors included, is counted and logged.
    app.add_middleware(RequestContext)
    install_error_handlers(app)
    install_busy_handler(app)
    for router in ROUTERS:
        app.include_router(router)
    install_web(app)
    return app


async def _build_routes(app: FastAPI) -> None:
    """Have FastAPI build every route's handler now, in one thread, before taking requests.

    FastAPI builds a route's parameter handling on the first request that walks past it, and the
    parameter objects that several routes share (a dependency's `Query`) are briefly changed while
    it does: two first requests at once could see each other's half-built state (a 500 under
    load). One request to a path no route matches walks past every route.
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/.well-known/counterpart-start",
        "raw_path": b"/.well-known/counterpart-start",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "server": ("127.0.0.1", 0),
        "client": ("127.0.0.1", 0),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Any) -> None:
        return None

    await app.router(scope, receive, send)


app = create_app()
