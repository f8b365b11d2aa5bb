"""The plan's evaluation: the effectiveness report (JSON, CSV, charts) and calibration."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app import convert
from app.dependencies import OutcomesDep, StateDep
from app.parsing import StrictRoute
from app.routers.params import WeightChanges, json_response
from app.services import evaluation as service
from schemas.evaluation import CalibrationOut, ReportOut

router = APIRouter(prefix="/evaluation", tags=["evaluation"], route_class=StrictRoute)

FirstYear = Annotated[int, Query(ge=1990, le=2100, description="First year of the range.")]
LastYear = Annotated[int, Query(ge=1990, le=2100, description="Last year of the range.")]
PairEnd = Annotated[
    str | None, Query(max_length=200, description="With the other end: one pair's report.")
]


@router.get(
    "/report",
    summary="The effectiveness report, for the plan or one pair, over a range of years",
    response_model=ReportOut,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The report as JSON, or as CSV (`?format=csv`).",
        },
    },
)
def evaluation_report(
    state: StateDep,
    outcomes: OutcomesDep,
    first_year: FirstYear = 2017,
    last_year: LastYear = 2026,
    northeast: PairEnd = None,
    east: PairEnd = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json",
) -> Response:
    """Totals, trends, targets, a league of pairs, inactive pairs and channel gaps.

    Totals and trend per indicator and channel, target attainment, the league table of pairs,
    pairs without activity and each northeast region's channels without an active partnership.
    """
    found = service.report(
        state,
        outcomes.book(),
        first_year=first_year,
        last_year=last_year,
        northeast=northeast,
        east=east,
    )
    if format == "csv":
        return Response(convert.report_csv(found), media_type="text/csv")
    return json_response(convert.report_out(state, found))


@router.get(
    "/charts/{chart}.{fmt}",
    summary="A chart of the report (SVG or PNG, rendered on the server)",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/svg+xml": {"schema": {"type": "string"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "The chart as SVG text or PNG bytes, as `fmt` says.",
        },
    },
)
def evaluation_chart(
    state: StateDep,
    outcomes: OutcomesDep,
    chart: Literal["trend", "channels", "league", "attainment"],
    fmt: Literal["svg", "png"],
    first_year: FirstYear = 2017,
    last_year: LastYear = 2026,
    northeast: PairEnd = None,
    east: PairEnd = None,
) -> Response:
    """One chart of the report.

    `trend` (yearly amounts per indicator), `channels` (each indicator's shares by channel),
    `league` (the pairs' activity index) or `attainment` (actual / target).
    """
    found = service.report(
        state,
        outcomes.book(),
        first_year=first_year,
        last_year=last_year,
        northeast=northeast,
        east=east,
    )
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(service.chart(found, chart, fmt), media_type=media)


@router.get("/calibration", summary="Do higher scores lead to more outcomes? Year by year")
def evaluation_calibration(
    state: StateDep,
    outcomes: OutcomesDep,
    changes: WeightChanges,
    first_year: FirstYear = 2017,
    last_year: LastYear = 2026,
) -> CalibrationOut:
    """Per year, how well the scores at its start ranked the pairs by their outcomes.

    Spearman's rank correlation of each link's score at the start of the year (only ties and
    outcomes dated before it: no look-ahead) and its outcomes during the year.
    """
    found = service.calibrate(
        state, outcomes.book(), changes, first_year=first_year, last_year=last_year
    )
    return convert.calibration_out(state, found)
