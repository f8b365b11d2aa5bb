"""POST /rounds: a matchmaking round's meetings and their time slots, as JSON or CSV.

Participants' profiles come from a `ParticipantSource` (the enterprise store's `participants`):
a callable taking a list of ids and the side they were listed under, returning each id's
profile, name and existing partners in order, and raising `NotFound` naming every unknown id.
It returns a profile whatever its side: this module checks each against its list (422).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.analysis import invalid_input
from app.dependencies import EnterprisesDep, ModelDep
from app.enterprises import Participant, ParticipantSource
from app.errors import InvalidInput, NotFound
from app.model import ModelState
from matching.enterprises import EnterpriseModel, build_population
from matching.rounds import RoundResult, propose_round
from schemas.common import ErrorBody, ErrorItem
from schemas.rounds import MeetingOut, RoundIn, RoundOut

__all__ = ["ParticipantsDep", "participant_source", "router"]

SIDES = ("northeast", "east")
#: Columns of the CSV schedule.
CSV_COLUMNS = ("slot", "northeast", "northeast_name", "east", "east_name", "score")


def participant_source(service: EnterprisesDep) -> ParticipantSource:
    """The enterprise store's participant lookup (tests override this dependency)."""
    return service.participants


ParticipantsDep = Annotated[ParticipantSource, Depends(participant_source)]

router = APIRouter(prefix="/rounds", tags=["rounds"])


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
        404: {"model": ErrorBody, "description": "An unknown participant id."},
        422: {"model": ErrorBody, "description": "An invalid or contradictory request."},
    },
)
def create_round(
    state: ModelDep,
    source: ParticipantsDep,
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
    participants = load_participants(state, source, body)
    result = run_round(state, participants, body)
    names = {p.enterprise.id: p.name for side in participants for p in side}
    if _wants_csv(request, output):
        return Response(
            content=round_csv(result, names),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="round.csv"'},
        )
    return round_out(state, result)


def load_participants(
    state: ModelState, source: ParticipantSource, body: RoundIn
) -> tuple[list[Participant], list[Participant]]:
    """Both sides' participants; 404 naming unknown ids, 422 for ids listed twice or misplaced."""
    errors = []
    seen: set[str] = set()
    for side, ids in zip(SIDES, (body.northeast, body.east), strict=True):
        for enterprise_id in ids:
            if enterprise_id in seen:
                error = f"{enterprise_id!r} is listed twice"
                errors.append(ErrorItem(field=f"body.{side}", error=error))
            seen.add(enterprise_id)
    _reject(errors)
    found: list[list[Participant]] = []
    missing: list[str] = []
    for side, ids in zip(SIDES, (body.northeast, body.east), strict=True):
        try:
            found.append(source(list(ids), side))
        except NotFound as exc:
            missing.append(exc.detail)
            found.append([])
    if missing:
        raise NotFound("; ".join(missing))
    for side, listed in zip(SIDES, found, strict=True):
        for participant in listed:
            region = participant.enterprise.region
            try:
                region_side, _ = state.network.locate(region)
            except KeyError:
                error = (
                    f"{participant.enterprise.id!r} is in {region!r}, a region the dataset lacks"
                )
            else:
                if region_side == side:
                    continue
                kind = "an eastern" if region_side == "east" else "a northeast"
                error = f"{participant.enterprise.id!r} is {kind} enterprise (in {region})"
            errors.append(ErrorItem(field=f"body.{side}", error=error))
    _reject(errors)
    return found[0], found[1]


def _reject(errors: list[ErrorItem]) -> None:
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.error}" for e in errors), errors=errors)


def run_round(
    state: ModelState, participants: tuple[list[Participant], list[Participant]], body: RoundIn
) -> RoundResult:
    """The engine's round on the participants' profiles, under the request's rules."""
    northeast, east = participants
    model = EnterpriseModel.build(state.network, state.components, state.weights())
    # Existing partners count whichever of the two lists the other.
    ne_ids = {p.enterprise.id for p in northeast}
    east_ids = {p.enterprise.id for p in east}
    existing = {(p.enterprise.id, q) for p in northeast for q in p.partners if q in east_ids}
    existing |= {(q, p.enterprise.id) for p in east for q in p.partners if q in ne_ids}
    with invalid_input():
        return propose_round(
            model,
            build_population([p.enterprise for p in northeast], state.network, "northeast"),
            build_population([p.enterprise for p in east], state.network, "east"),
            b=body.b,
            b_overrides=body.b_overrides,
            min_score=body.min_score,
            pinned=body.pinned,
            forbidden=body.forbidden,
            existing=sorted(existing),
            exclude_existing=body.exclude_existing,
            candidates=body.candidates,
        )


def round_out(state: ModelState, result: RoundResult) -> RoundOut:
    """The round as its response schema; slots count from 1."""
    return RoundOut(
        dataset_version=state.version,
        status="optimal",
        objective=result.objective,
        slots=result.slots,
        candidates=result.candidates,
        meetings=[
            MeetingOut(
                northeast=m.northeast, east=m.east, score=m.score, slot=m.slot + 1, pinned=m.pinned
            )
            for m in result.meetings
        ],
    )


def _cell(text: str) -> str:
    """A name as a CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def round_csv(result: RoundResult, names: dict[str, str]) -> str:
    """The schedule as CSV, one meeting a line in the order of the JSON; slots count from 1."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in result.meetings:
        writer.writerow(
            [
                m.slot + 1,
                m.northeast,
                _cell(names[m.northeast]),
                m.east,
                _cell(names[m.east]),
                repr(m.score),
            ]
        )
    return out.getvalue()
