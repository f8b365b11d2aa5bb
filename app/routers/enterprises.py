"""Enterprises: profiles, partner search and bulk import."""

from __future__ import annotations

import pathlib
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from app.dependencies import AdminDep, AdminRoute, EnterprisesDep, ModelDep, SettingsDep
from app.enterprises import PartnerFilters, import_format
from schemas.common import ErrorBody
from schemas.enterprises import (
    EnterpriseId,
    EnterpriseIn,
    EnterpriseList,
    EnterpriseOut,
    EnterprisePatch,
    ImportReport,
    Ownership,
    PartnerList,
    PartnerQuery,
    SizeBand,
)

router = APIRouter(prefix="/enterprises", tags=["enterprises"])
admin_router = APIRouter(prefix="/enterprises", tags=["enterprises"], route_class=AdminRoute)
search_router = APIRouter(prefix="/partners", tags=["enterprises"])

IdPath = Annotated[str, Path(description="An enterprise id.", max_length=64)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No enterprise with this id."}
}
WRITE: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No valid API key."}
}
ChannelParam = Annotated[
    str | None, Query(max_length=100, description="Rank on this channel only.")
]
RegionParam = Annotated[
    str | None, Query(max_length=100, description="Only partners in this region.")
]
MinScore = Annotated[float | None, Query(ge=0, allow_inf_nan=False)]


@router.get("", summary="Enterprises, in id order, filtered, a page at a time")
def list_enterprises(
    state: ModelDep,
    service: EnterprisesDep,
    region: Annotated[str | None, Query(max_length=100)] = None,
    side: Annotated[str | None, Query(pattern="^(northeast|east)$")] = None,
    sector: Annotated[
        str | None, Query(max_length=100, description="Offering or seeking this sector.")
    ] = None,
    ownership: Ownership | None = None,
    size: SizeBand | None = None,
    cursor: Annotated[
        str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> EnterpriseList:
    """A page of enterprises; follow `next_cursor` for the next one."""
    return service.list_page(
        state,
        cursor=cursor,
        limit=limit,
        region=region,
        side=side,
        sector=sector,
        ownership=ownership,
        size=size,
    )


@router.get("/{enterprise_id}", summary="One enterprise", responses=NOT_FOUND)
def get_enterprise(service: EnterprisesDep, enterprise_id: IdPath) -> EnterpriseOut:
    """A stored enterprise profile."""
    return service.get(enterprise_id)


@router.get(
    "/{enterprise_id}/partners",
    summary="The best partners of an enterprise on the other side",
    responses=NOT_FOUND,
    response_model=PartnerList,
)
def partners(
    state: ModelDep,
    service: EnterprisesDep,
    enterprise_id: IdPath,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    channel: ChannelParam = None,
    region: RegionParam = None,
    ownership: Ownership | None = None,
    size: SizeBand | None = None,
    min_score: MinScore = None,
) -> Response:
    """Exact top-k by the reciprocal score (the same as scoring every candidate), explained."""
    filters = PartnerFilters(
        k=k, channel=channel, region=region, ownership=ownership, size=size, min_score=min_score
    )
    return _json(service.partners_of(state, enterprise_id, filters))


@search_router.post(
    "/search", summary="Partners for a profile that is not registered", response_model=PartnerList
)
def search(state: ModelDep, service: EnterprisesDep, query: PartnerQuery) -> Response:
    """The same search as for a registered enterprise, for a company trying the service."""
    return _json(service.search(state, query))


def _json(result: PartnerList) -> Response:
    # The busiest endpoints: the result is built from the schema already, so it is serialised
    # once, by pydantic, instead of being validated again on the way out.
    return Response(result.model_dump_json(), media_type="application/json")


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an enterprise (admin)",
    responses={**WRITE, 409: {"model": ErrorBody, "description": "The id is taken."}},
)
def create(
    _: AdminDep, state: ModelDep, service: EnterprisesDep, body: EnterpriseIn
) -> EnterpriseOut:
    """Store a new enterprise; without an id, the server makes one."""
    return service.create(state, body)


@admin_router.put(
    "/{enterprise_id}",
    summary="Create or replace an enterprise (admin)",
    responses={**WRITE, 201: {"model": EnterpriseOut, "description": "Created."}},
)
def replace(
    _: AdminDep,
    state: ModelDep,
    service: EnterprisesDep,
    enterprise_id: Annotated[EnterpriseId, Path()],
    body: EnterpriseIn,
    response: Response,
) -> EnterpriseOut:
    """Replace the whole profile (201 if it did not exist)."""
    out, created = service.replace(state, enterprise_id, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return out


@admin_router.patch(
    "/{enterprise_id}", summary="Change some fields (admin)", responses={**WRITE, **NOT_FOUND}
)
def patch(
    _: AdminDep,
    state: ModelDep,
    service: EnterprisesDep,
    enterprise_id: IdPath,
    body: EnterprisePatch,
) -> EnterpriseOut:
    """Only the fields given change; `offers` and `seeks` are replaced whole."""
    return service.patch(state, enterprise_id, body)


@admin_router.delete(
    "/{enterprise_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an enterprise (admin)",
    responses={**WRITE, **NOT_FOUND},
)
def delete(_: AdminDep, service: EnterprisesDep, enterprise_id: IdPath) -> Response:
    """Delete it for good."""
    service.delete(enterprise_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.post(
    "/import",
    summary="Import enterprises from CSV or JSON Lines (admin), all or nothing",
    responses={
        **WRITE,
        422: {"model": ErrorBody, "description": "Bad rows: every one listed, nothing written."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_enterprises(
    _: AdminDep,
    request: Request,
    state: ModelDep,
    service: EnterprisesDep,
    settings: SettingsDep,
) -> ImportReport:
    """Rows are upserted by id. The body is streamed to a temporary file, never held whole."""
    kind = import_format(request.headers.get("content-type"))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=settings.data_dir, suffix=f".{kind}") as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.flush()
        return await run_in_threadpool(service.import_file, state, pathlib.Path(spool.name), kind)
