"""Matchmaking rounds: the participants' profiles from the store, the round from the engine.

Participants come from a `ParticipantSource`: a callable taking a list of ids and the side they
were listed under, returning each id's profile, name and existing partners in order, and raising
`InvalidInput` naming every unknown id. It returns a profile whatever its side: `load_participants`
checks each against its list (422).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from app.errors import InvalidInput, Problem, engine_errors
from app.services.datasets import DatasetState
from app.services.enterprise_index import enterprise_of
from app.services.enterprises import EnterpriseService
from app.services.work import WorkBudget, bounded
from app.storage import enterprises as store
from matching import (
    SIDES,
    Enterprise,
    EnterpriseModel,
    Population,
    RoundResult,
    build_population,
    propose_round,
)

__all__ = [
    "Participant",
    "ParticipantSource",
    "Round",
    "RoundRequest",
    "compute_round",
    "load_participants",
    "run_round",
    "stored_participants",
]


class Participant(NamedTuple):
    """An enterprise taking part in a round: its profile, name and existing partners' ids."""

    enterprise: Enterprise
    name: str
    partners: Sequence[str]


class ParticipantSource(Protocol):
    """Looks up participants: profiles of `ids` in order; `InvalidInput` naming every unknown id."""

    def __call__(self, ids: list[str], side: str) -> list[Participant]:
        """The participants with these ids, in order (`side`: the list they were given in)."""
        ...


def stored_participants(service: EnterpriseService) -> ParticipantSource:
    """The participant source of the enterprise store."""

    def lookup(ids: list[str], side: str) -> list[Participant]:
        with service.database.read() as session:
            rows = store.get_enterprises(session, ids)
        missing = [i for i in ids if i not in rows]
        if missing:
            shown = ", ".join(repr(i) for i in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            problem = Problem(f"body.{side}", f"no enterprise with id {shown}{more}")
            raise InvalidInput.listing([problem])
        return [
            Participant(enterprise_of(rows[i]), rows[i].name, tuple(rows[i].partners)) for i in ids
        ]

    return lookup


@dataclass(frozen=True)
class RoundRequest:
    """Who takes part in a round, and the rules its meetings follow (see `propose_round`)."""

    northeast: Sequence[str]
    east: Sequence[str]
    b: int = 3
    b_overrides: Mapping[str, int] = field(default_factory=dict)
    min_score: float = 0.0
    pinned: Sequence[tuple[str, str]] = ()
    forbidden: Sequence[tuple[str, str]] = ()
    exclude_existing: bool = False
    candidates: int = 20


@dataclass(frozen=True)
class Round:
    """A proposed round and the participants' names (for the schedule)."""

    result: RoundResult
    names: Mapping[str, str]


def _reject(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput.listing(problems)


def load_participants(
    state: DatasetState, source: ParticipantSource, request: RoundRequest
) -> tuple[list[Participant], list[Participant]]:
    """Both sides' participants; 422 naming ids unknown, listed twice or misplaced."""
    problems = []
    seen: set[str] = set()
    for side, ids in zip(SIDES, (request.northeast, request.east), strict=True):
        for enterprise_id in ids:
            if enterprise_id in seen:
                problems.append(Problem(f"body.{side}", f"{enterprise_id!r} is listed twice"))
            seen.add(enterprise_id)
    for name, pairs in (("pinned", request.pinned), ("forbidden", request.forbidden)):
        for pair, count in Counter(map(tuple, pairs)).items():
            if count > 1:
                problems.append(Problem(f"body.{name}", f"{list(pair)} is listed {count} times"))
    _reject(problems)
    found: list[list[Participant]] = []
    for side, ids in zip(SIDES, (request.northeast, request.east), strict=True):
        try:
            found.append(source(list(ids), side))
        except InvalidInput as exc:
            # Unknown ids in a body are an invalid request (404 is for a path); both sides named.
            problems += exc.errors or [Problem(f"body.{side}", exc.detail)]
            found.append([])
    _reject(problems)
    network = state.network
    for side, listed in zip(SIDES, found, strict=True):
        for participant in listed:
            region = participant.enterprise.region
            ident = participant.enterprise.id
            if region in network.side(side).index:
                continue
            if region in network.side("east" if side == "northeast" else "northeast").index:
                kind = "a northeast" if side == "east" else "an eastern"
                error = f"{ident!r} is {kind} enterprise (in {region})"
            else:
                error = f"{ident!r} is in {region!r}, a region the dataset lacks"
            problems.append(Problem(f"body.{side}", error))
    _reject(problems)
    return found[0], found[1]


#: Rounds with at most this many candidate edges (candidates x participants) run in the worker;
#: larger ones in a process of their own, within the work budget (`app.services.work`).
INLINE_EDGES = 20_000


def run_round(
    state: DatasetState, source: ParticipantSource, request: RoundRequest, budget: WorkBudget
) -> Round:
    """The engine's round on the participants' profiles, under the request's rules."""
    northeast, east = load_participants(state, source, request)
    # Existing partners count whichever of the two lists the other.
    ne_ids = {p.enterprise.id for p in northeast}
    east_ids = {p.enterprise.id for p in east}
    existing = {(p.enterprise.id, q) for p in northeast for q in p.partners if q in east_ids}
    existing |= {(q, p.enterprise.id) for p in east for q in p.partners if q in ne_ids}
    with engine_errors():
        populations = (
            build_population([p.enterprise for p in northeast], state.network, "northeast"),
            build_population([p.enterprise for p in east], state.network, "east"),
        )
    # The populations are arrays: they reach another process cheaply, unlike the profiles.
    arguments = (state.enterprise_model, *populations, request, sorted(existing))
    if request.candidates * (len(northeast) + len(east)) <= INLINE_EDGES:
        result = compute_round(*arguments)
    else:
        result = bounded(budget, compute_round, *arguments)
    names = {p.enterprise.id: p.name for side in (northeast, east) for p in side}
    return Round(result=result, names=names)


def compute_round(
    model: EnterpriseModel,
    northeast: Population,
    east: Population,
    request: RoundRequest,
    existing: list[tuple[str, str]],
) -> RoundResult:
    """The round itself: candidates, the flow and the slots."""
    with engine_errors():
        return propose_round(
            model,
            northeast,
            east,
            b=request.b,
            b_overrides=request.b_overrides,
            min_score=request.min_score,
            pinned=request.pinned,
            forbidden=request.forbidden,
            existing=existing,
            exclude_existing=request.exclude_existing,
            candidates=request.candidates,
        )
