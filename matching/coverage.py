"""Coverage rules in plans: partners across channels, one per docking, few new ties per region.

A planner can ask that, after the plan, each northeast region has

* ``min_channels = m``: at least m partners covering m distinct channels (each counted partner
  stands for a different channel it covers);
* ``per_docking``: for each of the four dockings, a partner covering it;

and that each eastern region gets at most ``max_new_per_east = n`` new ties (a tighter capacity).

**A partner covers a channel** when the channel's weighted contribution to the pair's score is at
least ``cover_share`` of the pair's channel total (default 1/|channels|: the channel weighs more
than an even share of what the pair shares). A region's partners are its ties in force (official
pairs included), its pinned pairs and the plan's new pairs.

The plan is then a mixed-integer program, solved exactly with HiGHS (`scipy.optimize.milp`, zero
gap). "m partners covering m distinct channels" is a matching of partners to channels; by
Hall's theorem (in its deficiency form) one of size m exists if and only if every set S of
channels is covered by at least m - |C| + |S| partners, so the rule is a set of linear
constraints on the pair variables alone, one per large enough S, with no auxiliary variables.

On large instances the MILP is solved on candidate pairs and extended by **pricing** with the
duals of its LP relaxation, then closed by **reduced-cost fixing**: a pair outside the candidates
whose reduced cost puts every solution containing it below the incumbent cannot be in an optimal
plan. When no pair outside is left, the candidate plan is optimal on the whole graph.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from matching._types import BoolArray, FloatArray, IntArray
from matching._validate import check_count, check_number
from matching.errors import InfeasiblePlanError

__all__ = ["CoverageRules", "covered_channels", "solve_covered"]

#: Pairs below which the MILP is solved on every eligible pair at once, without pricing.
_SOLVE_WHOLE_BELOW = 20_000
#: Candidate pairs per region beyond its capacity, and per (region, channel), in the first round.
_CANDIDATE_SLACK = 5
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class CoverageRules:
    """Coverage rules of a plan (see the module's docstring); the defaults ask for nothing."""

    min_channels: int = 0
    per_docking: bool = False
    max_new_per_east: int | None = None
    cover_share: float | None = None

    @property
    def needs_milp(self) -> bool:
        """Whether a rule couples pairs beyond capacities (the flow cannot express it)."""
        return self.min_channels > 0 or self.per_docking


def covered_channels(channel_values: FloatArray, *, cover_share: float | None = None) -> BoolArray:
    """Which channels each pair covers, from its weighted channel contributions.

    Parameters
    ----------
    channel_values : ndarray, shape (C, n, m)
        Each channel's weighted contribution w_c x_c(i, j).
    cover_share : float, optional
        Share of the pair's channel total a channel must reach (default 1 / C).

    Returns
    -------
    ndarray of bool, shape (n, m, C)

    Examples
    --------
    >>> v = np.array([[[0.6]], [[0.3]], [[0.1]]])
    >>> covered_channels(v)[0, 0].tolist(), covered_channels(v, cover_share=0.5)[0, 0].tolist()
    ([True, False, False], [True, False, False])
    >>> covered_channels(v, cover_share=0.25)[0, 0].tolist()
    [True, True, False]
    """
    n_channels = channel_values.shape[0]
    share = 1.0 / n_channels if cover_share is None else cover_share
    share = check_number("cover_share", share, minimum=0.0, maximum=1.0, exclusive_minimum=True)
    total = channel_values.sum(axis=0)
    covers = (channel_values >= share * total - _TOLERANCE * total) & (channel_values > 0)
    return np.moveaxis(covers, 0, -1)


@dataclass(frozen=True)
class _Rows:
    """The coverage constraints: for each, its region, channel set (bit mask), rule and need."""

    region: IntArray
    mask: IntArray
    rule: tuple[str, ...]
    need: IntArray


def _coverage_rows(
    held_bits: list[list[int]],
    n_channels: int,
    min_channels: int,
    dockings: Sequence[int],
) -> _Rows:
    """Constraints `sum of chosen partners of i covering some channel of S >= need`."""
    regions: list[int] = []
    masks: list[int] = []
    rules: list[str] = []
    needs: list[int] = []
    subsets: list[int] = []
    if min_channels > 0:
        for size in range(max(1, n_channels - min_channels + 1), n_channels + 1):
            for combo in itertools.combinations(range(n_channels), size):
                subsets.append(sum(1 << c for c in combo))
    for i, held in enumerate(held_bits):
        for mask in subsets:
            need = min_channels - n_channels + mask.bit_count()
            need -= sum(1 for bits in held if bits & mask)
            if need > 0:
                regions.append(i)
                masks.append(mask)
                rules.append("min_channels")
                needs.append(need)
        for c in dockings:
            if not any(bits & (1 << c) for bits in held):
                regions.append(i)
                masks.append(1 << c)
                rules.append("per_docking")
                needs.append(1)
    return _Rows(
        np.array(regions, dtype=np.int64),
        np.array(masks, dtype=np.int64),
        tuple(rules),
        np.array(needs, dtype=np.int64),
    )


def _bits(covers: BoolArray) -> IntArray:
    """Each pair's covered channels as a bit mask."""
    weights = 1 << np.arange(covers.shape[-1], dtype=np.int64)
    result: IntArray = (covers.astype(np.int64) * weights).sum(axis=-1)
    return result


@dataclass(frozen=True)
class _Model:
    """The MILP on a set of candidate edges: min -scores.x s.t. rows_ub . x <= b_ub."""

    a_ub: sp.csr_matrix
    b_ub: FloatArray
    n_capacity_rows: int


def _model(
    rows: IntArray,
    cols: IntArray,
    bits: IntArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    coverage: _Rows,
) -> _Model:
    e = len(rows)
    n, m = len(cap_rows), len(cap_cols)
    arange = np.arange(e)
    capacity = sp.vstack(
        [
            sp.csr_matrix((np.ones(e), (rows, arange)), shape=(n, e)),
            sp.csr_matrix((np.ones(e), (cols, arange)), shape=(m, e)),
        ]
    )
    # Coverage rows as -G x <= -need, G[r, e] = 1 when edge e is region r's and covers its set.
    order = np.argsort(rows, kind="stable")
    starts = np.searchsorted(rows[order], np.arange(n + 1))
    r_idx: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    e_idx: list[IntArray] = [np.zeros(0, dtype=np.int64)]
    for r, (region, mask) in enumerate(
        zip(coverage.region.tolist(), coverage.mask.tolist(), strict=True)
    ):
        edges = order[starts[region] : starts[region + 1]]
        hit = edges[(bits[edges] & mask) != 0]
        r_idx.append(np.full(len(hit), r, dtype=np.int64))
        e_idx.append(hit)
    hits = np.concatenate(e_idx)
    cover_rows = sp.csr_matrix(
        (-np.ones(len(hits)), (np.concatenate(r_idx), hits)), shape=(len(coverage.need), e)
    )
    a_ub = sp.vstack([capacity, cover_rows]).tocsr()
    b_ub = np.concatenate([cap_rows, cap_cols, -coverage.need]).astype(np.float64)
    return _Model(a_ub, b_ub, n + m)


def _solve_milp(scores: FloatArray, model: _Model) -> FloatArray | None:
    if scores.size == 0:
        return np.zeros(0) if (model.b_ub >= 0).all() else None
    result = milp(
        -scores,
        integrality=np.ones(len(scores)),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(model.a_ub, -np.inf, model.b_ub),
        options={"mip_rel_gap": 0.0},
    )
    if result.status == 2:  # infeasible
        return None
    if result.x is None:  # pragma: no cover - time and node limits are not set
        raise RuntimeError(f"MILP solver stopped: {result.message}")
    chosen: FloatArray = np.rint(result.x)
    return chosen


def _lp_duals(scores: FloatArray, model: _Model) -> tuple[float, FloatArray] | None:
    """The LP relaxation's optimum (as a maximum) and the duals of its rows (<= 0)."""
    result = linprog(-scores, A_ub=model.a_ub, b_ub=model.b_ub, bounds=(0, 1), method="highs")
    if result.status == 2:
        return None
    if result.status != 0:  # pragma: no cover - bounded and finite by construction
        raise RuntimeError(f"LP solver stopped: {result.message}")
    return float(-result.fun), np.asarray(result.ineqlin.marginals, dtype=np.float64)


def _reduced_costs(
    values: FloatArray,
    rows: IntArray,
    cols: IntArray,
    bits: IntArray,
    duals: FloatArray,
    n: int,
    m: int,
    coverage: _Rows,
) -> FloatArray:
    """Reduced costs d = c - A^T y of every edge (minimisation form, c = -score) under the duals.

    Capacity duals are <= 0 and raise d; coverage rows (-G x <= -need) have coefficient -1 on
    the edges they count, so their duals lower it.
    """
    reduced = -values - duals[rows] - duals[n + cols]
    cover_duals = duals[n + m :]
    active = np.flatnonzero(cover_duals < 0)
    if len(active):
        order = np.argsort(rows, kind="stable")
        starts = np.searchsorted(rows[order], np.arange(n + 1))
        for r in active.tolist():
            region = int(coverage.region[r])
            edges = order[starts[region] : starts[region + 1]]
            hit = edges[(bits[edges] & int(coverage.mask[r])) != 0]
            reduced[hit] += cover_duals[r]
    return reduced


def solve_covered(
    scores: FloatArray,
    covers: BoolArray,
    eligible: BoolArray,
    held: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    *,
    min_channels: int = 0,
    dockings: Sequence[int] = (),
    names: tuple[Sequence[str], Sequence[str]],
    channel_names: Sequence[str],
) -> BoolArray:
    """The best pairs under capacities and coverage rules, exactly (a MILP, HiGHS).

    Parameters
    ----------
    scores : ndarray, shape (n, m)
        Score of every pair.
    covers : ndarray of bool, shape (n, m, C)
        Which channels each pair covers (`covered_channels`).
    eligible : ndarray of bool, shape (n, m)
        Pairs the plan may choose (allowed, not pinned or forbidden, above the threshold).
    held : ndarray of bool, shape (n, m)
        Partners a region has whatever the plan: ties in force and pinned pairs.
    cap_rows, cap_cols : ndarray of int
        Capacities left for new pairs.
    min_channels : int
        The `min_channels` rule (0: none).
    dockings : sequence of int
        Channels each northeast region must cover (the dockings, with `per_docking`).
    names, channel_names
        Region and channel names, for the messages of `InfeasiblePlanError`.

    Returns
    -------
    ndarray of bool, shape (n, m): the chosen pairs.

    Raises
    ------
    InfeasiblePlanError
        Naming each rule and region that cannot be met.

    Examples
    --------
    Region a would take x alone (0.9 > 0.5); covering two channels takes x and y:

    >>> s = np.array([[0.9, 0.5]])
    >>> covers = np.array([[[True, False], [False, True]]])
    >>> args = (s, covers, np.ones((1, 2), bool), np.zeros((1, 2), bool), np.array([2]))
    >>> solve_covered(*args, np.array([1, 1]), min_channels=2, names=(["a"], ["x", "y"]),
    ...               channel_names=["c", "d"]).tolist()
    [[True, True]]
    >>> solve_covered(*args, np.array([1, 0]), min_channels=2, names=(["a"], ["x", "y"]),
    ...               channel_names=["c", "d"])
    Traceback (most recent call last):
    ...
    matching.errors.InfeasiblePlanError: `min_channels`: a cannot get 2 partners covering ...
    """
    min_channels = check_count("min_channels", min_channels)
    n, m = scores.shape
    n_channels = covers.shape[-1]
    if min_channels > n_channels:
        raise ValueError(
            f"`min_channels` must be at most the number of channels ({n_channels}), "
            f"got {min_channels}"
        )
    bits_all = _bits(covers)
    eligible = eligible & (scores > 0)
    held_bits = [bits_all[i, np.flatnonzero(held[i])].tolist() for i in range(n)]
    coverage = _coverage_rows(held_bits, n_channels, min_channels, dockings)
    _check_reachable(coverage, eligible, bits_all, names[0], channel_names)
    rows, cols = np.nonzero(eligible)
    values, bits = scores[rows, cols], bits_all[rows, cols]
    if len(rows) <= _SOLVE_WHOLE_BELOW:
        pool = np.ones(len(rows), dtype=bool)
    else:
        pool = _initial_pool(rows, cols, values, bits, cap_rows, cap_cols, n, m, n_channels)
    chosen = _priced(values, rows, cols, bits, pool, cap_rows, cap_cols, coverage, n, m)
    if chosen is None:
        _explain_infeasible(
            values, rows, cols, bits, cap_rows, cap_cols, coverage, names[0], min_channels
        )
        chosen = _solve_milp(values, _model(rows, cols, bits, cap_rows, cap_cols, coverage))
        assert chosen is not None
    out = np.zeros((n, m), dtype=bool)
    picked = chosen > 0.5
    out[rows[picked], cols[picked]] = True
    return out


def _check_reachable(
    coverage: _Rows,
    eligible: BoolArray,
    bits: IntArray,
    row_names: Sequence[str],
    channel_names: Sequence[str],
) -> None:
    """Name the `per_docking` needs no eligible pair can meet (before any solve)."""
    conflicts = []
    for region, mask, rule in zip(
        coverage.region.tolist(), coverage.mask.tolist(), coverage.rule, strict=True
    ):
        if rule == "per_docking" and not ((bits[region] & mask)[eligible[region]] != 0).any():
            channel = channel_names[mask.bit_length() - 1]
            conflicts.append(
                f"`per_docking`: {row_names[region]} has no partner covering {channel} and no "
                "eligible pair that would"
            )
    if conflicts:
        raise InfeasiblePlanError(conflicts)


def _initial_pool(
    rows: IntArray,
    cols: IntArray,
    values: FloatArray,
    bits: IntArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    n: int,
    m: int,
    n_channels: int,
) -> BoolArray:
    """The best few edges of every row, column and (row, channel)."""
    pool = np.zeros(len(rows), dtype=bool)
    order = np.lexsort((-values, rows))
    rank = np.arange(len(rows)) - np.searchsorted(rows[order], rows[order])
    pool[order[rank < cap_rows[rows[order]] + _CANDIDATE_SLACK]] = True
    order = np.lexsort((-values, cols))
    rank = np.arange(len(cols)) - np.searchsorted(cols[order], cols[order])
    pool[order[rank < cap_cols[cols[order]] + _CANDIDATE_SLACK]] = True
    for c in range(n_channels):
        on = np.flatnonzero((bits >> c) & 1)
        order = on[np.lexsort((-values[on], rows[on]))]
        rank = np.arange(len(order)) - np.searchsorted(rows[order], rows[order])
        pool[order[rank < _CANDIDATE_SLACK]] = True
    return pool


def _priced(
    values: FloatArray,
    rows: IntArray,
    cols: IntArray,
    bits: IntArray,
    pool: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    coverage: _Rows,
    n: int,
    m: int,
) -> FloatArray | None:
    """The MILP on the pool, grown by LP pricing and reduced-cost fixing until it is exact."""
    pool = pool.copy()
    if pool.all():
        return _solve_milp(values, _model(rows, cols, bits, cap_rows, cap_cols, coverage))
    while True:
        idx = np.flatnonzero(pool)
        model = _model(rows[idx], cols[idx], bits[idx], cap_rows, cap_cols, coverage)
        relaxed = _lp_duals(values[idx], model)
        if relaxed is None:
            return None
        bound, duals = relaxed
        reduced = _reduced_costs(values, rows, cols, bits, duals, n, m, coverage)
        improving = ~pool & (reduced < -_TOLERANCE)
        if improving.any():
            # Pricing: the LP on the pool is not the LP on the whole graph yet.
            pool |= _best_of(improving, reduced, rows, n + m)
            continue
        chosen = _solve_milp(values[idx], model)
        if chosen is None:
            return None
        incumbent = math.fsum(values[idx][chosen > 0.5])
        # Reduced-cost fixing: a solution holding an edge outside is worth at most the LP bound
        # minus the edge's reduced cost; an edge for which that stays below the incumbent is in
        # no optimal plan.
        open_ = ~pool & (bound - reduced >= incumbent - _TOLERANCE * max(1.0, abs(bound)))
        if not open_.any():
            full = np.zeros(len(values))
            full[idx] = chosen
            return full
        pool |= open_


def _best_of(mask: BoolArray, reduced: FloatArray, rows: IntArray, limit: int) -> BoolArray:
    """At most `limit` of the masked edges, the most negative reduced costs first."""
    picked = np.flatnonzero(mask)
    if len(picked) > limit:
        picked = picked[np.argsort(reduced[picked], kind="stable")[:limit]]
    out = np.zeros(len(mask), dtype=bool)
    out[picked] = True
    return out


def _explain_infeasible(
    values: FloatArray,
    rows: IntArray,
    cols: IntArray,
    bits: IntArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    coverage: _Rows,
    row_names: Sequence[str],
    min_channels: int,
) -> None:
    """If the rules cannot all be met, raise naming the fewest (rule, region) to give up.

    Each (rule, region) gets a slack that lets its constraints go; the MILP minimising how many
    slacks are used finds a smallest set of rules and regions whose needs cannot be met together.
    """
    groups = sorted(set(zip(coverage.rule, coverage.region.tolist(), strict=True)))
    if not groups:
        return
    model = _model(rows, cols, bits, cap_rows, cap_cols, coverage)
    group_of = {g: k for k, g in enumerate(groups)}
    e, k = len(values), len(groups)
    slack_rows = model.n_capacity_rows + np.arange(len(coverage.need))
    slack_cols = np.array(
        [
            group_of[(rule, region)]
            for rule, region in zip(coverage.rule, coverage.region.tolist(), strict=True)
        ]
    )
    big = float(coverage.need.max())
    slack = sp.csr_matrix(
        (-np.full(len(slack_rows), big), (slack_rows, slack_cols)),
        shape=(model.a_ub.shape[0], k),
    )
    result = milp(
        np.concatenate([np.zeros(e), np.ones(k)]),
        integrality=np.ones(e + k),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(sp.hstack([model.a_ub, slack]).tocsr(), -np.inf, model.b_ub),
        options={"mip_rel_gap": 0.0},
    )
    if result.x is None:  # pragma: no cover - every slack on is always feasible
        raise RuntimeError(f"MILP solver stopped: {result.message}")
    used = [groups[g] for g in np.flatnonzero(result.x[e:] > 0.5).tolist()]
    if not used:
        return
    wanted = {
        "min_channels": f"cannot get {min_channels} partners covering distinct channels",
        "per_docking": "cannot get a partner covering every docking",
    }
    raise InfeasiblePlanError(
        [
            f"`{rule}`: {row_names[region]} {wanted[rule]} (with this plan's capacities, "
            "threshold and pairs)"
            for rule, region in used
        ]
    )
