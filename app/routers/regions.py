"""GET /regions, GET /regions/{id}, GET /regions/{id}/suggestions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.analysis import find_suggestions, weights_from_query
from app.convert import region_out, suggestion_out
from app.dependencies import ModelDep
from app.routers.params import ChannelQuery, LevelQuery, RegionIdPath, WeightsQuery
from matching import UnknownRegionError
from schemas.common import ErrorBody
from schemas.links import SuggestionList
from schemas.regions import RegionList, RegionOut

router = APIRouter(prefix="/regions", tags=["regions"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No region with this id."}
}


@router.get("", summary="All region profiles")
def list_regions(
    state: ModelDep,
    side: Annotated[Literal["northeast", "east"] | None, Query()] = None,
    level: LevelQuery = None,
) -> RegionList:
    """Profiles with side, level, official counterparts and every existing tie."""
    regions = [
        region_out(state, r)
        for r in state.dataset.regions
        if (side is None or r.side == side) and (level is None or r.level == level)
    ]
    return RegionList(dataset_version=state.version, regions=regions)


@router.get("/{region_id}", summary="One region's profile", responses=NOT_FOUND)
def get_region(state: ModelDep, region_id: RegionIdPath) -> RegionOut:
    """A region's profile: indicators, factors, strengths and needs, each with provenance."""
    try:
        region = state.dataset.region(region_id)
    except KeyError:
        raise UnknownRegionError(region_id) from None
    return region_out(state, region)


@router.get(
    "/{region_id}/suggestions",
    summary="Additional partners for one region",
    responses=NOT_FOUND,
)
def suggestions(
    state: ModelDep,
    region_id: RegionIdPath,
    k: Annotated[int, Query(ge=1, le=100, description="How many partners.")] = 5,
    channel: ChannelQuery = None,
    level: LevelQuery = None,
    weights: WeightsQuery = None,
) -> SuggestionList:
    """The k best partners on the other side that are not already tied, best first."""
    resolved = weights_from_query(state, weights)
    side, picks = find_suggestions(
        state, resolved, region=region_id, k=k, channel=channel, level=level
    )
    return SuggestionList(
        dataset_version=state.version,
        region=region_id,
        side=side,
        channel=channel,
        level=level,
        weights=resolved.as_dict(),
        suggestions=[
            suggestion_out(
                state, state.network, state.components, resolved, region_id, pick, channel
            )
            for pick in picks
        ],
    )
