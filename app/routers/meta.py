"""GET /health and GET /taxonomy."""

from __future__ import annotations

from fastapi import APIRouter

from app import convert
from app.dependencies import ActiveDep, StateDep
from schemas.dataset import HealthOut
from schemas.taxonomy import TaxonomyOut

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Liveness and the dataset in use")
async def health(active: ActiveDep) -> HealthOut:
    """Answer when the service is up and has a dataset loaded.

    Answered on the event loop from memory, without the database or the threadpool: it stays
    quick while heavy requests run.
    """
    return convert.health_out(active.loaded())


@router.get("/taxonomy", summary="Channels and their sectors, and the pairing factors")
def taxonomy(state: StateDep) -> TaxonomyOut:
    """Every channel with its sectors and default weight, and the four factors."""
    return convert.taxonomy_out(state.taxonomy)
