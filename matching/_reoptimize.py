"""Re-solving a plan at nearby weights from the plan itself: negative cycles, cancelled.

A b-matching plan is optimal exactly when the residual graph of its flow (see `_flow`) has no
negative cycle, that is when node potentials exist under which no residual arc has a negative
reduced cost (linear programming duality). Sensitivity asks again and again for the best plan at
weights a little away from those of a plan it knows; the answer is usually that plan, or that
plan with a pair or two swapped. So instead of a min-cost flow solve from scratch we correct the
labels of the known plan's residual graph (label correcting from the potentials of the last
answer, which are nearly right already); if a predecessor cycle forms, it is a negative cycle
(Tarjan) and we cancel it (swap the pairs along it) and go on; once the labels settle, we price
every other eligible edge against them, as `_flow.solve_dense` does. A few rounds of this cost a
fraction of a solve. When it takes too long (a plan far from the known one), we give up and the
caller solves with `solve_dense` as before.

The weights are used as they are, in floating point, not scaled to integers as for the solver.
Labels are corrected only when they drop by more than `slack`: the answer's potentials leave
every residual arc a reduced cost of at least ``-slack``, so no plan beats the answer by more
than `slack` times the arcs of a cycle decomposition of their difference (at most about four
times the capacity). Callers set `slack` so that this stays far inside the tolerance within which
they compare plans; the solver's integer costs are coarser (2**-32 of the largest weight an edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching._types import BoolArray, FloatArray, IntArray

__all__ = ["Labels", "Reoptimized", "reoptimize", "union"]

#: Rounds of label correcting, in one settling of the labels, after which we give up: from good
#: potentials the labels settle in a few dozen.
_MAX_ROUNDS = 300
#: How often (in rounds) the predecessors are checked for a cycle.
_CYCLE_CHECK = 8
#: Batches of negative cycles cancelled, and rounds of pricing, before we give up (the caller
#: solves).
_MAX_CANCELS = 8
_MAX_PRICING = 4


@dataclass(frozen=True)
class Labels:
    """Node labels (rows, columns, source, sink) and the node each was last lowered from.

    Following `parents` from a node to a root (-1) retraces how its label was reached, arc by
    arc: the labels at other weights start from the same paths' lengths there (`_along`).
    """

    values: FloatArray
    parents: IntArray


@dataclass(frozen=True)
class Reoptimized:
    """The best plan at the new weights, with labels that prove it."""

    rows: IntArray
    cols: IntArray
    #: Labels with ``d[head] <= d[tail] + length + slack`` on every residual arc of the plan's
    #: flow over the eligible edges (an edge's length is minus its weight).
    labels: Labels
    #: The candidates, with the edges that priced in, as flat indices (row * m + column), sorted.
    pool: IntArray
    #: Negative cycles cancelled: 0 when the known plan was still optimal.
    cancelled: int


def reoptimize(
    weights: FloatArray,
    eligible: BoolArray,
    plan: tuple[IntArray, IntArray],
    cap_rows: IntArray,
    cap_cols: IntArray,
    pool: IntArray,
    *,
    start: Labels | None,
    slack: float,
) -> Reoptimized | None:
    """The best plan over `eligible` at `weights`, from a plan optimal at nearby weights; or None.

    `plan` must fit the capacities. `pool` holds candidate edges as sorted flat indices
    (row * m + column), the plan's among them; `start` the labels of a nearby answer. None
    means we gave up: the caller solves.
    """
    n, m = len(cap_rows), len(cap_cols)
    rows, cols = plan
    if len(rows) and not (eligible[rows, cols].all() and (weights[rows, cols] > 0).all()):
        return None
    # The usable candidates: eligible, of positive weight.
    e_rows, e_cols = np.divmod(pool, m)
    e_weights = weights[e_rows, e_cols]
    usable = eligible[e_rows, e_cols] & (e_weights > 0)
    e_rows, e_cols, e_weights = e_rows[usable], e_cols[usable], e_weights[usable]
    e_keys = pool[usable]
    in_plan = np.zeros(len(e_keys), dtype=bool)
    in_plan[np.searchsorted(e_keys, rows * m + cols)] = True
    if start is None:
        distance, parents = np.zeros(n + m + 2), np.full(n + m + 2, -1)
    else:
        distance, parents = _along(start, weights), start.parents.copy()
    frontier = np.arange(n + m + 2)
    cancelled = priced = 0
    while True:
        tails, heads, lengths, edge_of = _residual(
            e_rows, e_cols, e_weights, in_plan, cap_rows, cap_cols
        )
        settled, pred = _settle(distance, parents, frontier, tails, heads, lengths + slack)
        if not settled:
            cycles = [] if pred is None else _cycles(pred, tails)
            if not cycles or cancelled >= _MAX_CANCELS:
                return None
            for cycle in cycles:
                edges = edge_of[cycle]
                in_plan[edges[edges >= 0]] ^= True
            cancelled += 1
            frontier = np.arange(n + m + 2)
            continue
        # Pricing: an eligible edge outside the pool that would shorten a column's label. Few
        # cells pass the comparison (the pool's all but never do), so eligibility and the pool
        # are checked on those few only.
        improving = np.flatnonzero(distance[:n, None] - weights < distance[n : n + m] - slack)
        if len(improving):
            i, j = np.divmod(improving, m)
            fresh = eligible[i, j] & (weights[i, j] > 0)
            if len(e_keys):
                at = np.minimum(np.searchsorted(e_keys, improving), len(e_keys) - 1)
                fresh &= e_keys[at] != improving
            improving = improving[fresh]
        if not len(improving):
            return _result(e_rows, e_cols, in_plan, Labels(distance, parents), pool, cancelled)
        priced += 1
        if priced > _MAX_PRICING:
            return None
        if len(improving) > n + m:
            # Only the most improving few: all of them would bring back much of the dense
            # graph, and the labels settle on a few; the rest price in again if they must.
            i, j = np.divmod(improving, m)
            reduced = distance[i] - weights[i, j] - distance[n + j]
            improving = np.sort(improving[np.argpartition(reduced, n + m)[: n + m]])
        # The candidates stay sorted by flat index, for the look-ups above.
        new_rows, new_cols = np.divmod(improving, m)
        pool = union(pool, improving)
        e_keys = np.concatenate([e_keys, improving])
        order = np.argsort(e_keys, kind="stable")
        e_keys = e_keys[order]
        e_rows = np.concatenate([e_rows, new_rows])[order]
        e_cols = np.concatenate([e_cols, new_cols])[order]
        e_weights = np.concatenate([e_weights, weights[new_rows, new_cols]])[order]
        in_plan = np.concatenate([in_plan, np.zeros(len(new_rows), dtype=bool)])[order]
        frontier = np.unique(new_rows)


def union(a: IntArray, b: IntArray) -> IntArray:
    """The sorted union of two arrays of flat indices (np.union1d takes ten times as long)."""
    keys = np.concatenate([a, b])
    keys.sort()
    if len(keys) > 1:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return keys


def _result(
    e_rows: IntArray,
    e_cols: IntArray,
    in_plan: BoolArray,
    labels: Labels,
    pool: IntArray,
    cancelled: int,
) -> Reoptimized:
    chosen = np.flatnonzero(in_plan)
    return Reoptimized(e_rows[chosen], e_cols[chosen], labels, pool, cancelled)


def _residual(
    e_rows: IntArray,
    e_cols: IntArray,
    e_weights: FloatArray,
    in_plan: BoolArray,
    cap_rows: IntArray,
    cap_cols: IntArray,
) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """Arcs of the residual graph (tails, heads, lengths) and the edge of each (-1: none).

    Nodes: rows 0..n-1, columns n..n+m-1, source n+m, sink n+m+1. An edge in the plan can be
    undone (column -> row, +weight), one outside it added (row -> column, -weight); a source or
    sink arc runs forwards while it has room and backwards while it carries flow, and so does the
    bypass arc from source to sink.
    """
    n, m = len(cap_rows), len(cap_cols)
    src, snk = n + m, n + m + 1
    row_flow = np.bincount(e_rows[in_plan], minlength=n)
    col_flow = np.bincount(e_cols[in_plan], minlength=m)
    chosen = int(in_plan.sum())
    supply = int(cap_rows.sum())
    row_nodes, col_nodes = np.arange(n), np.arange(n, n + m)
    open_rows, used_rows = row_nodes[row_flow < cap_rows], row_nodes[row_flow > 0]
    open_cols, used_cols = col_nodes[col_flow < cap_cols], col_nodes[col_flow > 0]
    bypass_tails = [src] * (chosen > 0) + [snk] * (chosen < supply)
    bypass_heads = [snk] * (chosen > 0) + [src] * (chosen < supply)
    tails = np.concatenate(
        [
            np.where(in_plan, e_cols + n, e_rows),
            np.full(len(open_rows), src),
            used_rows,
            open_cols,
            np.full(len(used_cols), snk),
            np.array(bypass_tails, dtype=np.int64),
        ]
    )
    heads = np.concatenate(
        [
            np.where(in_plan, e_rows, e_cols + n),
            open_rows,
            np.full(len(used_rows), src),
            np.full(len(open_cols), snk),
            used_cols,
            np.array(bypass_heads, dtype=np.int64),
        ]
    )
    lengths = np.zeros(len(tails))
    lengths[: len(e_rows)] = np.where(in_plan, e_weights, -e_weights)
    edge_of = np.full(len(tails), -1)
    edge_of[: len(e_rows)] = np.arange(len(e_rows))
    return tails, heads, lengths, edge_of


def _along(start: Labels, weights: FloatArray) -> FloatArray:
    """Labels at `weights` along the paths that reached `start`'s: each root's, plus the lengths.

    Where the shortest paths of nearby weights are still shortest, these labels need no
    correcting at all; elsewhere they are a start that few rounds correct. Sums along the parent
    links by pointer doubling, each root its own parent; a node on a cycle of parent links (no
    sum) keeps its label.
    """
    values, parents = start.values, start.parents
    n, m = weights.shape
    nodes = np.arange(len(parents))
    child = np.flatnonzero(parents >= 0)
    parent = parents[child]
    step = np.zeros(len(parents))
    # A column reached from a row along an edge (-weight), a row from a column back along one
    # (+weight); the source's and sink's arcs have no length.
    forwards = (parent < n) & (child >= n) & (child < n + m)
    step[child[forwards]] = -weights[parent[forwards], child[forwards] - n]
    backwards = (child < n) & (parent >= n) & (parent < n + m)
    step[child[backwards]] = weights[child[backwards], parent[backwards] - n]
    ancestor = np.where(parents >= 0, parents, nodes)
    steps = 1
    while steps < len(parents):
        step += step[ancestor]
        ancestor = ancestor[ancestor]
        steps *= 2
    rooted = parents[ancestor] < 0
    along: FloatArray = np.where(rooted, values[ancestor] + step, values)
    return along


def _settle(
    distance: FloatArray,
    parents: IntArray,
    frontier: IntArray,
    tails: IntArray,
    heads: IntArray,
    lengths: FloatArray,
) -> tuple[bool, IntArray | None]:
    """Correct `distance` in place until no arc shortens a label (and `parents` with it).

    Returns (True, None) when the labels settle; (False, pred) when the predecessor arcs (by
    arc index, -1 for none) hold a cycle, which only a negative cycle can make (Tarjan: each
    link was set by a strict drop, so around a cycle of links the lengths add up to less than
    zero); (False, None) after too many rounds. Each round relaxes the arcs leaving the nodes
    whose label dropped in the round before (vectorised Bellman-Ford, as `_flow._potentials`).
    """
    n_nodes = len(distance)
    order = np.argsort(tails, kind="stable")
    starts = np.searchsorted(tails[order], np.arange(n_nodes + 1))
    pred = np.full(n_nodes, -1)
    dropped = np.zeros(n_nodes, dtype=bool)
    for round_ in range(1, _MAX_ROUNDS + 1):
        first = starts[frontier]
        counts = starts[frontier + 1] - first
        total = int(counts.sum())
        if not total:
            return True, None
        # The arcs of the frontier's nodes: each node's run of arcs, laid end to end.
        at = np.repeat(first - np.cumsum(counts) + counts, counts)
        at += np.arange(total)
        arcs = order[at]
        reach = distance[tails[arcs]] + lengths[arcs]
        ends = heads[arcs]
        better = reach < distance[ends]
        if not better.any():
            return True, None
        arcs, ends, reach = arcs[better], ends[better], reach[better]
        np.minimum.at(distance, ends, reach)
        # A node's predecessor is an arc that gave it its new label.
        gave = reach == distance[ends]
        pred[ends[gave]] = arcs[gave]
        parents[ends[gave]] = tails[arcs[gave]]
        dropped[ends] = True
        frontier = np.flatnonzero(dropped)
        dropped[frontier] = False
        if round_ % _CYCLE_CHECK == 0 and _on_cycles(pred, tails).size:
            return False, pred
    return False, None


def _on_cycles(pred: IntArray, tails: IntArray) -> IntArray:
    """Nodes on cycles of predecessor links: a node's ancestor n or more links up is on one.

    Pointer doubling, with an extra node that is its own parent standing for "no parent".
    """
    none = len(pred)
    ancestor = np.append(np.where(pred >= 0, tails[pred], none), none)
    steps = 1
    while steps < none:
        ancestor = ancestor[ancestor]
        steps *= 2
    # The nodes reached, without repeats: a mask is cheaper than np.unique.
    on = np.zeros(none + 1, dtype=bool)
    on[ancestor] = True
    return np.flatnonzero(on[:none])


def _cycles(pred: IntArray, tails: IntArray) -> list[IntArray]:
    """The cycles of predecessor links, each as its arcs; node-disjoint, so cancelled together."""
    seen: set[int] = set()
    cycles = []
    tail_list, pred_list = tails.tolist(), pred.tolist()
    for node in _on_cycles(pred, tails).tolist():
        if node in seen:
            continue
        arcs, at = [], node
        while True:
            seen.add(at)
            arcs.append(pred_list[at])
            at = tail_list[pred_list[at]]
            if at == node:
                break
        cycles.append(np.array(arcs, dtype=np.int64))
    return cycles
