"""POST /partners/search: partners for a profile that is not registered."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app import convert
from app.dependencies import ActiveDep, EnterprisesDep, SearchThreadsDep
from app.parsing import StrictRoute
from app.routers.params import json_response
from app.services import partners as service
from schemas.enterprises import PartnerList, PartnerQuery

router = APIRouter(prefix="/partners", tags=["enterprises"], route_class=StrictRoute)


@router.post(
    "/search", summary="Partners for a profile that is not registered", response_model=PartnerList
)
async def search_partners(
    active: ActiveDep, enterprises: EnterprisesDep, threads: SearchThreadsDep, query: PartnerQuery
) -> Response:
    """The same search as for a registered enterprise, for a company trying the service."""
    filters = convert.partner_filters(
        region=query.partner_region,
        ownership=query.ownership,
        size=query.size,
        min_score=query.min_score,
    )

    def answer() -> Response:
        found = service.search(
            enterprises,
            active,
            convert.partner_query(query),
            k=query.k,
            channel=query.channel,
            filters=filters,
        )
        return json_response(convert.partner_list(found))

    return await threads.run(answer)
