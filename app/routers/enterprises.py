"""Enterprises: profiles, the best partners of one, and bulk import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from app import convert
from app.busy import BUSY_RESPONSE
from app.dependencies import (
    OPTIONAL_KEY,
    ActiveDep,
    AdminRoute,
    DatabaseDep,
    EnterpriseRoute,
    EnterprisesDep,
    KeyDep,
    SearchThreadsDep,
    SettingsDep,
    StateDep,
    ViewerDep,
    authorise_enterprise,
)
from app.enterprise_files import ENTERPRISE_FORMAT, file_format, import_body
from app.parsing import StrictRoute
from app.routers.params import ChannelParam, MinScoreParam, PartnerRegionParam, json_response
from app.routers.uploads import receive_file
from app.services import imports
from app.services import partners as partner_search
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
    SizeBand,
)

router = APIRouter(prefix="/enterprises", tags=["enterprises"], route_class=StrictRoute)
#: Profile writes: admins, and enterprise keys for the enterprises they are bound to.
owner_router = APIRouter(prefix="/enterprises", tags=["enterprises"], route_class=EnterpriseRoute)
admin_router = APIRouter(prefix="/enterprises", tags=["enterprises"], route_class=AdminRoute)

IdPath = Annotated[str, Path(description="An enterprise id.", max_length=64)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No enterprise with this id."}
}


@router.get(
    "", summary="Enterprises, in id order, filtered, a page at a time", openapi_extra=OPTIONAL_KEY
)
def list_enterprises(
    state: StateDep,
    service: EnterprisesDep,
    viewer: ViewerDep,
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
    """A page of enterprises; follow `next_cursor` for the next one.

    Contacts are shown to admin and planner keys, and to an enterprise key for its own.
    """
    page = service.list_page(
        state,
        cursor=cursor,
        limit=limit,
        region=region,
        side=side,
        sector=sector,
        ownership=ownership,
        size=size,
    )
    shown = {e.id for e in page.items if viewer is not None and viewer.sees_contact(e.id)}
    return convert.enterprise_list(page.items, page.next_cursor, private=shown)


@router.get(
    "/{enterprise_id}", summary="One enterprise", responses=NOT_FOUND, openapi_extra=OPTIONAL_KEY
)
def get_enterprise(
    service: EnterprisesDep, viewer: ViewerDep, enterprise_id: IdPath
) -> EnterpriseOut:
    """A stored enterprise profile; its `contact` only to an admin or planner key or its own."""
    private = viewer is not None and viewer.sees_contact(enterprise_id)
    return convert.enterprise_out(service.get(enterprise_id), private=private)


@router.get(
    "/{enterprise_id}/partners",
    summary="The best partners of an enterprise on the other side",
    responses=NOT_FOUND,
    response_model=PartnerList,
)
async def enterprise_partners(
    active: ActiveDep,
    service: EnterprisesDep,
    threads: SearchThreadsDep,
    enterprise_id: IdPath,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    channel: ChannelParam = None,
    region: PartnerRegionParam = None,
    ownership: Ownership | None = None,
    size: SizeBand | None = None,
    min_score: MinScoreParam = None,
) -> Response:
    """Exact top-k by the reciprocal score (the same as scoring every candidate), explained."""
    filters = convert.partner_filters(
        region=region, ownership=ownership, size=size, min_score=min_score
    )

    def answer() -> Response:
        found = partner_search.partners_of(
            service, active, enterprise_id, k=k, channel=channel, filters=filters
        )
        return json_response(convert.partner_list(found))

    # One hop to a search thread for the whole answer, the active dataset's lookup included.
    return await threads.run(answer)


@owner_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an enterprise (admin, or its enterprise key)",
    responses={409: {"model": ErrorBody, "description": "The id is taken."}},
)
def create_enterprise(
    key: KeyDep, state: StateDep, service: EnterprisesDep, body: EnterpriseIn
) -> EnterpriseOut:
    """Store a new enterprise; without an id (admin keys only), the server makes one."""
    authorise_enterprise(key, body.id)
    return convert.enterprise_out(service.create(state, convert.enterprise_profile(body)))


@owner_router.put(
    "/{enterprise_id}",
    summary="Create or replace an enterprise (admin, or its enterprise key)",
    responses={201: {"model": EnterpriseOut, "description": "Created."}},
)
def replace_enterprise(
    _: KeyDep,
    state: StateDep,
    service: EnterprisesDep,
    enterprise_id: Annotated[EnterpriseId, Path()],
    body: EnterpriseIn,
    response: Response,
) -> EnterpriseOut:
    """Replace the whole profile (201 if it did not exist)."""
    stored, created = service.replace(state, enterprise_id, convert.enterprise_profile(body))
    if created:
        response.status_code = status.HTTP_201_CREATED
    return convert.enterprise_out(stored)


@owner_router.patch(
    "/{enterprise_id}",
    summary="Change some fields (admin, or its enterprise key)",
    responses=NOT_FOUND,
)
def patch_enterprise(
    _: KeyDep,
    state: StateDep,
    service: EnterprisesDep,
    enterprise_id: IdPath,
    body: EnterprisePatch,
) -> EnterpriseOut:
    """Only the fields given change; `offers` and `seeks` are replaced whole."""
    return convert.enterprise_out(service.update(state, enterprise_id, convert.patched(body)))


@owner_router.delete(
    "/{enterprise_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an enterprise (admin, or its enterprise key)",
    responses=NOT_FOUND,
)
def delete_enterprise(_: KeyDep, service: EnterprisesDep, enterprise_id: IdPath) -> Response:
    """Delete it for good."""
    service.delete(enterprise_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.post(
    "/import",
    summary="Import enterprises from CSV or JSON Lines (admin), all or nothing",
    description=(
        "Rows are upserted by id, all or none. The file may be up to "
        "`COUNTERPART_MAX_IMPORT_BYTES` (256 MiB by default): a larger one is refused with 413 "
        "naming the limit, and nothing is written. The whole file is read and checked before "
        "the database's write lock is taken, so other writes wait only for the short write "
        "phase; one that still finds the database busy gets 503 with `Retry-After`."
    ),
    responses={
        413: {"model": ErrorBody, "description": "The file is over the import size limit."},
        503: BUSY_RESPONSE,
        422: {"model": ErrorBody, "description": "Bad rows: every one listed, nothing written."},
    },
    openapi_extra={"requestBody": import_body(ENTERPRISE_FORMAT, "enterprise")},
)
async def import_enterprises(
    _: KeyDep,
    request: Request,
    state: StateDep,
    database: DatabaseDep,
    settings: SettingsDep,
    service: EnterprisesDep,
) -> ImportReport:
    """Rows are upserted by id. The body is streamed to a file, never held whole."""
    kind = file_format(request.headers.get("content-type"))
    with imports.workspace(settings.import_dir) as work:
        spool = work / f"upload.{kind}"
        await receive_file(request, spool, limit=settings.max_import_bytes)
        report = await run_in_threadpool(
            imports.import_file,
            database,
            state,
            spool,
            kind,
            convert.profile_from_row,
            work_dir=work,
        )
    if report.imported:
        # This worker's index catches up before the answer, so that the importer's next query
        # finds what it imported; other workers rebuild in the background.
        await run_in_threadpool(service.keeper.refresh, state)
    return convert.import_report(report)
