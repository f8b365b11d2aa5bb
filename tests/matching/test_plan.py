"""Plans are exact: checked against brute force and against an LP, never against themselves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching._flow as flow
from matching import (
    InfeasiblePlanError,
    PlanSettings,
    UnknownRegionError,
    Weights,
    plan_network,
    score_components,
    solve_plan,
    synthetic_network,
)

from .oracles import brute_force_plan, lp_plan


@st.composite
def small_instances(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 4))
    values = draw(
        st.lists(
            st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.9]),
            min_size=n * m,
            max_size=n * m,
        )
    )
    scores = np.array(values).reshape(n, m)
    cap_rows = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    cap_cols = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
    cells = [(i, j) for i in range(n) for j in range(m)]
    forbidden = frozenset(draw(st.lists(st.sampled_from(cells), max_size=3)))
    allowed = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
    threshold = draw(st.sampled_from([0.0, 0.2, 0.5]))
    pin_pool = [c for c in cells if c not in forbidden and allowed[c]]
    pinned = (
        frozenset(draw(st.lists(st.sampled_from(pin_pool), max_size=2)))
        if pin_pool
        else (frozenset())
    )
    return {
        "scores": scores,
        "cap_rows": cap_rows,
        "cap_cols": cap_cols,
        "forbidden": forbidden,
        "allowed": allowed,
        "threshold": threshold,
        "pinned": pinned,
    }


@settings(max_examples=300, deadline=None)
@given(small_instances())
def test_plan_matches_brute_force(inst: dict[str, object]) -> None:
    scores = inst["scores"]
    cap_rows, cap_cols = inst["cap_rows"], inst["cap_cols"]
    pinned, forbidden = inst["pinned"], inst["forbidden"]
    assert isinstance(scores, np.ndarray) and isinstance(pinned, frozenset)
    assert isinstance(cap_rows, list) and isinstance(cap_cols, list)
    assert isinstance(forbidden, frozenset)
    pins_fit = all(
        sum(p[0] == i for p in pinned) <= cap_rows[i] for i in range(len(cap_rows))
    ) and all(sum(p[1] == j for p in pinned) <= cap_cols[j] for j in range(len(cap_cols)))
    kwargs = dict(
        capacity=(np.array(cap_rows), np.array(cap_cols)),
        min_score=inst["threshold"],
        pinned=pinned,
        forbidden=forbidden,
        allowed=inst["allowed"],
    )
    if not pins_fit:
        with pytest.raises(InfeasiblePlanError, match="pinned pairs but a capacity of"):
            solve_plan(scores, **kwargs)  # type: ignore[arg-type]
        return
    plan = solve_plan(scores, **kwargs)  # type: ignore[arg-type]
    expected = brute_force_plan(
        scores,
        cap_rows,
        cap_cols,
        threshold=inst["threshold"],  # type: ignore[arg-type]
        pinned=pinned,
        forbidden=forbidden,
        allowed=inst["allowed"],  # type: ignore[arg-type]
    )
    assert plan.objective == pytest.approx(expected, abs=1e-9)
    # The plan itself honours every constraint.
    chosen = {(p.northeast, p.east) for p in plan.pairs}
    assert pinned <= chosen and not (chosen & forbidden)
    rows = np.bincount([p[0] for p in chosen], minlength=len(cap_rows))
    cols = np.bincount([p[1] for p in chosen], minlength=len(cap_cols))
    assert (rows <= cap_rows).all() and (cols <= cap_cols).all()
    assert all(p.pinned == ((p.northeast, p.east) in pinned) for p in plan.pairs)
    assert plan.objective == pytest.approx(sum(p.score for p in plan.pairs))
    assert [p.score for p in plan.pairs] == sorted((p.score for p in plan.pairs), reverse=True)


@pytest.mark.parametrize(("n", "m", "seed"), [(40, 60, 1), (120, 90, 2), (200, 200, 3)])
def test_priced_solver_matches_the_lp_on_dense_instances(
    monkeypatch: pytest.MonkeyPatch, n: int, m: int, seed: int
) -> None:
    # Force the candidate-and-pricing path even on instances small enough to solve whole.
    monkeypatch.setattr(flow, "_SOLVE_WHOLE_BELOW", 0)
    rng = np.random.default_rng(seed)
    scores = rng.random((n, m)) * rng.random((n, m))
    cap_rows = rng.integers(0, 4, n)
    cap_cols = rng.integers(0, 4, m)
    allowed = rng.random((n, m)) > 0.1
    threshold = 0.05
    plan = solve_plan(scores, capacity=(cap_rows, cap_cols), min_score=threshold, allowed=allowed)
    eligible = allowed & (scores >= threshold)
    assert plan.objective == pytest.approx(lp_plan(scores, cap_rows, cap_cols, eligible), rel=1e-8)


def test_instances_solved_together_are_each_solved_exactly() -> None:
    # Sensitivity solves a small problem's instances as one flow: weights of any magnitude side by
    # side (each copy scaled by its own largest), an instance with nothing eligible among them.
    rng = np.random.default_rng(11)
    n, m = 6, 8
    scales = [1.0, 1e-300, 1e6, 1.0, 3e-5, 1.0]
    weights = np.stack([rng.random((n, m)) * rng.random((n, m)) * s for s in scales])
    eligible = rng.random(weights.shape) > 0.3
    eligible[3] = False
    weights[5] = np.where(rng.random((n, m)) < 0.5, 0.0, weights[5])
    cap_rows, cap_cols = rng.integers(0, 3, n), rng.integers(1, 3, m)
    chosen = flow.solve_stack(weights, eligible, cap_rows, cap_cols)
    assert not chosen[3].any()
    for w, e, c in zip(weights, eligible, chosen, strict=True):
        assert (c <= (e & (w > 0))).all()
        assert (c.sum(axis=1) <= cap_rows).all() and (c.sum(axis=0) <= cap_cols).all()
        # The LP oracle (HiGHS) takes weights of 1e-300 for zeros: it sees them scaled to 1.
        top = w.max(where=e, initial=0.0) or 1.0
        best = lp_plan(w / top, cap_rows, cap_cols, e & (w > 0)) if (e & (w > 0)).any() else 0.0
        assert (w / top)[c].sum() == pytest.approx(best, rel=1e-9, abs=1e-12)


def test_plan_on_a_synthetic_network_matches_the_lp() -> None:
    net = synthetic_network(150, 170, seed=5)
    comps = score_components(net)
    w = Weights.resolve(net.taxonomy, {"agriculture": 0.5})
    plan = plan_network(net, comps, w, PlanSettings(capacity=3))
    scores = comps.combine(w)
    cap = np.full(150, 3), np.full(170, 3)
    assert plan.objective == pytest.approx(lp_plan(scores, *cap, ~net.existing), rel=1e-8)
    assert not any(net.existing[p.northeast, p.east] for p in plan.pairs)


def test_small_plan_by_hand() -> None:
    scores = np.array([[0.9, 0.8], [0.7, 0.1]])
    plan = solve_plan(scores, capacity=1)
    assert [(p.northeast, p.east) for p in plan.pairs] == [(0, 1), (1, 0)]
    assert plan.objective == pytest.approx(1.5)
    assert plan.status == "optimal"
    two = solve_plan(scores, capacity=2)
    assert two.objective == pytest.approx(2.5)
    assert solve_plan(scores, capacity=0).pairs == ()
    assert solve_plan(scores, capacity=1, min_score=0.75).objective == pytest.approx(0.9)
    # A pin is in the plan whatever its score: the planner's choice wins over the threshold.
    pinned = solve_plan(scores, capacity=1, min_score=0.75, pinned=[(1, 1)])
    assert {(p.northeast, p.east, p.pinned) for p in pinned.pairs} == {(0, 0, False), (1, 1, True)}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": -1}, "`capacity` must be a non-negative integer, got -1"),
        ({"capacity": 1.5}, "`capacity` must be a non-negative integer, got 1.5"),
        ({"pinned": [(5, 0)]}, "`pinned` pair (5, 0) is outside a 2x2 matrix"),
        ({"min_score": float("nan")}, "`min_score` must be finite"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        solve_plan(np.ones((2, 2)), **kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_conflicts_are_all_named() -> None:
    with pytest.raises(InfeasiblePlanError) as caught:
        solve_plan(
            np.array([[0.9, 0.8], [0.1, 0.5]]),
            capacity=1,
            min_score=0.3,
            pinned=[(0, 0), (0, 1), (1, 0)],
            allowed=[[True, True], [False, True]],
            forbidden=[(0, 1)],
            names=(["harbin", "dalian"], ["beijing", "shanghai"]),
        )
    conflicts = caught.value.conflicts
    assert "pair (harbin, shanghai) is both pinned and forbidden" in conflicts
    assert "pinned pair (dalian, beijing) is not allowed in this plan" in conflicts
    assert "harbin has 2 pinned pairs but a capacity of 1" in conflicts
    assert "beijing has 2 pinned pairs but a capacity of 1" in conflicts


def test_plan_network_checks_ids_ties_and_levels(shipped_network: object) -> None:
    from matching import Network

    assert isinstance(shipped_network, Network)
    net = shipped_network
    comps = score_components(net)
    w = Weights.resolve(net.taxonomy)

    def plan(**kwargs: object) -> object:
        return plan_network(net, comps, w, PlanSettings(**kwargs))  # type: ignore[arg-type]

    with pytest.raises(InfeasiblePlanError, match=r"\(harbin, shenzhen\) is an existing tie"):
        plan(pinned=(("harbin", "shenzhen"),))
    with pytest.raises(ValueError, match="wrong way round"):
        plan(pinned=(("beijing", "harbin"),))
    with pytest.raises(UnknownRegionError, match="`forbidden`: no region with id 'atlantis'"):
        plan(forbidden=(("harbin", "atlantis"),))
    with pytest.raises(ValueError, match="'dalian' is not a east region"):
        plan(pinned=(("harbin", "dalian"),))
    with pytest.raises(InfeasiblePlanError, match="joins a city and a province, but same_level"):
        plan(pinned=(("harbin", "jiangsu"),), same_level=True)
    with pytest.raises(UnknownRegionError, match="`capacities`: no region with id 'atlantis'"):
        plan(capacities={"atlantis": 1})
    result = plan(capacity=1, capacities={"shenzhen": 0}, same_level=True)
    assert isinstance(result, type(plan_network(net, comps, w, PlanSettings())))
    levels = dict(zip(net.northeast.ids, net.northeast.levels, strict=True))
    levels.update(zip(net.east.ids, net.east.levels, strict=True))
    for p in result.pairs:  # type: ignore[attr-defined]
        assert levels[net.northeast.ids[p.northeast]] == levels[net.east.ids[p.east]]
        assert net.east.ids[p.east] != "shenzhen"


def test_min_score_is_relative_so_scaling_weights_changes_no_plan(shipped_network: object) -> None:
    from matching import Network

    assert isinstance(shipped_network, Network)
    net = shipped_network
    comps = score_components(net)
    base = Weights.resolve(net.taxonomy)
    doubled = Weights(component_ids=base.component_ids, vector=base.vector * 2)
    settings_ = PlanSettings(capacity=2, min_score=0.09)
    a = plan_network(net, comps, base, settings_)
    b = plan_network(net, comps, doubled, settings_)
    assert [(p.northeast, p.east) for p in a.pairs] == [(p.northeast, p.east) for p in b.pairs]
    assert b.objective == pytest.approx(2 * a.objective)
    assert 0 < len(a.pairs) < len(plan_network(net, comps, base, PlanSettings()).pairs)


@pytest.mark.parametrize("factor", [1e-300, 1e-150, 1e6])
def test_a_plan_is_the_same_at_any_scale_of_the_weights(shipped_network, factor: float) -> None:
    net = shipped_network
    comps = score_components(net)
    base = Weights.resolve(net.taxonomy)
    scaled = Weights(component_ids=base.component_ids, vector=base.vector * factor)
    a = plan_network(net, comps, base, PlanSettings(capacity=2))
    b = plan_network(net, comps, scaled, PlanSettings(capacity=2))
    assert [(p.northeast, p.east) for p in a.pairs] == [(p.northeast, p.east) for p in b.pairs]
    assert b.objective == pytest.approx(factor * a.objective, rel=1e-9)
