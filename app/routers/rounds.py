"""POST /rounds: a matchmaking round's meetings and their time slots, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app import convert
from app.dependencies import BudgetDep, ParticipantsDep, StateDep
from app.parsing import StrictRoute
from app.services import rounds as service
from schemas.common import ErrorBody
from schemas.rounds import RoundIn, RoundOut

router = APIRouter(prefix="/rounds", tags=["rounds"], route_class=StrictRoute)


def _wants_csv(request: Request, output: str | None) -> bool:
    if output is not None:
        return output == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == "text/csv" for part in accept.split(","))


@router.post(
    "",
    summary="Propose a matchmaking round: meetings with the largest total score, in time slots",
    response_model=RoundOut,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The round as JSON, or its schedule as CSV (`?format=csv`).",
        },
        422: {"model": ErrorBody, "description": "An invalid or contradictory request."},
    },
)
def create_round(
    state: StateDep,
    source: ParticipantsDep,
    budget: BudgetDep,
    body: RoundIn,
    request: Request,
    output: Annotated[
        Literal["json", "csv"] | None,
        Query(
            alias="format",
            description="`csv` for the schedule as CSV; by default the `Accept` header decides.",
        ),
    ] = None,
) -> RoundOut | Response:
    """The meetings with the largest total score, in as few time slots as possible.

    Each enterprise meets at most `b` partners, every meeting scores at least `min_score`, pinned
    pairs meet, forbidden pairs and (if asked) existing partners do not, and the total score is the
    largest possible over each participant's `candidates` best partners, both ways. Meetings then
    get time slots, as many as the busiest enterprise has meetings, no enterprise twice in a slot.

    Computing a round writes nothing, so it needs no key. The CSV schedule has the columns
    `slot,northeast,northeast_name,east,east_name,score`, in the order of the JSON meetings.
    """
    found = service.run_round(state, source, convert.round_request(body), budget)
    if _wants_csv(request, output):
        return Response(
            content=convert.round_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="round.csv"'},
        )
    # Encoded here, in the threadpool and in chunks: a round of tens of thousands of meetings
    # rendered by the framework would hold the event loop (and every other request) meanwhile.
    return Response(convert.round_json(state, found), media_type="application/json")
