"""Maximum-weight bipartite b-matching as a min-cost flow (LEMON's network simplex), priced exactly.

The plan and the matchmaking round are the same problem: choose edges of a bipartite graph, each
at most once, each node in at most its capacity of them, maximising the total weight. As a flow:
source -> left node (capacity b_i) -> right node (capacity 1, cost -weight) -> sink (capacity b_j),
plus a free source -> sink arc so that no edge is forced in.

The solver wants integer costs, so weights are divided by the largest and scaled to integers
below 2**31 (`integer_costs`): the optimum is exact for the scaled weights, i.e. to within 1e-9 of
the largest weight, whatever the weights' magnitude (1e-300 or 1e6 alike).

On dense instances we solve on a few candidate edges per node first, then price every other edge
against the node potentials of the optimal flow (shortest-path distances in the residual graph).
An edge with negative reduced cost would improve the plan: it is added and we solve again. When no
edge prices out, the flow is optimal for the whole graph: exact, at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pylmcf.pylmcf_cpp import lmcf

from matching._types import BoolArray, FloatArray, IntArray

#: Largest integer cost of one edge after scaling.
_COST_RANGE = float(2**31)
#: Instances with at most this many eligible edges are solved whole, without pricing.
_SOLVE_WHOLE_BELOW = 20_000
#: Extra candidate edges per node beyond its capacity in the first round of pricing.
_CANDIDATE_SLACK = 5


def integer_costs(weights: FloatArray, norm: float) -> FloatArray:
    """`weights` as integers in [0, 2**31]: `norm` (the largest weight) maps to 2**31.

    Dividing first keeps the scale finite for any positive `norm`, tiny ones included.
    """
    if not norm > 0:
        return np.zeros_like(weights)
    costs: FloatArray = np.divide(weights, norm)
    costs *= _COST_RANGE
    return np.rint(costs, out=costs)


def solve_edges(
    rows: IntArray,
    cols: IntArray,
    weights: FloatArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    *,
    norm: float | None = None,
    potentials: bool = False,
    start: FloatArray | None = None,
) -> tuple[BoolArray, FloatArray | None]:
    """Maximum-weight b-matching on an explicit edge list.

    Returns the mask of chosen edges and, if asked, node potentials (rows, columns, source,
    sink) that certify optimality: for every edge not chosen, -cost + p[row] - p[col] >= 0.
    `start` seeds their computation with the potentials of a similar solve.
    """
    n, m = len(cap_rows), len(cap_cols)
    if norm is None:
        norm = float(weights.max(initial=0.0))
    n_edges = len(rows)
    src, snk = n + m, n + m + 1
    supply = int(cap_rows.sum())
    # Arcs: the edges, each column -> sink, source -> each row, and the bypass source -> sink,
    # in that order: sorted by (tail, head) when the edges are (as np.nonzero and the round's
    # candidates give them), so LEMON builds its graph without sorting 400,000 arcs first.
    # Filled in place: on the small instances sensitivity solves by the dozen, building the
    # arrays costs as much as the solve.
    edges = slice(0, n_edges)
    sinks = slice(n_edges, n_edges + m)
    sources = slice(n_edges + m, n_edges + m + n)
    tails = np.empty(n_edges + m + n + 1, dtype=np.int64)
    heads = np.empty_like(tails)
    caps = np.empty_like(tails)
    # Costs as LEMON's network simplex (pylmcf) takes them, at least 0. In the flow as stated
    # (module docstring) every unit leaves the source by the bypass (cost 0) or through one edge
    # (cost -w <= 0): adding the largest integer cost to both charges every unit the same, so
    # the cheapest flow is the same flow.
    top = int(_COST_RANGE)
    costs = np.zeros_like(tails)
    tails[edges], heads[edges], caps[edges] = rows, cols, 1
    heads[edges] += n
    np.subtract(top, integer_costs(weights, norm), out=costs[edges], casting="unsafe")
    tails[sinks], heads[sinks], caps[sinks] = np.arange(n, n + m), snk, cap_cols
    tails[sources], heads[sources], caps[sources] = src, np.arange(n), cap_rows
    tails[-1], heads[-1], caps[-1], costs[-1] = src, snk, supply, top
    node_supply = np.zeros(n + m + 2, dtype=np.int64)
    node_supply[src], node_supply[snk] = supply, -supply
    arc_flow: IntArray = lmcf(node_supply, tails, heads, caps, costs)
    chosen = arc_flow[edges] > 0
    if not potentials:
        return chosen, None
    # The potentials certify the flow as stated: its costs, unshifted (only when asked).
    costs[edges] -= top
    costs[-1] = 0
    return chosen, _potentials(tails, heads, caps, costs, arc_flow, n + m + 2, start)


def solve_stack(
    weights: FloatArray, eligible: BoolArray, cap_rows: IntArray, cap_cols: IntArray
) -> BoolArray:
    """Maximum-weight b-matchings of several instances with the same capacities, in one solve.

    `weights` and `eligible` are stacks of shape (instances, n, m); returns the chosen cells of
    each, the plan ``solve_dense(..., price=False)`` gives that instance on its own. The
    instances are disjoint copies of the network in one flow graph sharing the source and the
    sink, whose bypass carries whatever any copy leaves unused: no copy constrains another, so
    the joint optimum is each copy's optimum. Each copy's weights are scaled by its own largest,
    as its own solve scales them.
    """
    count, n, m = weights.shape
    eligible = eligible & (weights > 0)
    copy, rows, cols = np.nonzero(eligible)
    norms = np.max(weights, axis=(1, 2), where=eligible, initial=0.0)
    # Divided by its own norm, each weight scales by 1.0 to the integer its own solve gives it.
    scaled = weights[copy, rows, cols] / norms[copy]
    chosen, _ = solve_edges(
        copy * n + rows,
        copy * m + cols,
        scaled,
        np.tile(cap_rows, count),
        np.tile(cap_cols, count),
        norm=1.0,
    )
    out = np.zeros_like(eligible)
    out[copy[chosen], rows[chosen], cols[chosen]] = True
    return out


def _potentials(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    arc_flow: IntArray,
    n_nodes: int,
    start: FloatArray | None = None,
) -> FloatArray:
    """Feasible node potentials of the residual graph: p[v] <= p[u] + cost(u, v) on every arc.

    Label correcting (Bellman-Ford), vectorised and driven by a frontier: each round relaxes only
    the arcs leaving nodes whose label dropped in the round before. Labels start at 0 (distances
    from a virtual root joined to every node) or at `start`, the potentials of a similar solve,
    which are nearly feasible already and need few rounds. The flow is optimal, so the residual
    graph has no negative cycle and labels stop dropping.
    """
    forward = arc_flow < caps
    backward = arc_flow > 0
    sources = np.concatenate([tails[forward], heads[backward]])
    targets = np.concatenate([heads[forward], tails[backward]])
    lengths = np.concatenate([costs[forward], -costs[backward]]).astype(np.float64)
    order = np.argsort(sources, kind="stable")
    sources, targets, lengths = sources[order], targets[order], lengths[order]
    starts = np.searchsorted(sources, np.arange(n_nodes + 1))
    distance = np.zeros(n_nodes) if start is None else start.copy()
    frontier = np.arange(n_nodes)
    dropped = np.zeros(n_nodes, dtype=bool)
    for _ in range(n_nodes + 1):
        first = starts[frontier]
        counts = starts[frontier + 1] - first
        total = int(counts.sum())
        if not total:
            return distance
        # The arcs of the frontier's nodes: each node's run of arcs, laid end to end.
        arcs = np.repeat(first - np.cumsum(counts) + counts, counts)
        arcs += np.arange(total)
        reach = distance[sources[arcs]] + lengths[arcs]
        ends = targets[arcs]
        better = reach < distance[ends]
        if not better.any():
            return distance
        ends = ends[better]
        np.minimum.at(distance, ends, reach[better])
        # The next frontier, sorted and without repeats: a mask is cheaper than np.unique.
        dropped[ends] = True
        frontier = np.flatnonzero(dropped)
        dropped[frontier] = False
    raise RuntimeError("negative cycle in the residual graph: the flow is not optimal")


def _initial_candidates(
    weights: FloatArray, eligible: BoolArray, cap_rows: IntArray, cap_cols: IntArray
) -> BoolArray:
    """A few of the best eligible edges of every row and column."""
    masked = np.where(eligible, weights, -np.inf)
    n, m = masked.shape
    candidates = np.zeros_like(eligible)
    k_row = int(min(m, cap_rows.max(initial=0) + _CANDIDATE_SLACK))
    k_col = int(min(n, cap_cols.max(initial=0) + _CANDIDATE_SLACK))
    if k_row > 0:
        top = np.argpartition(-masked, k_row - 1, axis=1)[:, :k_row]
        candidates[np.repeat(np.arange(n), k_row), top.ravel()] = True
    if k_col > 0:
        top = np.argpartition(-masked, k_col - 1, axis=0)[:k_col, :]
        candidates[top.ravel(), np.tile(np.arange(m), k_col)] = True
    return candidates & eligible


@dataclass(frozen=True)
class WarmStart:
    """What one dense solve hands to the next: its candidates and its potentials."""

    candidates: BoolArray
    potentials: FloatArray | None = None
    #: The weight that mapped to 2**31 in the solve these potentials come from.
    norm: float = 1.0


def solve_dense(
    weights: FloatArray,
    eligible: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
    *,
    warm: WarmStart | None = None,
    price: bool = True,
) -> tuple[BoolArray, WarmStart]:
    """Maximum-weight b-matching over the eligible cells of a dense weight matrix.

    Returns the chosen cells and a `WarmStart` for a solve of a similar instance. With `price`
    false the whole eligible graph is solved at once: better for weights of low rank (one
    factor's outer product), where every row wants the same few columns and pricing would add
    edges for many rounds.
    """
    eligible = eligible & (weights > 0)
    if not price or np.count_nonzero(eligible) <= _SOLVE_WHOLE_BELOW:
        rows, cols = np.nonzero(eligible)
        edge_weights = weights[rows, cols]
        chosen, _ = solve_edges(
            rows, cols, edge_weights, cap_rows, cap_cols, norm=float(edge_weights.max(initial=0.0))
        )
        out = np.zeros_like(eligible)
        out[rows[chosen], cols[chosen]] = True
        return out, WarmStart(candidates=eligible)
    norm = float(np.max(weights, where=eligible, initial=0.0))
    # A warm start reuses the candidates of a similar solve (pricing adds whatever they lack)
    # and its potentials, rescaled to this solve's integer costs.
    start = None
    if warm is not None and (warm.candidates & eligible).any():
        pool = warm.candidates & eligible
        if warm.potentials is not None:
            start = warm.potentials * (warm.norm / norm) if norm > 0 else None
    else:
        pool = _initial_candidates(weights, eligible, cap_rows, cap_cols)
    # Pricing: an edge outside the pool improves the plan when its reduced cost is negative,
    # -cost(w) + p[row] - p[col] < 0, i.e. cost(w) > p[row] - p[col], cost as `integer_costs`.
    gains = integer_costs(weights, norm)
    outside = eligible & ~pool
    n, m = len(cap_rows), len(cap_cols)
    while True:
        rows, cols = np.nonzero(pool)
        chosen, potential = solve_edges(
            rows,
            cols,
            weights[rows, cols],
            cap_rows,
            cap_cols,
            norm=norm,
            potentials=True,
            start=start,
        )
        assert potential is not None
        start = potential
        bars = np.subtract.outer(potential[:n], potential[n : n + m])
        improving = np.greater(gains, bars, out=bars.astype(bool))
        improving &= outside
        if not improving.any():
            break
        # Add every improving edge if there are few, else only the most negative few per row and
        # column: adding them all at once would bring back most of the dense graph.
        if improving.sum() > n + m:
            improving = _initial_candidates(gains - bars, improving, cap_rows, cap_cols)
        pool |= improving
        outside &= ~improving
    out = np.zeros_like(eligible)
    out[rows[chosen], cols[chosen]] = True
    return out, WarmStart(candidates=pool, potentials=potential, norm=norm)
