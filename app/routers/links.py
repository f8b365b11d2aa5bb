"""GET /links and GET /links/{northeast_id}/{east_id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.analysis import explain, find_links, weights_from_query
from app.convert import link_detail, link_out
from app.dependencies import ModelDep
from app.routers.params import ChannelQuery, RegionIdPath, WeightsQuery
from schemas.common import ErrorBody
from schemas.links import LinkDetail, LinkList

router = APIRouter(prefix="/links", tags=["links"])


@router.get("", summary="Scored links, best first")
def list_links(
    state: ModelDep,
    northeast: Annotated[
        str | None, Query(description="Only links of this northeast region.", max_length=200)
    ] = None,
    east: Annotated[
        str | None, Query(description="Only links of this eastern region.", max_length=200)
    ] = None,
    channel: ChannelQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most links returned.")] = 50,
    weights: WeightsQuery = None,
) -> LinkList:
    """Every pair's score with its contributions; existing ties are included and flagged."""
    resolved = weights_from_query(state, weights)
    page = find_links(state, resolved, northeast=northeast, east=east, channel=channel, limit=limit)
    return LinkList(
        dataset_version=state.version,
        weights=resolved.as_dict(),
        channel=channel,
        total=page.total,
        links=[
            link_out(state.network, state.components, resolved, int(i), int(j))
            for i, j in zip(page.rows, page.cols, strict=True)
        ],
    )


@router.get(
    "/{northeast_id}/{east_id}",
    summary="One link with its full explanation",
    responses={
        404: {"model": ErrorBody, "description": "No region with this id."},
    },
)
def get_link(
    state: ModelDep,
    northeast_id: RegionIdPath,
    east_id: RegionIdPath,
    weights: WeightsQuery = None,
) -> LinkDetail:
    """Every contribution of the link's score, each split into its sector terms."""
    resolved = weights_from_query(state, weights)
    return link_detail(state, resolved, explain(state, resolved, northeast_id, east_id))
