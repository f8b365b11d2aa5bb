"""Independent oracles for the plan solvers: brute force, an LP (HiGHS), a matching (networkx)."""

from __future__ import annotations

import itertools
from collections import Counter

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


def reference_slots(rows: list[int], cols: list[int]) -> list[int]:
    """König edge colouring written plainly: the rules `assign_slots` documents, none of its speed.

    Meetings in order; each takes the lowest colour free at both ends, else a = the lowest free at
    its northeast end, b = the lowest free at its eastern end, and colours a and b are swapped on
    the a/b path from the eastern end first. Slots are then numbered by size, largest first, ties
    by their first meeting.
    """
    degree = max([*Counter(rows).values(), *Counter(cols).values()], default=0)
    colour: list[int] = []
    at: dict[tuple[str, int], dict[int, int]] = {}

    def held(end: tuple[str, int]) -> dict[int, int]:
        return at.setdefault(end, {})

    for meeting, (i, j) in enumerate(zip(rows, cols, strict=True)):
        u, v = ("n", i), ("e", j)
        common = [c for c in range(degree) if c not in held(u) and c not in held(v)]
        if common:
            a = common[0]
        else:
            a = min(c for c in range(degree) if c not in held(u))
            b = min(c for c in range(degree) if c not in held(v))
            path, node, want = [], v, a
            while want in held(node):
                path.append(held(node)[want])
                node = ("n", rows[path[-1]]) if node[0] == "e" else ("e", cols[path[-1]])
                want = b if want == a else a
            for p in path:
                for end in (("n", rows[p]), ("e", cols[p])):
                    del held(end)[colour[p]]
            for p in path:
                colour[p] = b if colour[p] == a else a
                for end in (("n", rows[p]), ("e", cols[p])):
                    held(end)[colour[p]] = p
        colour.append(a)
        held(u)[a] = held(v)[a] = meeting
    counts = Counter(colour)
    first = {c: colour.index(c) for c in counts}
    rank = {c: k for k, c in enumerate(sorted(counts, key=lambda c: (-counts[c], first[c])))}
    return [rank[c] for c in colour]
