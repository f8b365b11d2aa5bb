"""Weight intervals are exact: checked against every plan of small instances, enumerated, and
against re-solving the whole graph at sampled weights on dense ones."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching.sensitivity as sensitivity
from matching import PlanSettings, Weights, plan_network, score_components
from matching._flow import WarmStart, solve_dense
from matching._reoptimize import reoptimize
from matching.plan import solve_plan
from matching.scenario import Scenario, evaluate_scenario, plan_intervals
from matching.sensitivity import weight_intervals

TOL = 1e-9


def feasible_plans(static: np.ndarray, cap_rows: np.ndarray, cap_cols: np.ndarray):
    cells = [tuple(c) for c in np.argwhere(static).tolist()]
    for size in range(len(cells) + 1):
        for subset in itertools.combinations(cells, size):
            rows = np.bincount([p[0] for p in subset], minlength=len(cap_rows))
            cols = np.bincount([p[1] for p in subset], minlength=len(cap_cols))
            if (rows <= cap_rows).all() and (cols <= cap_cols).all():
                yield subset


def brute_interval(raw, weights, k, plan0, static, cap_rows, cap_cols, m):
    """The interval of w_k on which plan0 stays optimal, from every feasible plan's line."""
    others = weights.copy()
    others[k] = 0.0
    a = np.tensordot(others, raw, axes=1)
    x = raw[k]
    w_rest = others.sum()
    plans = list(feasible_plans(static, cap_rows, cap_cols))

    def eligible(plan, t):
        return all(
            a[p] + t * x[p] >= m * (w_rest + t) - 1e-15 and a[p] + t * x[p] > 0 for p in plan
        )

    def value(plan, t):
        return sum(a[p] + t * x[p] for p in plan)

    def optimal(t):
        if not eligible(plan0, t):
            return False
        mine = value(plan0, t)
        return all(value(q, t) <= mine + TOL * max(1, abs(mine)) for q in plans if eligible(q, t))

    crit = {0.0, float(weights[k])}
    for q in plans:
        da = sum(a[p] for p in q) - sum(a[p] for p in plan0)
        dx = sum(x[p] for p in q) - sum(x[p] for p in plan0)
        if abs(dx) > 1e-15:
            crit.add(-da / dx)
    for i, j in np.argwhere(static).tolist():
        for zero, rate in ((a[i, j] - m * w_rest, x[i, j] - m), (a[i, j], x[i, j])):
            if abs(rate) > 1e-15:
                crit.add(-zero / rate)
    points = sorted(c for c in crit if c >= 0)
    t0 = float(weights[k])
    start = points.index(t0)
    upper = math.inf
    for left, right in zip(points[start:], points[start + 1 :] + [math.inf], strict=True):
        probe = left + 1.0 if math.isinf(right) else (left + right) / 2
        if not optimal(probe):
            upper = left
            break
        if not math.isinf(right) and not optimal(right):
            upper = right
            break
    lower = 0.0
    for right, left in zip(points[start:0:-1], points[start - 1 :: -1], strict=True):
        if not optimal((left + right) / 2):
            lower = right
            break
        if not optimal(left):
            lower = left
            break
    return lower, upper


def random_instance(seed: int):
    rng = np.random.default_rng(seed)
    n, m = (int(x) for x in rng.integers(1, 4, 2))
    raw = rng.random((3, n, m)) * (rng.random((3, n, m)) < 0.8)
    weights = np.round(rng.uniform(0.1, 1.0, 3), 3)
    static = rng.random((n, m)) < 0.85
    cap = int(rng.integers(1, 3))
    min_score = (0.0, 0.0, 0.2, 0.35)[seed % 4]
    return raw, weights, static, np.full(n, cap), np.full(m, cap), min_score


@pytest.mark.parametrize(
    "solves", ["together", "alone", "reoptimize"], ids=["together", "alone", "reoptimize"]
)
@pytest.mark.parametrize("walk", [False, True], ids=["intersect", "walk"])
@pytest.mark.parametrize("block", range(8))
def test_weight_intervals_match_brute_force(
    block: int, walk: bool, solves: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 400 random instances, a quarter each with no threshold twice, 0.2 and 0.35: thresholds make
    # pairs enter and leave eligibility, the hard case. Small problems go straight to line
    # intersection; `walk` makes them take the path of large ones (a walk out from the weight).
    # Small problems answer their searches' steps together, one flow for all (`together`);
    # `alone` makes each search solve on its own, and `reoptimize` makes them re-solve as large
    # ones do, by cancelling cycles from the plan.
    if walk:
        monkeypatch.setattr(sensitivity, "_FEW_PAIRS", -1)
    if solves == "alone":
        monkeypatch.setattr(sensitivity, "_BATCH_CELLS", -1)
    if solves == "reoptimize":
        monkeypatch.setattr(sensitivity, "_REOPTIMIZE_ABOVE", -1)
    finite = 0
    for seed in range(block * 50, block * 50 + 50):
        raw, weights, static, cap_rows, cap_cols, min_score = random_instance(seed)
        scores = np.tensordot(weights, raw, axes=1)
        plan = solve_plan(
            scores,
            capacity=(cap_rows, cap_cols),
            min_score=min_score * weights.sum(),
            allowed=static,
        )
        plan0 = tuple(sorted((p.northeast, p.east) for p in plan.pairs))
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        rows = np.array([p[0] for p in plan0], dtype=np.int64)
        cols = np.array([p[1] for p in plan0], dtype=np.int64)
        intervals = weight_intervals(
            raw,
            ("a", "b", "c"),
            weights,
            plan=(rows, cols),
            pins=empty,
            static=static,
            cap_rows=cap_rows,
            cap_cols=cap_cols,
            min_score=min_score,
        )
        for k, interval in enumerate(intervals):
            lower, upper = brute_interval(
                raw, weights, k, plan0, static, cap_rows, cap_cols, min_score
            )
            assert interval.lower == pytest.approx(lower, abs=1e-6), (seed, k)
            assert interval.lower <= weights[k] <= interval.upper
            if math.isinf(upper):
                assert math.isinf(interval.upper) and interval.above is None, (seed, k)
                continue
            finite += 1
            assert interval.upper == pytest.approx(upper, abs=1e-6), (seed, k)
            assert interval.above is not None and interval.above.at == interval.upper
            assert interval.above.entering or interval.above.leaving
    assert finite > 0


def test_sensitivity_on_the_shipped_dataset_names_what_changes(shipped_network) -> None:
    net = shipped_network
    comps = score_components(net)
    result = evaluate_scenario(net, comps, Scenario(plan=PlanSettings(capacity=1)))
    assert len(result.sensitivity) == len(net.taxonomy.component_ids)
    plan_pairs = {(p.northeast, p.east) for p in result.plan.pairs}
    for interval in result.sensitivity:
        assert interval.lower <= interval.weight <= interval.upper
        for change in (interval.below, interval.above):
            if change is None:
                continue
            assert set(change.leaving) <= plan_pairs
            assert not set(change.entering) & plan_pairs
            # Re-solving just past the end shows a different plan, as reported.
            step = 1e-7 if change is interval.above else -1e-7
            w = Weights.resolve(net.taxonomy, {interval.component: change.at + step})
            if change.at + step < 0:
                continue
            moved = plan_network(net, comps, w, PlanSettings(capacity=1))
            assert {(p.northeast, p.east) for p in moved.pairs} != plan_pairs
        # Just inside the interval the plan is the same.
        inside = min(interval.upper, interval.weight + 1e-3)
        w = Weights.resolve(net.taxonomy, {interval.component: (interval.weight + inside) / 2})
        same = plan_network(net, comps, w, PlanSettings(capacity=1))
        assert {(p.northeast, p.east) for p in same.pairs} == plan_pairs


def test_plan_intervals_honour_pins(shipped_network) -> None:
    net = shipped_network
    comps = score_components(net)
    w = Weights.resolve(net.taxonomy)
    settings_ = PlanSettings(capacity=1, pinned=(("harbin", "beijing"),))
    plan = plan_network(net, comps, w, settings_)
    for interval in plan_intervals(net, comps, w, settings_, plan):
        for change in (interval.below, interval.above):
            if change is not None:
                harbin_beijing = (net.northeast.index["harbin"], net.east.index["beijing"])
                assert harbin_beijing not in change.leaving


@pytest.mark.parametrize(
    "scenario",
    [
        # Weights spanning more than the solver's 1e9 precision: once a ZeroDivisionError.
        Scenario(
            weights={"resource_endowment": 1e6}, plan=PlanSettings(capacity=3, same_level=True)
        ),
        Scenario(weights={"development_level": 1e6}, plan=PlanSettings(capacity=1)),
    ],
)
def test_intervals_exist_and_hold_the_weight_when_weights_span_a_billion(
    shipped_network, scenario
) -> None:
    result = evaluate_scenario(shipped_network, score_components(shipped_network), scenario)
    assert len(result.sensitivity) == 11
    for interval in result.sensitivity:
        assert 0 <= interval.lower <= interval.weight <= interval.upper


def dense_instance(seed: int):
    """A problem past the size solved whole: priced solves, candidates shared between searches."""
    rng = np.random.default_rng(seed)
    n, m = (int(x) for x in rng.integers(150, 175, 2))
    raw = rng.random((4, n, m)) ** 3 * (rng.random((4, n, m)) < 0.9)
    weights = rng.uniform(0.1, 1.0, 4)
    static = rng.random((n, m)) < 0.97
    cap = int(rng.integers(1, 3))
    min_score = (0.0, 0.1)[seed % 2]
    return raw, weights, static, np.full(n, cap), np.full(m, cap), min_score


def whole_best(raw, weights, static, cap_rows, cap_cols, min_score) -> float:
    """The best total at `weights`, solving the whole eligible graph at once (no pricing)."""
    scores = np.tensordot(weights, raw, axes=1)
    eligible = static & (scores >= min_score * weights.sum()) & (scores > 0)
    chosen, _ = solve_dense(scores, eligible, cap_rows, cap_cols, price=False)
    return math.fsum(scores[chosen].tolist())


def one_run_at_a_time(search, bounds, run, width):
    """A `_skip_runs` that skips nothing: each run is checked on its own."""
    return (run, width)
    yield  # a generator, as the steps of a search are


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_dense_intervals_hold_against_re_solving_at_sampled_weights(seed: int) -> None:
    raw, weights, static, cap_rows, cap_cols, min_score = dense_instance(seed)
    assert np.count_nonzero(static) > 20_000  # past `_flow._SOLVE_WHOLE_BELOW`
    scores = np.tensordot(weights, raw, axes=1)
    plan = solve_plan(
        scores, capacity=(cap_rows, cap_cols), min_score=min_score * weights.sum(), allowed=static
    )
    rows = np.array([p.northeast for p in plan.pairs], dtype=np.int64)
    cols = np.array([p.east for p in plan.pairs], dtype=np.int64)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    options = dict(
        plan=(rows, cols),
        pins=empty,
        static=static,
        cap_rows=cap_rows,
        cap_cols=cap_cols,
        min_score=min_score,
        warm=plan.warm_start,
    )
    intervals = weight_intervals(raw, ("a", "b", "c", "d"), weights, **options)
    # The same ends without candidates shared between searches, each from the plan's own, and
    # checking runs between eligibility events one at a time, not several at once.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sensitivity, "_POOL_GROWTH", 0)
        unshared = weight_intervals(raw, ("a", "b", "c", "d"), weights, **options)
        patch.setattr(sensitivity, "_skip_runs", one_run_at_a_time)
        one_by_one = weight_intervals(raw, ("a", "b", "c", "d"), weights, **options)
        # And every plan solved by the solver, as before cycles were cancelled from the plan: the
        # same ends, to within the solver's precision.
        patch.setattr(sensitivity, "_REOPTIMIZE_ABOVE", math.inf)
        solved = weight_intervals(raw, ("a", "b", "c", "d"), weights, **options)
    ends = [(iv.lower, iv.upper) for iv in intervals]
    assert ends == [(iv.lower, iv.upper) for iv in unshared]
    assert ends == [(iv.lower, iv.upper) for iv in one_by_one]
    for (lower, upper), interval in zip(ends, solved, strict=True):
        assert lower == pytest.approx(interval.lower, rel=1e-9)
        assert upper == pytest.approx(interval.upper, rel=1e-9)

    def plan_value(w: np.ndarray) -> float:
        values = np.tensordot(w, raw, axes=1)[rows, cols]
        return math.fsum(values.tolist())

    for k, interval in enumerate(intervals):
        assert interval.lower <= weights[k] <= interval.upper
        inside = [interval.lower, weights[k], min(interval.upper, weights[k] * 1.5)]
        for t in [*inside, (inside[0] + inside[1]) / 2, (inside[1] + inside[2]) / 2]:
            w = weights.copy()
            w[k] = t
            mine = plan_value(w)
            best = whole_best(raw, w, static, cap_rows, cap_cols, min_score)
            assert best <= mine + 1e-9 * max(1.0, abs(mine)), (k, t)
        if min_score > 0:
            continue  # with a threshold the plan may hold again further out; brute force checks
        # Just past each end another plan is better (by far more than the solver's precision).
        for change, t in (
            (interval.above, interval.upper * (1 + 1e-4)),
            (interval.below, interval.lower * (1 - 1e-4)),
        ):
            if change is None:
                continue
            w = weights.copy()
            w[k] = t
            assert whole_best(raw, w, static, cap_rows, cap_cols, 0.0) > plan_value(w), (k, t)


def test_a_re_solve_returns_the_best_plan_not_one_that_merely_beats_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`_Search.solve` returns the best plan: an interval's end reports it as the plan past it.

    Our plan is the diagonal, tied at s = 0 with swapping rows 0 and 1 and with rotating rows
    2..21. At s = 1 the swap gains 1e-9, inside the tolerance of `beats`, and the rotation 0.5.
    Cycle cancelling from the labels of s = 0 finds the short swap first: stopping there would
    report our plan as still optimal.
    """
    monkeypatch.setattr(sensitivity, "_REOPTIMIZE_ABOVE", -1)
    size = 22
    diagonal = (np.arange(size), np.arange(size))
    base = np.zeros((size, size))
    base[diagonal] = 1.0
    base[0, 1] = base[1, 0] = 1.0
    rotation = np.arange(2, size)
    base[rotation, np.roll(rotation, -1)] = 1.0
    slope = np.zeros_like(base)
    slope[0, 1], slope[2, 3] = 1e-9, 0.5
    caps = np.ones(size, dtype=np.int64)
    eligible = base > 0
    proof = reoptimize(
        base, eligible, diagonal, caps, caps, np.flatnonzero(eligible), start=None, slack=1e-12
    )
    assert proof is not None and proof.labels is not None and not proof.cancelled
    empty = np.zeros(0, dtype=np.int64)

    def problem(base, slope, pairs):  # our plan (the diagonal), one unit of capacity each
        return sensitivity._Problem(
            base=base,
            slope=slope,
            margins=None,
            static=pairs,
            cap_rows=caps,
            cap_cols=caps,
            plan=diagonal,
            pins=(empty, empty),
            s_max=math.inf,
        )

    search = sensitivity._Search(
        problem(base, slope, eligible), WarmStart(candidates=eligible), proof.labels
    )
    found = search.solve(1.0, eligible)
    assert search.beats(search.line(found), 1.0)
    assert math.fsum((base + slope)[found].tolist()) > size + 0.5
    # A swap and a rotation that pay from the same point: the plan past it makes both.
    pairs = np.eye(size, dtype=bool)
    pairs[0, 1] = pairs[1, 0] = True
    pairs[rotation, np.roll(rotation, -1)] = True
    base = np.where(pairs, 1.0, 0.0)
    slope = np.where(pairs & ~np.eye(size, dtype=bool), 1.0, 0.0)
    search = sensitivity._Search(problem(base, slope, pairs), WarmStart(candidates=pairs))
    found = search.solve(1.0, pairs)
    rotated = zip(rotation.tolist(), np.roll(rotation, -1).tolist(), strict=True)
    assert sorted(zip(*(a.tolist() for a in found), strict=True)) == sorted(
        [(0, 1), (1, 0), *rotated]
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_eligibility_events_skip_only_lines_without_roots(seed: int) -> None:
    """Skipping a problem's lines when they cannot cross zero finds the same events as not."""
    rng = np.random.default_rng(seed)
    n, m = 40, 40  # past `_FEW_PAIRS`, where the skip applies
    raw = rng.random((2, n, m)) * (rng.random((2, n, m)) < 0.9)
    weights = rng.uniform(0.1, 1.0, 2)
    scores = np.tensordot(weights, raw, axes=1)
    sign = float(rng.choice([-1.0, 1.0]))
    min_score = float(rng.choice([0.0, 0.0, 0.2]))
    total = float(weights.sum())
    empty = np.zeros(0, dtype=np.int64)
    problem = sensitivity._Problem(
        base=scores,
        slope=sign * raw[0],
        margins=None
        if min_score == 0
        else (scores - min_score * total, sign * (raw[0] - min_score)),
        static=rng.random((n, m)) < 0.95,
        cap_rows=np.ones(n, dtype=np.int64),
        cap_cols=np.ones(m, dtype=np.int64),
        plan=(empty, empty),
        pins=(empty, empty),
        s_max=math.inf if sign > 0 else float(weights[0]),
    )
    start = float(rng.uniform(0, 0.5)) * float(weights[0])
    for stop in (float(weights[0]), float(rng.uniform(1, 5)) * float(weights[0]), math.inf):
        events = sensitivity._eligibility_events(problem, start, stop)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sensitivity, "_FEW_PAIRS", 10**9)
            assert sensitivity._eligibility_events(problem, start, stop) == events


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), wide=st.booleans())
def test_every_searchs_events_at_once_are_those_of_each_search(seed: int, wide: bool) -> None:
    """`_all_events` finds each search's end and events bit for bit as the search would alone."""
    rng = np.random.default_rng(seed)
    n, m = (40, 40) if wide else (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    count = 3
    raw = rng.random((count, n, m)) * (rng.random((count, n, m)) < 0.8)
    raw[0, 0, 0] = 0.0  # a pair with no rate in the first weight
    weights = rng.uniform(0.1, 1.0, count)
    scores = np.tensordot(weights, raw, axes=1)
    min_score = float(rng.choice([0.0, 0.1, 0.35]))
    total = float(weights.sum())
    static = rng.random((n, m)) < 0.9
    cells = np.argwhere(static & (scores >= min_score * total))
    chosen = cells[rng.random(len(cells)) < 0.3]
    plan = (chosen[:, 0].astype(np.int64), chosen[:, 1].astype(np.int64))
    caps = np.ones(n, dtype=np.int64), np.ones(m, dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    events = sensitivity._all_events(raw, scores, static, plan, weights, min_score)
    for index, (k, sign) in enumerate(itertools.product(range(count), (1.0, -1.0))):
        problem = sensitivity._Problem(
            base=scores,
            slope=sign * raw[k],
            margins=None
            if min_score == 0
            else (scores - min_score * total, sign * (raw[k] - min_score)),
            static=static,
            cap_rows=caps[0],
            cap_cols=caps[1],
            plan=plan,
            pins=(empty, empty),
            s_max=math.inf if sign > 0 else float(weights[k]),
        )
        end = min(sensitivity._feasibility_end(problem), problem.s_max)
        assert events[index] == (end, *sensitivity._eligibility_events(problem, 0.0, end))
