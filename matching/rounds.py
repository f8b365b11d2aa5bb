"""Matchmaking rounds: who meets whom, and in which time slot.

A round takes northeast and eastern participants (enterprises) and proposes meetings: each
enterprise meets at most ``b`` partners, every meeting scores at least ``min_score``, pinned pairs
are in, forbidden pairs and (on request) existing partners are out, and the total score is maximal
over the candidate graph. It is solved in three steps, one module each:

1. **Candidates** (`matching.candidates.candidate_pairs`): every participant's k best partners on
   the other side by the enterprise score of `matching.enterprises`, both ways, exactly.
2. **Meetings** (`propose_round`, here): a maximum-weight bipartite b-matching on the candidate
   edges, solved exactly as a min-cost flow (`matching._flow.solve_edges`, LEMON); pins take
   their capacity first.
3. **Slots** (`matching.slots.assign_slots`): an edge colouring with as many colours as the
   busiest enterprise has meetings (König).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching._flow import solve_edges
from matching._types import IntArray
from matching._validate import check_count, check_number
from matching.candidates import candidate_pairs, check_population, pair_scores
from matching.enterprises import EnterpriseModel, Population
from matching.errors import InfeasiblePlanError
from matching.slots import assign_slots

__all__ = ["Meeting", "RoundResult", "propose_round"]

#: A pair as given, (northeast id, east id), with its row and column (None: not a participant).
_NamedPair = tuple[str, str, int | None, int | None]


@dataclass(frozen=True, slots=True)
class Meeting:
    """A proposed meeting: the enterprises' ids, its score, its slot (from 0) and if pinned."""

    # Slots: a round makes tens of thousands of meetings, and an object without a dict of its own
    # is built in half the allocations, which with a large heap also means fewer garbage
    # collections (~40 ms instead of 60-220 ms for 25,000 meetings, load 2-3).

    northeast: str
    east: str
    score: float
    slot: int
    pinned: bool = False


@dataclass(frozen=True)
class RoundResult:
    """A proposed round.

    Attributes
    ----------
    status : str
        ``"optimal"``: no set of candidate meetings under the constraints scores more.
    objective : float
        Total score of the meetings.
    meetings : tuple of Meeting
        By slot, then northeast id, then east id.
    slots : int
        Time slots used: the most meetings of any one enterprise.
    candidates : int
        Pairs the meetings were chosen from: candidates that pass the threshold and the
        constraints, plus the pins.
    message : str
        A one-line summary.
    """

    status: str
    objective: float
    meetings: tuple[Meeting, ...]
    slots: int
    candidates: int
    message: str = ""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled column by column: a round of tens of thousands of meetings crosses a process
        # boundary as a few arrays, not as one object per meeting.
        columns = (
            [m.northeast for m in self.meetings],
            [m.east for m in self.meetings],
            np.array([m.score for m in self.meetings], dtype=np.float64),
            np.array([m.slot for m in self.meetings], dtype=np.int64),
            np.array([m.pinned for m in self.meetings], dtype=bool),
        )
        fields = (self.status, self.objective, self.slots, self.candidates, self.message)
        return _round_result, (fields, columns)


def _round_result(fields: tuple[Any, ...], columns: tuple[Any, ...]) -> RoundResult:
    status, objective, slots, candidates, message = fields
    northeast, east, scores, slot, pinned = columns
    meetings = tuple(
        Meeting(a, b, score, s, p)
        for a, b, score, s, p in zip(
            northeast, east, scores.tolist(), slot.tolist(), pinned.tolist(), strict=True
        )
    )
    return RoundResult(status, objective, meetings, slots, candidates, message)


def _pair_rows(
    name: str, pairs: Iterable[Any], northeast: Population, east: Population
) -> list[_NamedPair]:
    """Each (northeast id, east id) pair with its row and column (None if not a participant)."""
    out = []
    for pair in pairs:
        if (
            isinstance(pair, str | bytes)
            or len(pair) != 2
            or not all(isinstance(x, str) for x in pair)
        ):
            raise ValueError(f"`{name}`: each pair is (northeast id, east id), got {pair!r}")
        ne_id, east_id = pair
        out.append((ne_id, east_id, northeast.row_of(ne_id), east.row_of(east_id)))
    return list(dict.fromkeys(out))


def _not_participant(pair: _NamedPair, northeast: Population, east: Population) -> str:
    ne_id, east_id, i, j = pair
    problems = []
    if i is None:
        where = " (it is an eastern one)" if east.row_of(ne_id) is not None else ""
        problems.append(f"{ne_id!r} is not a northeast participant{where}")
    if j is None:
        where = " (it is a northeast one)" if northeast.row_of(east_id) is not None else ""
        problems.append(f"{east_id!r} is not an eastern participant{where}")
    return f"pair ({ne_id}, {east_id}): " + " and ".join(problems)


def _pin_conflicts(
    pins: list[_NamedPair],
    banned: set[tuple[int, int]],
    existing: set[tuple[int, int]],
    exclude_existing: bool,
    capacity: tuple[IntArray, IntArray],
    northeast: Population,
    east: Population,
) -> list[str]:
    conflicts = []
    for pin in pins:
        ne_id, east_id, i, j = pin
        if i is None or j is None:
            conflicts.append("pinned " + _not_participant(pin, northeast, east))
        elif (i, j) in banned:
            conflicts.append(f"pair ({ne_id}, {east_id}) is both pinned and forbidden")
        elif exclude_existing and (i, j) in existing:
            conflicts.append(
                f"pinned pair ({ne_id}, {east_id}) are existing partners, which are excluded"
            )
    placed = [(i, j) for _, _, i, j in pins if i is not None and j is not None]
    for axis, population in enumerate((northeast, east)):
        cap = capacity[axis]
        counts = np.bincount([p[axis] for p in placed], minlength=len(cap))
        for row in np.flatnonzero(counts > cap).tolist():
            conflicts.append(
                f"{population.ids[row].decode()} has {counts[row]} pinned meetings, more than its "
                f"limit of {cap[row]}"
            )
    return conflicts


def _capacities(
    b: int, overrides: Mapping[str, int] | None, northeast: Population, east: Population
) -> tuple[IntArray, IntArray]:
    """Most meetings of each row and column: `b`, or an enterprise's override."""
    cap_rows = np.full(len(northeast), b, dtype=np.int64)
    cap_cols = np.full(len(east), b, dtype=np.int64)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ValueError(f"`b_overrides` must map ids to integers, got {overrides!r}")
    for enterprise_id, value in (overrides or {}).items():
        count = check_count(f"b_overrides[{enterprise_id!r}]", value, minimum=0)
        i, j = northeast.row_of(enterprise_id), east.row_of(enterprise_id)
        if i is None and j is None:
            raise ValueError(f"`b_overrides`: {enterprise_id!r} is not a participant")
        if i is not None:
            cap_rows[i] = count
        if j is not None:
            cap_cols[j] = count
    return cap_rows, cap_cols


def propose_round(
    model: EnterpriseModel,
    northeast: Population,
    east: Population,
    *,
    b: int = 3,
    b_overrides: Mapping[str, int] | None = None,
    min_score: float = 0.0,
    pinned: Iterable[tuple[str, str]] = (),
    forbidden: Iterable[tuple[str, str]] = (),
    existing: Iterable[tuple[str, str]] = (),
    exclude_existing: bool = False,
    candidates: int = 20,
) -> RoundResult:
    """Propose a round of meetings with the largest total score, and give them time slots.

    Parameters
    ----------
    model : EnterpriseModel
        Sector weights and the region term.
    northeast, east : Population
        The participants of each side.
    b : int
        Most meetings per enterprise.
    b_overrides : mapping of id to int, optional
        Per-enterprise values of `b`.
    min_score : float
        Every meeting chosen scores at least this. Pins are in whatever their score: the
        organiser's explicit choice wins over the threshold.
    pinned, forbidden : iterable of (northeast id, east id)
        Pairs that must, and must not, meet.
    existing : iterable of (northeast id, east id)
        Pairs that already cooperate; pairs naming a non-participant are ignored.
    exclude_existing : bool
        Leave existing partners out of the round.
    candidates : int
        Each participant's best partners considered (`candidate_pairs`'s k); the optimum is
        over the union of these pairs and the pins.

    Returns
    -------
    RoundResult

    Raises
    ------
    ValueError
        For an option of the wrong type or range, a forbidden pair or override naming a
        non-participant, or a population of the wrong side.
    InfeasiblePlanError
        When pins contradict the rest, naming each conflict: a pin that is forbidden, between
        existing partners that are excluded, beyond an enterprise's `b`, or naming a
        non-participant.

    Examples
    --------
    >>> from matching import load_dataset, network_from_dataset, score_components, Weights
    >>> from matching.enterprises import Enterprise, EnterpriseModel, build_population
    >>> net = network_from_dataset(load_dataset())
    >>> model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    >>> grain = [Enterprise("a", "harbin", {"grain": 1.0}, {}), Enterprise("b", "dalian", {}, {})]
    >>> buyers = [Enterprise("x", "shanghai", {}, {"grain": 0.9})]
    >>> ne = build_population(grain, net, "northeast")
    >>> east = build_population(buyers, net, "east")
    >>> result = propose_round(model, ne, east, b=1)
    >>> [(m.northeast, m.east, m.slot) for m in result.meetings], result.slots
    ([('a', 'x', 0)], 1)
    >>> propose_round(model, ne, east, b=1, pinned=[("a", "x"), ("b", "x")])
    Traceback (most recent call last):
    ...
    matching.errors.InfeasiblePlanError: x has 2 pinned meetings, more than its limit of 1
    """
    b = check_count("b", b, minimum=0)
    candidates = check_count("candidates", candidates, minimum=1)
    min_score = check_number("min_score", min_score)
    check_population(model, northeast, "northeast")
    check_population(model, east, "east")
    n, m = len(northeast), len(east)
    cap_rows, cap_cols = _capacities(b, b_overrides, northeast, east)
    bans = _pair_rows("forbidden", forbidden, northeast, east)
    for ban in bans:
        if ban[2] is None or ban[3] is None:
            raise ValueError("`forbidden`: " + _not_participant(ban, northeast, east))
    banned = {(i, j) for _, _, i, j in bans if i is not None and j is not None}
    ties = {
        (i, j)
        for _, _, i, j in _pair_rows("existing", existing, northeast, east)
        if i is not None and j is not None
    }
    pins = _pair_rows("pinned", pinned, northeast, east)
    conflicts = _pin_conflicts(
        pins, banned, ties, exclude_existing, (cap_rows, cap_cols), northeast, east
    )
    if conflicts:
        raise InfeasiblePlanError(conflicts)
    pin_rows = np.array([i for _, _, i, _ in pins], dtype=np.int64)
    pin_cols = np.array([j for _, _, _, j in pins], dtype=np.int64)

    rows, cols, scores = candidate_pairs(model, northeast, east, k=candidates)
    left_out = set(banned) | set(zip(pin_rows.tolist(), pin_cols.tolist(), strict=True))
    if exclude_existing:
        left_out |= ties
    eligible = scores >= min_score
    if left_out:
        drop = np.array([i * m + j for i, j in left_out], dtype=np.int64)
        eligible &= ~np.isin(rows * m + cols, drop)
    # Most rounds leave every candidate in: then three copies of 370,000 entries are saved.
    if not eligible.all():
        rows, cols, scores = rows[eligible], cols[eligible], scores[eligible]
    free_rows = cap_rows - np.bincount(pin_rows, minlength=n)
    free_cols = cap_cols - np.bincount(pin_cols, minlength=m)
    chosen, _ = solve_edges(rows, cols, scores, free_rows, free_cols)

    pin_scores = pair_scores(model, northeast, east, pin_rows, pin_cols)
    meet_rows = np.concatenate([rows[chosen], pin_rows])
    meet_cols = np.concatenate([cols[chosen], pin_cols])
    meet_scores = np.concatenate([scores[chosen], pin_scores])
    is_pin = np.arange(len(meet_rows)) >= int(chosen.sum())
    slots = assign_slots(meet_rows, meet_cols)
    order = np.lexsort((meet_cols, meet_rows, slots))
    # Column by column, then one Meeting per row: indexing arrays element by element would cost
    # as much as the round's solve on tens of thousands of meetings.
    meetings = tuple(
        map(
            Meeting,
            [i.decode() for i in northeast.ids[meet_rows[order]].tolist()],
            [i.decode() for i in east.ids[meet_cols[order]].tolist()],
            meet_scores[order].tolist(),
            slots[order].tolist(),
            is_pin[order].tolist(),
        )
    )
    n_slots = int(slots.max(initial=-1)) + 1
    considered = len(rows) + len(pins)
    return RoundResult(
        status="optimal",
        objective=math.fsum(meet_scores.tolist()),
        meetings=meetings,
        slots=n_slots,
        candidates=considered,
        message=(
            f"{len(meetings)} meetings in {n_slots} slots, the best total over {considered} "
            "candidate pairs"
        ),
    )
