"""The API's routers, one per resource.

Routers do HTTP only: parse, authorise, call a service, return what `app.convert` makes.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.routers import (
    dataset,
    enterprises,
    evaluation,
    graph,
    keys,
    links,
    meta,
    outcomes,
    partners,
    plans,
    regions,
    rounds,
    scenarios,
)

__all__ = ["API_DESCRIPTION", "BULK_PATHS", "ROUTERS"]

API_DESCRIPTION = """
counterpart finds partnerships between northeast and eastern Chinese regions beyond their
official counterparts: it scores every link along the plan's four dockings and soft cooperation,
explains each score, and suggests additional partners one region at a time or as a whole plan.

Reads are open. Writes need `Authorization: Bearer <key>` with a key whose role allows them:
`admin` (COUNTERPART_ADMIN_KEY, or a key made with POST /keys) may do everything, `planner`
scenarios, outcomes and targets, `enterprise` the profiles of its own enterprises. No key, or an
unknown or revoked one, is a 401; a key whose role does not allow the write is a 403.

Every error has the shape `{"error": ..., "detail": ...}`; every result names the dataset version
it was computed on.
"""

#: Endpoints that stream large uploads and check their own limits.
BULK_PATHS: tuple[str, ...] = ("/enterprises/import",)

#: Every router of the API, in the order of the OpenAPI document.
ROUTERS: tuple[APIRouter, ...] = (
    meta.router,
    regions.router,
    links.router,
    plans.router,
    graph.router,
    scenarios.router,
    scenarios.planner_router,
    dataset.router,
    dataset.admin_router,
    enterprises.router,
    enterprises.owner_router,
    enterprises.admin_router,
    partners.router,
    rounds.router,
    outcomes.router,
    outcomes.planner_router,
    evaluation.router,
    keys.router,
)
