"""GET /links and GET /links/{northeast_id}/{east_id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app import convert
from app.dependencies import DatedStateDep
from app.parsing import StrictRoute
from app.routers.params import ChannelQuery, EastIdPath, NortheastIdPath, WeightChanges
from app.services import links as service
from schemas.common import ErrorBody
from schemas.links import LinkDetail, LinkList

router = APIRouter(prefix="/links", tags=["links"], route_class=StrictRoute)


@router.get("", summary="Scored links, best first")
def list_links(
    state: DatedStateDep,
    changes: WeightChanges,
    northeast: Annotated[
        str | None, Query(description="Only links of this northeast region.", max_length=200)
    ] = None,
    east: Annotated[
        str | None, Query(description="Only links of this eastern region.", max_length=200)
    ] = None,
    channel: ChannelQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most links returned.")] = 50,
) -> LinkList:
    """Every pair's score with its contributions; existing ties are included and flagged."""
    page = service.find_links(
        state, changes, northeast=northeast, east=east, channel=channel, limit=limit
    )
    return convert.link_list(state, page)


@router.get(
    "/{northeast_id}/{east_id}",
    summary="One link with its full explanation",
    responses={
        404: {"model": ErrorBody, "description": "No region with this id."},
    },
)
def get_link(
    state: DatedStateDep,
    northeast_id: NortheastIdPath,
    east_id: EastIdPath,
    changes: WeightChanges,
) -> LinkDetail:
    """Every contribution of the link's score, each split into its terms, and its outcomes.

    The outcomes are those the cooperation factor drew on: dated by `as_of`, newest first.
    """
    return convert.link_detail(state, service.explain(state, changes, northeast_id, east_id))
