"""GET /regions, GET /regions/{id}, GET /regions/{id}/suggestions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app import convert
from app.dependencies import DatedStateDep, StateDep
from app.parsing import StrictRoute
from app.routers.params import ChannelQuery, LevelQuery, RegionIdPath, WeightChanges
from app.services import regions as service
from schemas.common import ErrorBody
from schemas.links import SuggestionList
from schemas.regions import RegionList, RegionOut

router = APIRouter(prefix="/regions", tags=["regions"], route_class=StrictRoute)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No region with this id."}
}


@router.get("", summary="All region profiles")
def list_regions(
    state: StateDep,
    side: Annotated[Literal["northeast", "east"] | None, Query()] = None,
    level: LevelQuery = None,
) -> RegionList:
    """Profiles with side, level, official counterparts and every existing tie."""
    return convert.region_list(state, service.list_regions(state, side=side, level=level))


@router.get("/{region_id}", summary="One region's profile", responses=NOT_FOUND)
def get_region(state: StateDep, region_id: RegionIdPath) -> RegionOut:
    """A region's profile: indicators, factors, strengths and needs, each with provenance."""
    return convert.region_out(state.dataset, service.get_region(state, region_id))


@router.get(
    "/{region_id}/suggestions",
    summary="Additional partners for one region",
    responses=NOT_FOUND,
)
def region_suggestions(
    state: DatedStateDep,
    region_id: RegionIdPath,
    changes: WeightChanges,
    k: Annotated[int, Query(ge=1, le=100, description="How many partners.")] = 5,
    channel: ChannelQuery = None,
    level: LevelQuery = None,
) -> SuggestionList:
    """The k best partners on the other side that are not already tied, best first."""
    found = service.suggest(state, changes, region=region_id, k=k, channel=channel, level=level)
    return convert.suggestion_list(state, found)
