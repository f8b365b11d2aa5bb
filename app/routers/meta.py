"""GET /health (alive), GET /ready (can serve), GET /metrics and GET /taxonomy."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app import convert
from app.dependencies import ActiveDep, DatabaseDep, EnterprisesDep, StateDep
from app.metrics import metrics_text
from app.parsing import StrictRoute
from app.services.health import readiness
from schemas.dataset import HealthOut, ReadyOut
from schemas.taxonomy import TaxonomyOut

router = APIRouter(tags=["meta"], route_class=StrictRoute)


@router.get("/health", summary="Liveness and the dataset in use")
async def health(active: ActiveDep) -> HealthOut:
    """Answer when the service is up and has a dataset loaded.

    Answered on the event loop from memory, without the database or the threadpool: it stays
    quick while heavy requests run.
    """
    return convert.health_out(active.loaded())


@router.get(
    "/ready",
    summary="Readiness: database reachable, dataset and partner index loaded",
    responses={503: {"model": ReadyOut, "description": "Not ready; `problems` says why."}},
)
def ready(
    database: DatabaseDep, active: ActiveDep, enterprises: EnterprisesDep, response: Response
) -> ReadyOut:
    """200 when this worker can serve requests, 503 naming what it is waiting for."""
    found = readiness(database, active, enterprises)
    if not found.ready:
        response.status_code = 503
    return convert.ready_out(found)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(database: DatabaseDep, active: ActiveDep, enterprises: EnterprisesDep) -> Response:
    """Requests and latency by route, the partner index's size, an import's progress."""
    readiness(database, active, enterprises)  # refreshes the index gauges
    body, media_type = metrics_text()
    return Response(body, media_type=media_type)


@router.get("/taxonomy", summary="Channels and their sectors, and the pairing factors")
def taxonomy(state: StateDep) -> TaxonomyOut:
    """Every channel with its sectors and default weight, and the four factors."""
    return convert.taxonomy_out(state.taxonomy)
