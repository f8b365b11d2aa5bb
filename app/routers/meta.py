"""GET /health and GET /taxonomy."""

from __future__ import annotations

from fastapi import APIRouter

from app.convert import taxonomy_out
from app.dependencies import ModelDep
from schemas.dataset import HealthOut
from schemas.taxonomy import TaxonomyOut

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Liveness and the dataset in use")
def health(state: ModelDep) -> HealthOut:
    """Answer when the service is up and has a dataset loaded."""
    return HealthOut(status="ok", dataset_version=state.version, regions=len(state.dataset.regions))


@router.get("/taxonomy", summary="Channels and their sectors, and the pairing factors")
def taxonomy(state: ModelDep) -> TaxonomyOut:
    """Every channel with its sectors and default weight, and the four factors."""
    return taxonomy_out(state.taxonomy)
