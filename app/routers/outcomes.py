"""Outcomes of the pairs (recorded, imported) and the targets planners set for them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from app import convert
from app.busy import BUSY_RESPONSE
from app.dependencies import KeyDep, OutcomesDep, PlannerRoute, SettingsDep, StateDep
from app.enterprise_files import file_format, import_body
from app.outcome_files import OUTCOME_FORMAT
from app.parsing import StrictRoute
from app.routers.uploads import receive_file
from app.services import imports
from schemas.common import ErrorBody
from schemas.outcomes import (
    OutcomeImportReport,
    OutcomeIn,
    OutcomeList,
    OutcomeOut,
    TargetIn,
    TargetList,
    TargetOut,
)

router = APIRouter(tags=["outcomes"], route_class=StrictRoute)
planner_router = APIRouter(tags=["outcomes"], route_class=PlannerRoute)

OutcomeId = Annotated[int, Path(description="An outcome's id.", ge=1, le=2**62)]
TargetId = Annotated[int, Path(description="A target's id.", ge=1, le=2**62)]
RegionFilter = Annotated[str | None, Query(max_length=200)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No outcome (or target) with this id."}
}


@router.get("/outcomes", summary="Outcomes, oldest first, filtered, a page at a time")
def list_outcomes(
    outcomes: OutcomesDep,
    northeast: RegionFilter = None,
    east: RegionFilter = None,
    indicator: Annotated[str | None, Query(max_length=50)] = None,
    first: Annotated[date | None, Query(description="Dated on or after this day.")] = None,
    last: Annotated[date | None, Query(description="Dated on or before this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> OutcomeList:
    """Recorded and published outcomes, each with its date, source and channels."""
    page = outcomes.page(
        northeast=northeast,
        east=east,
        indicator=indicator,
        first=first,
        last=last,
        limit=limit,
        offset=offset,
    )
    return convert.outcome_list(page, limit=limit, offset=offset)


@router.get("/outcomes/{outcome_id}", summary="One outcome", responses=NOT_FOUND)
def get_outcome(outcomes: OutcomesDep, outcome_id: OutcomeId) -> OutcomeOut:
    """A stored outcome."""
    return convert.outcome_out(outcomes.get(outcome_id))


@planner_router.post(
    "/outcomes",
    status_code=status.HTTP_201_CREATED,
    summary="Record an outcome (planner)",
)
def create_outcome(
    _: KeyDep, state: StateDep, outcomes: OutcomesDep, body: OutcomeIn
) -> OutcomeOut:
    """Record what a pair produced; its regions and channels must be the dataset's."""
    return convert.outcome_out(outcomes.create(state, convert.outcome_in(body)))


@planner_router.put(
    "/outcomes/{outcome_id}",
    summary="Correct an outcome (planner)",
    responses=NOT_FOUND,
)
def replace_outcome(
    _: KeyDep, state: StateDep, outcomes: OutcomesDep, outcome_id: OutcomeId, body: OutcomeIn
) -> OutcomeOut:
    """Replace every field of a stored outcome."""
    return convert.outcome_out(outcomes.replace(state, outcome_id, convert.outcome_in(body)))


@planner_router.delete(
    "/outcomes/{outcome_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an outcome (planner)",
    responses=NOT_FOUND,
)
def delete_outcome(_: KeyDep, outcomes: OutcomesDep, outcome_id: OutcomeId) -> Response:
    """Delete it for good."""
    outcomes.delete(outcome_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@planner_router.post(
    "/outcomes/import",
    status_code=status.HTTP_201_CREATED,
    summary="Import outcomes from CSV or JSON Lines (planner), all or nothing",
    description=(
        "Every row is recorded as a new outcome, all or none. The file may be up to "
        "`COUNTERPART_MAX_BODY_BYTES` (16 MiB by default; 413 beyond, nothing written)."
    ),
    responses={
        413: {"model": ErrorBody, "description": "The file is over the body size limit."},
        503: BUSY_RESPONSE,
        422: {"model": ErrorBody, "description": "Bad rows: every one listed, nothing written."},
    },
    openapi_extra={"requestBody": import_body(OUTCOME_FORMAT, "outcome")},
)
async def import_outcomes(
    _: KeyDep,
    request: Request,
    state: StateDep,
    outcomes: OutcomesDep,
    settings: SettingsDep,
) -> OutcomeImportReport:
    """Every row is recorded as a new outcome; one bad row and nothing is.

    CSV columns: northeast, east, indicator, value, date, channels (``equipment;emerging``),
    source, and optionally note, northeast_enterprise, east_enterprise.
    """
    kind = file_format(request.headers.get("content-type"))
    with imports.workspace(settings.import_dir) as work:
        spool = work / f"upload.{kind}"
        await receive_file(request, spool, limit=settings.max_import_bytes)
        imported = await run_in_threadpool(
            outcomes.import_file,
            state,
            spool,
            kind,
            convert.outcome_from_row,
        )
    return convert.outcome_import_report(imported)


@router.get("/targets", summary="Targets per pair, year and indicator")
def list_targets(
    outcomes: OutcomesDep,
    northeast: RegionFilter = None,
    east: RegionFilter = None,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> TargetList:
    """The targets set, by year, pair and indicator."""
    return convert.target_list(outcomes.targets(northeast=northeast, east=east, year=year))


@planner_router.put(
    "/targets",
    summary="Set a target (planner)",
    responses={201: {"model": TargetOut, "description": "Created."}},
)
def set_target(
    _: KeyDep, state: StateDep, outcomes: OutcomesDep, body: TargetIn, response: Response
) -> TargetOut:
    """Set the target of a pair, year and indicator; an existing one is replaced (200)."""
    written = outcomes.set_target(state, convert.target_in(body))
    if written.created:
        response.status_code = status.HTTP_201_CREATED
    return convert.target_write(written)


@planner_router.delete(
    "/targets/{target_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a target (planner)",
    responses=NOT_FOUND,
)
def delete_target(_: KeyDep, outcomes: OutcomesDep, target_id: TargetId) -> Response:
    """Delete it for good."""
    outcomes.delete_target(target_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
