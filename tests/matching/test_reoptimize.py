"""Re-solving from a known plan by cancelling negative cycles: checked against HiGHS's LP, with
the labels' proof checked arc by arc."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching._flow import solve_dense
from matching._reoptimize import Labels, Reoptimized, reoptimize
from tests.matching.oracles import lp_plan


def instance(seed: int):
    """Weights, a plan optimal for them, and nearby weights at which to re-solve it."""
    rng = np.random.default_rng(seed)
    n, m = (int(x) for x in rng.integers(2, 40, 2))
    weights = rng.random((n, m)) ** 2
    eligible = rng.random((n, m)) < rng.uniform(0.3, 1.0)
    cap_rows = rng.integers(1, 4, n)
    cap_cols = rng.integers(1, 4, m)
    chosen, _ = solve_dense(weights, eligible, cap_rows, cap_cols, price=False)
    # Moved along a direction, by an amount that sometimes keeps the plan and sometimes not.
    moved = np.abs(weights + rng.uniform(0, 0.1) * rng.standard_normal((n, m)))
    # Some pairs leave (a threshold), which the plan must keep to be re-solved from.
    stays = eligible & (rng.random((n, m)) < 0.95)
    stays |= chosen
    # Candidates: the plan's pairs and a few others; pricing must find the rest.
    pool = chosen | (rng.random((n, m)) < rng.uniform(0.0, 0.5))
    return moved, stays, np.nonzero(chosen), cap_rows, cap_cols, np.flatnonzero(pool)


def value(weights: np.ndarray, plan: tuple[np.ndarray, np.ndarray]) -> float:
    return math.fsum(weights[plan].tolist())


def check_proof(found: Reoptimized, weights, eligible, cap_rows, cap_cols, slack) -> None:
    """The labels leave every residual arc of the found plan a reduced cost of at least -slack."""
    assert found.labels is not None
    d = found.labels.values
    n, m = weights.shape
    rows, cols = found.rows, found.cols
    chosen = np.zeros((n, m), dtype=bool)
    chosen[rows, cols] = True
    row_flow = np.bincount(rows, minlength=n)
    col_flow = np.bincount(cols, minlength=m)
    src, snk = n + m, n + m + 1
    tol = slack + 1e-12
    usable = eligible & (weights > 0)
    # Edges: one outside the plan can be added (row -> column, -w), one in it undone (+w).
    reduced = d[:n, None] - weights - d[None, n : n + m]
    assert (reduced[usable & ~chosen] >= -tol).all()
    assert (-reduced[chosen] >= -tol).all()
    # Source and sink arcs, forwards while they have room, backwards while they carry flow.
    assert (d[:n][row_flow < cap_rows] <= d[src] + tol).all()
    assert (d[src] <= d[:n][row_flow > 0] + tol).all()
    assert (d[snk] <= d[n : n + m][col_flow < cap_cols] + tol).all()
    assert (d[n : n + m][col_flow > 0] <= d[snk] + tol).all()
    if len(rows):
        assert d[snk] <= d[src] + tol
    if len(rows) < cap_rows.sum():
        assert d[src] <= d[snk] + tol


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_reoptimized_plans_are_optimal_and_proven(seed: int) -> None:
    weights, eligible, plan, cap_rows, cap_cols, pool = instance(seed)
    slack = 1e-12
    found = reoptimize(weights, eligible, plan, cap_rows, cap_cols, pool, start=None, slack=slack)
    if found is None:
        return  # gave up: the caller solves (counted in the test below)
    assert (np.bincount(found.rows, minlength=len(cap_rows)) <= cap_rows).all()
    assert (np.bincount(found.cols, minlength=len(cap_cols)) <= cap_cols).all()
    assert eligible[found.rows, found.cols].all() and (weights[found.rows, found.cols] > 0).all()
    best = lp_plan(weights, cap_rows, cap_cols, eligible & (weights > 0))
    assert value(weights, (found.rows, found.cols)) == pytest.approx(best, rel=1e-9, abs=1e-9)
    check_proof(found, weights, eligible, cap_rows, cap_cols, slack)
    # The pool holds what priced in: a second run from it and its labels prices nothing new.
    again = reoptimize(
        weights,
        eligible,
        (found.rows, found.cols),
        cap_rows,
        cap_cols,
        found.pool,
        start=found.labels,
        slack=slack,
    )
    assert again is not None and again.cancelled == 0
    assert np.array_equal(again.pool, found.pool)


def test_reoptimize_mostly_answers_and_cancels_cycles() -> None:
    """The instances above exercise every path: kept plans, cancelled cycles, pricing."""
    answered = cancelled = priced = 0
    for seed in range(200):
        weights, eligible, plan, cap_rows, cap_cols, pool = instance(seed)
        found = reoptimize(
            weights, eligible, plan, cap_rows, cap_cols, pool, start=None, slack=1e-12
        )
        if found is None:
            continue
        answered += 1
        cancelled += found.cancelled > 0
        priced += len(found.pool) > len(pool)
    assert answered >= 180 and cancelled >= 50 and priced >= 50


def test_labels_carried_along_paths_start_at_the_answer() -> None:
    """Labels taken along their paths to the same weights are the labels themselves."""
    weights, eligible, plan, cap_rows, cap_cols, pool = instance(7)
    found = reoptimize(weights, eligible, plan, cap_rows, cap_cols, pool, start=None, slack=0.0)
    assert found is not None and found.labels is not None
    again = reoptimize(
        weights,
        eligible,
        (found.rows, found.cols),
        cap_rows,
        cap_cols,
        found.pool,
        start=Labels(found.labels.values, found.labels.parents),
        slack=0.0,
    )
    assert again is not None and again.labels is not None
    np.testing.assert_allclose(again.labels.values, found.labels.values, rtol=0, atol=1e-12)
