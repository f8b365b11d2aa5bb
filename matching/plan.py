"""Whole plans: the best set of additional, non-exclusive partnerships under constraints.

A plan chooses pairs (i, j) that maximise the total score, subject to

* a capacity per region: region r is in at most ``capacity[r]`` chosen pairs;
* a minimum score: a pair qualifies when its score is at least the threshold;
* pinned pairs, which must be chosen, and forbidden pairs, which must not;
* an `allowed` mask (the caller leaves out existing ties, and cross-level pairs if asked).

It is a maximum-weight bipartite b-matching, solved exactly as a min-cost flow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike

from matching._flow import WarmStart, solve_dense
from matching._types import BoolArray, FloatArray, IntArray, Pair
from matching._validate import check_count, check_number
from matching.coverage import CoverageRules, covered_channels, solve_covered
from matching.errors import InfeasiblePlanError
from matching.network import Network
from matching.scoring import ComponentScores, Weights

__all__ = [
    "PlanRequest",
    "PlanResult",
    "PlanSettings",
    "PlannedPair",
    "plan_network",
    "plan_request",
    "reduce_pins",
    "solve_plan",
]


@dataclass(frozen=True)
class PlannedPair:
    """A pair of the plan (row and column indices), its score and whether it was pinned."""

    northeast: int
    east: int
    score: float
    pinned: bool = False


@dataclass(frozen=True)
class PlanResult:
    """An optimal plan: its pairs (best first), the objective (their total score) and status."""

    status: str
    objective: float
    pairs: tuple[PlannedPair, ...]
    threshold: float
    message: str = ""
    #: Candidates and potentials of the solve, to warm-start a solve of a similar plan.
    warm_start: WarmStart | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PlanSettings:
    """A plan request in region ids.

    `min_score` is relative to the weights: a pair qualifies when its score is at least
    ``min_score * weights.total``. With the default weights (which sum to 1) it is on the scale of
    the scores themselves, and scaling every weight by the same factor changes no plan.
    `coverage` holds the coverage rules (`matching.coverage`); with `min_channels` or
    `per_docking` the plan is solved as a MILP, otherwise as a min-cost flow.
    """

    capacity: int = 2
    capacities: Mapping[str, int] = field(default_factory=dict)
    min_score: float = 0.0
    pinned: tuple[tuple[str, str], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    same_level: bool = False
    coverage: CoverageRules = field(default_factory=CoverageRules)


def _capacities(
    capacity: int | tuple[ArrayLike, ArrayLike], shape: tuple[int, int]
) -> tuple[IntArray, IntArray]:
    n, m = shape
    if isinstance(capacity, tuple):
        rows, cols = (np.asarray(c) for c in capacity)
        if rows.shape != (n,) or cols.shape != (m,):
            raise ValueError(
                f"`capacity` must be an integer or a pair of arrays of shapes ({n},) and ({m},)"
            )
    else:
        capacity = check_count("capacity", capacity)
        rows, cols = np.full(n, capacity), np.full(m, capacity)
    for values in (rows, cols):
        if values.dtype.kind not in "iu" or (values < 0).any():
            raise ValueError(f"`capacity` must be a non-negative integer, got {values.tolist()}")
    return rows.astype(np.int64), cols.astype(np.int64)


def _pairs(name: str, pairs: Iterable[Pair], shape: tuple[int, int]) -> list[Pair]:
    out: list[Pair] = []
    for pair in pairs:
        i, j = (int(x) for x in pair)
        if not (0 <= i < shape[0] and 0 <= j < shape[1]):
            raise ValueError(f"`{name}` pair {pair!r} is outside a {shape[0]}x{shape[1]} matrix")
        out.append((i, j))
    return list(dict.fromkeys(out))


def solve_plan(
    scores: ArrayLike,
    *,
    capacity: int | tuple[ArrayLike, ArrayLike] = 2,
    min_score: float = 0.0,
    pinned: Iterable[Pair] = (),
    forbidden: Iterable[Pair] = (),
    allowed: ArrayLike | None = None,
    names: tuple[Sequence[str], Sequence[str]] | None = None,
    warm: WarmStart | None = None,
) -> PlanResult:
    """Choose the pairs that maximise the total score under capacities and constraints.

    Parameters
    ----------
    scores : array_like, shape (n, m)
        Score of every (northeast, east) pair; pairs with a score <= 0 are never chosen.
    capacity : int or (array_like, array_like)
        The most pairs a region may be in: one number for all, or one per row and one per column.
    min_score : float
        Absolute threshold: a pair below it is not chosen.
    pinned, forbidden : iterable of (row, column)
        Pairs that must, and must not, be in the plan. Pinned pairs are in it whatever their
        score: the planner's explicit choice wins over the threshold.
    allowed : array_like of bool, optional
        Pairs that may be chosen at all (default: all).
    names : (row names, column names), optional
        Used in error messages instead of indices.
    warm : WarmStart, optional
        The `warm_start` of a plan on similar scores, to solve faster (same result).

    Raises
    ------
    InfeasiblePlanError
        When the constraints contradict each other, naming each conflict.

    Examples
    --------
    >>> plan = solve_plan([[0.9, 0.8], [0.7, 0.1]], capacity=1)
    >>> [(p.northeast, p.east) for p in plan.pairs], round(plan.objective, 3)
    ([(0, 1), (1, 0)], 1.5)
    >>> solve_plan([[0.9]], capacity=1, pinned=[(0, 0)], forbidden=[(0, 0)])
    Traceback (most recent call last):
    ...
    matching.errors.InfeasiblePlanError: pair (0, 0) is both pinned and forbidden
    """
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"`scores` must be a 2-d array, got {matrix.ndim} dimension(s)")
    if not np.isfinite(matrix).all():
        raise ValueError("`scores` must be finite")
    min_score = check_number("min_score", min_score)
    cap_rows, cap_cols = _capacities(capacity, matrix.shape)
    pins = _pairs("pinned", pinned, matrix.shape)
    bans = _pairs("forbidden", forbidden, matrix.shape)
    mask = np.ones(matrix.shape, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool)
    if mask.shape != matrix.shape:
        raise ValueError(f"`allowed` must have the shape of `scores` {matrix.shape}")
    row_names, col_names = names or (
        [str(i) for i in range(matrix.shape[0])],
        [str(j) for j in range(matrix.shape[1])],
    )
    _check_pins(pins, bans, mask, cap_rows, cap_cols, row_names, col_names)

    static, free_rows, free_cols = reduce_pins(mask, cap_rows, cap_cols, pins, bans)
    eligible = static & (matrix >= min_score)
    chosen, warm_start = solve_dense(matrix, eligible, free_rows, free_cols, warm=warm)
    for i, j in pins:
        chosen[i, j] = True
    return _result(matrix, chosen, set(pins), min_score, warm_start)


def reduce_pins(
    allowed: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    pins: Sequence[Pair],
    bans: Sequence[Pair],
) -> tuple[BoolArray, IntArray, IntArray]:
    """What is left to choose once the pins are in: the pairs still open and the capacities left.

    Pinned pairs are in the plan whatever their score and take their capacity first; pinned and
    forbidden pairs are closed to the solver. The solver and the sensitivity analysis both work
    on this reduced problem.

    Examples
    --------
    >>> open_, rows, cols = reduce_pins(np.ones((2, 2), bool), np.array([1, 1]), np.array([2, 1]),
    ...                                [(0, 0)], [(1, 1)])
    >>> open_.tolist(), rows.tolist(), cols.tolist()
    ([[False, True], [True, False]], [0, 1], [1, 1])
    """
    static = np.array(allowed, dtype=bool, copy=True)
    free_rows, free_cols = cap_rows.copy(), cap_cols.copy()
    for i, j in pins:
        static[i, j] = False
        free_rows[i] -= 1
        free_cols[j] -= 1
    for i, j in bans:
        static[i, j] = False
    return static, free_rows, free_cols


def _pair_label(i: int, j: int, rows: Sequence[str], cols: Sequence[str]) -> str:
    return f"({rows[i]}, {cols[j]})"


def _check_pins(
    pins: list[Pair],
    bans: list[Pair],
    mask: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    rows: Sequence[str],
    cols: Sequence[str],
) -> None:
    conflicts: list[str] = []
    banned = set(bans)
    for i, j in pins:
        label = _pair_label(i, j, rows, cols)
        if (i, j) in banned:
            conflicts.append(f"pair {label} is both pinned and forbidden")
        if not mask[i, j]:
            conflicts.append(f"pinned pair {label} is not allowed in this plan")
    for axis, caps, labels in ((0, cap_rows, rows), (1, cap_cols, cols)):
        counts = np.bincount([p[axis] for p in pins], minlength=len(caps))
        for region in np.flatnonzero(counts > caps):
            conflicts.append(
                f"{labels[int(region)]} has {counts[region]} pinned pairs but a capacity of "
                f"{caps[region]}"
            )
    if conflicts:
        raise InfeasiblePlanError(conflicts)


def _result(
    matrix: FloatArray,
    chosen: BoolArray,
    pins: set[Pair],
    threshold: float,
    warm_start: WarmStart | None,
) -> PlanResult:
    rows, cols = np.nonzero(chosen)
    values = matrix[rows, cols]
    order = np.lexsort((cols, rows, -values))
    pairs = tuple(
        PlannedPair(int(rows[k]), int(cols[k]), float(values[k]), (rows[k], cols[k]) in pins)
        for k in order
    )
    return PlanResult(
        status="optimal",
        objective=math.fsum(p.score for p in pairs),
        pairs=pairs,
        threshold=threshold,
        message=f"{len(pairs)} pairs, proven optimal",
        warm_start=warm_start,
    )


@dataclass(frozen=True)
class PlanRequest:
    """A plan request in indices: pins, forbidden pairs, the pairs allowed and the capacities."""

    pins: list[Pair]
    bans: list[Pair]
    allowed: BoolArray
    cap_rows: IntArray
    cap_cols: IntArray


def plan_request(network: Network, settings: PlanSettings) -> PlanRequest:
    """Check a plan request in region ids against the network and turn it into indices.

    Raises
    ------
    UnknownRegionError
        For a region id the network does not have, naming the setting.
    ValueError
        For a pair given the wrong way round or a capacity that is not a count.
    InfeasiblePlanError
        When a pin is an existing tie, or joins two levels while `same_level` is set.
    """
    allowed = allowed_pairs(network, same_level=settings.same_level)
    cap_rows, cap_cols = capacity_vectors(network, settings.capacity, settings.capacities)
    pins = pair_indices(network, "pinned", settings.pinned)
    bans = pair_indices(network, "forbidden", settings.forbidden)
    conflicts = []
    most_new = settings.coverage.max_new_per_east
    if most_new is not None:
        most_new = check_count("coverage.max_new_per_east", most_new)
        pinned_per_column = np.bincount([j for _, j in pins], minlength=len(cap_cols))
        for j in np.flatnonzero(pinned_per_column > most_new).tolist():
            conflicts.append(
                f"`max_new_per_east`: {network.east.ids[j]} has {pinned_per_column[j]} pinned "
                f"pairs but may get at most {most_new} new ties"
            )
        # The rule is a tighter capacity of every eastern region.
        cap_cols = np.minimum(cap_cols, most_new)
    for i, j in pins:
        label = f"({network.northeast.ids[i]}, {network.east.ids[j]})"
        if network.existing[i, j]:
            conflicts.append(f"pinned pair {label} is an existing tie; a plan only adds new ones")
        elif not allowed[i, j]:
            conflicts.append(
                f"pinned pair {label} joins a {network.northeast.levels[i]} and a "
                f"{network.east.levels[j]}, but same_level is set"
            )
    if conflicts:
        raise InfeasiblePlanError(conflicts)
    return PlanRequest(pins, bans, allowed, cap_rows, cap_cols)


def plan_network(
    network: Network,
    components: ComponentScores,
    weights: Weights,
    settings: PlanSettings,
    *,
    warm: WarmStart | None = None,
) -> PlanResult:
    """Plan additional partnerships on a network, from a request in region ids.

    Existing ties are never chosen; with `settings.same_level`, only pairs of the same level are.

    Raises
    ------
    UnknownRegionError
        For a region id the network does not have, naming the setting.
    ValueError
        For a pair given the wrong way round, or a capacity or threshold that is not valid.
    InfeasiblePlanError
        When pins contradict forbids, capacities, levels or existing ties.

    Examples
    --------
    >>> from matching.dataset import load_dataset
    >>> from matching.network import network_from_dataset
    >>> from matching.scoring import score_components
    >>> net = network_from_dataset(load_dataset())
    >>> w = Weights.resolve(net.taxonomy)
    >>> plan = plan_network(net, score_components(net), w, PlanSettings(capacity=1))
    >>> plan.status, len(plan.pairs) <= 7
    ('optimal', True)
    """
    request = plan_request(network, settings)
    min_score = check_number("min_score", settings.min_score)
    if settings.coverage.needs_milp:
        return _covered_plan(network, components, weights, settings, request, min_score)
    return solve_plan(
        components.combine(weights),
        capacity=(request.cap_rows, request.cap_cols),
        min_score=min_score * weights.total,
        pinned=request.pins,
        forbidden=request.bans,
        allowed=request.allowed,
        names=(network.northeast.ids, network.east.ids),
        warm=warm,
    )


def _covered_plan(
    network: Network,
    components: ComponentScores,
    weights: Weights,
    settings: PlanSettings,
    request: PlanRequest,
    min_score: float,
) -> PlanResult:
    """The plan under coverage rules: a MILP (`matching.coverage.solve_covered`)."""
    rules = settings.coverage
    tax = network.taxonomy
    scores = components.combine(weights)
    names = (network.northeast.ids, network.east.ids)
    _check_pins(
        request.pins, request.bans, request.allowed, request.cap_rows, request.cap_cols, *names
    )
    static, free_rows, free_cols = reduce_pins(
        request.allowed, request.cap_rows, request.cap_cols, request.pins, request.bans
    )
    n_channels = len(tax.channels)
    channel_values = weights.vector[:n_channels, None, None] * components.raw[:n_channels]
    covers = covered_channels(channel_values, cover_share=rules.cover_share)
    held = network.existing.copy()
    for i, j in request.pins:
        held[i, j] = True
    threshold = min_score * weights.total
    chosen = solve_covered(
        scores,
        covers,
        static & (scores >= threshold),
        held,
        free_rows,
        free_cols,
        min_channels=rules.min_channels,
        dockings=[k for k, c in enumerate(tax.channels) if c.kind == "docking"]
        if rules.per_docking
        else [],
        names=names,
        channel_names=tax.channel_ids,
    )
    for i, j in request.pins:
        chosen[i, j] = True
    result = _result(scores, chosen, set(request.pins), threshold, None)
    return replace(result, message=f"{len(result.pairs)} pairs, proven optimal (coverage MILP)")


def allowed_pairs(network: Network, *, same_level: bool = False) -> BoolArray:
    """Pairs a plan may add: not already tied, and of the same level if `same_level`."""
    allowed = ~network.existing
    if same_level:
        allowed = allowed & (
            network.northeast.level_codes[:, None] == network.east.level_codes[None, :]
        )
    return allowed


def capacity_vectors(
    network: Network, capacity: int, capacities: Mapping[str, int]
) -> tuple[IntArray, IntArray]:
    """Per-row and per-column capacities: `capacity` for all, `capacities` overriding by id."""
    capacity = check_count("capacity", capacity)
    rows = np.full(len(network.northeast), capacity, dtype=np.int64)
    cols = np.full(len(network.east), capacity, dtype=np.int64)
    for region_id, value in capacities.items():
        count = check_count(f"capacities.{region_id}", value)
        side, index = network.locate(region_id, field="capacities")
        (rows if side == "northeast" else cols)[index] = count
    return rows, cols


def pair_indices(network: Network, name: str, pairs: Iterable[tuple[str, str]]) -> list[Pair]:
    """Row and column of each (northeast id, east id) pair, checking ids and orientation."""
    out: list[Pair] = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"`{name}`: each pair is [northeast id, east id], got {list(pair)}")
        ne_id, east_id = pair
        i = network.northeast.index.get(ne_id)
        j = network.east.index.get(east_id)
        if i is None or j is None:
            if ne_id in network.east.index and east_id in network.northeast.index:
                raise ValueError(
                    f"`{name}`: pair [{ne_id!r}, {east_id!r}] is the wrong way round; "
                    f"write it as [{east_id!r}, {ne_id!r}] (northeast first)"
                )
            for region_id, where in ((ne_id, "northeast"), (east_id, "east")):
                if region_id not in network.side(where).index:
                    network.locate(region_id, field=name)
                    raise ValueError(
                        f"`{name}`: {region_id!r} is not a {where} region; each pair is "
                        "[northeast id, east id]"
                    )
        assert i is not None and j is not None
        out.append((i, j))
    # A pair listed twice is one pair: it takes capacity once, as in the plan itself.
    return list(dict.fromkeys(out))
