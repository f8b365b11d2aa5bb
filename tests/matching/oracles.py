"""Independent oracles for the plan solvers: brute force, an LP (HiGHS), a matching (networkx)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import linprog


def brute_force_plan(
    scores: NDArray[np.float64],
    cap_rows: list[int],
    cap_cols: list[int],
    *,
    threshold: float = 0.0,
    pinned: frozenset[tuple[int, int]] = frozenset(),
    forbidden: frozenset[tuple[int, int]] = frozenset(),
    allowed: NDArray[np.bool_] | None = None,
) -> float:
    """Best total over every subset of the free pairs, pins always in."""
    n, m = scores.shape
    free = [
        (i, j)
        for i in range(n)
        for j in range(m)
        if (i, j) not in pinned
        and (i, j) not in forbidden
        and (allowed is None or allowed[i, j])
        and scores[i, j] >= threshold
        and scores[i, j] > 0
    ]
    best = -np.inf
    for size in range(len(free) + 1):
        for subset in itertools.combinations(free, size):
            chosen = list(subset) + list(pinned)
            rows = np.bincount([p[0] for p in chosen], minlength=n)
            cols = np.bincount([p[1] for p in chosen], minlength=m)
            if (rows <= cap_rows).all() and (cols <= cap_cols).all():
                best = max(best, sum(scores[p] for p in chosen))
    return float(best)


def lp_plan(
    scores: NDArray[np.float64],
    cap_rows: NDArray[np.int64],
    cap_cols: NDArray[np.int64],
    eligible: NDArray[np.bool_],
) -> float:
    """The LP relaxation (integral for bipartite b-matching) solved by HiGHS."""
    rows, cols = np.nonzero(eligible)
    e = len(rows)
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(e), (rows, np.arange(e))), shape=(scores.shape[0], e)),
            sp.csr_matrix((np.ones(e), (cols, np.arange(e))), shape=(scores.shape[1], e)),
        ]
    )
    res = linprog(
        -scores[rows, cols],
        A_ub=a,
        b_ub=np.concatenate([cap_rows, cap_cols]),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0, res.message
    return float(-res.fun)


def channel_matching(partner_channels: list[set[int]]) -> int:
    """How many partners can stand for distinct channels: a maximum matching (networkx)."""
    graph = nx.Graph()
    left = [("p", k) for k in range(len(partner_channels))]
    graph.add_nodes_from(left)
    for k, channels in enumerate(partner_channels):
        graph.add_edges_from((("p", k), ("c", c)) for c in channels)
    matching = nx.bipartite.maximum_matching(graph, top_nodes=left)
    return len(matching) // 2


def brute_force_covered_plan(
    scores: NDArray[np.float64],
    covers: NDArray[np.bool_],
    eligible: NDArray[np.bool_],
    held: NDArray[np.bool_],
    cap_rows: list[int],
    cap_cols: list[int],
    *,
    min_channels: int,
    dockings: tuple[int, ...],
) -> float | None:
    """Best total over every subset of the eligible pairs meeting the coverage rules, or None."""
    n, m = scores.shape
    free = [(i, j) for i in range(n) for j in range(m) if eligible[i, j] and scores[i, j] > 0]
    best: float | None = None
    for size in range(len(free) + 1):
        for subset in itertools.combinations(free, size):
            rows = np.bincount([p[0] for p in subset], minlength=n)
            cols = np.bincount([p[1] for p in subset], minlength=m)
            if (rows > cap_rows).any() or (cols > cap_cols).any():
                continue
            ok = True
            for i in range(n):
                partners = [j for j in range(m) if held[i, j] or (i, j) in subset]
                sets = [set(np.flatnonzero(covers[i, j]).tolist()) for j in partners]
                if channel_matching(sets) < min_channels:
                    ok = False
                if any(not any(c in s for s in sets) for c in dockings):
                    ok = False
            if ok:
                total = float(sum(scores[p] for p in subset))
                best = total if best is None else max(best, total)
    return best
