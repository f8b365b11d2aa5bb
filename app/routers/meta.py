"""GET /health and GET /taxonomy."""

from __future__ import annotations

from fastapi import APIRouter

from app import convert
from app.dependencies import StateDep
from schemas.dataset import HealthOut
from schemas.taxonomy import TaxonomyOut

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Liveness and the dataset in use")
def health(state: StateDep) -> HealthOut:
    """Answer when the service is up and has a dataset loaded."""
    return convert.health_out(state)


@router.get("/taxonomy", summary="Channels and their sectors, and the pairing factors")
def taxonomy(state: StateDep) -> TaxonomyOut:
    """Every channel with its sectors and default weight, and the four factors."""
    return convert.taxonomy_out(state.taxonomy)
