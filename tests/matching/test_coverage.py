"""Coverage rules: plans checked against brute force, pricing against the whole MILP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching
import matching.coverage as coverage
from matching import (
    CoverageRules,
    InfeasiblePlanError,
    PlanSettings,
    Scenario,
    Weights,
    covered_channels,
    evaluate_scenario,
    plan_network,
    score_components,
    synthetic_network,
)
from matching.coverage import solve_covered

from .oracles import brute_force_covered_plan, channel_matching

NAMES = (["a", "b", "c"], ["x", "y", "z"])
CHANNELS = ["c0", "c1", "c2"]


@st.composite
def covered_instances(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 3))
    scores = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.9]), min_size=n * m, max_size=n * m))
    ).reshape(n, m)
    covers = np.array(draw(st.lists(st.booleans(), min_size=n * m * 3, max_size=n * m * 3)))
    held = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
    held &= np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
    eligible = ~held & np.array(
        draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    ).reshape(n, m)
    return {
        "scores": scores,
        "covers": covers.reshape(n, m, 3),
        "held": held,
        "eligible": eligible,
        "cap_rows": draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        "cap_cols": draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)),
        "min_channels": draw(st.integers(0, 3)),
        "dockings": tuple(draw(st.sets(st.integers(0, 2), max_size=2))),
    }


@settings(max_examples=300, deadline=None)
@given(covered_instances())
def test_covered_plans_match_brute_force(inst: dict[str, object]) -> None:
    scores, covers, held, eligible = (inst[k] for k in ("scores", "covers", "held", "eligible"))
    cap_rows, cap_cols = inst["cap_rows"], inst["cap_cols"]
    min_channels, dockings = inst["min_channels"], inst["dockings"]
    assert isinstance(scores, np.ndarray) and isinstance(covers, np.ndarray)
    assert isinstance(held, np.ndarray) and isinstance(eligible, np.ndarray)
    assert isinstance(cap_rows, list) and isinstance(cap_cols, list)
    assert isinstance(min_channels, int) and isinstance(dockings, tuple)
    n, m = scores.shape
    expected = brute_force_covered_plan(
        scores, covers, eligible, held, cap_rows, cap_cols,
        min_channels=min_channels, dockings=dockings,
    )  # fmt: skip
    call = dict(min_channels=min_channels, dockings=dockings, channel_names=CHANNELS)
    names = (NAMES[0][:n], NAMES[1][:m])
    if expected is None:
        with pytest.raises(InfeasiblePlanError) as error:
            solve_covered(
                scores, covers, eligible, held, np.array(cap_rows), np.array(cap_cols),
                names=names, **call,  # type: ignore[arg-type]
            )  # fmt: skip
        # Every conflict names a rule and a region.
        for conflict in error.value.conflicts:
            assert conflict.startswith(("`min_channels`: ", "`per_docking`: "))
            assert conflict.split(": ")[1].split(" ")[0] in names[0]
        return
    chosen = solve_covered(
        scores, covers, eligible, held, np.array(cap_rows), np.array(cap_cols),
        names=names, **call,  # type: ignore[arg-type]
    )  # fmt: skip
    assert not (chosen & ~eligible).any()
    assert (chosen.sum(axis=1) <= cap_rows).all() and (chosen.sum(axis=0) <= cap_cols).all()
    assert float(scores[chosen].sum()) == pytest.approx(expected, abs=1e-9)
    for i in range(n):
        partners = np.flatnonzero(held[i] | chosen[i])
        sets = [set(np.flatnonzero(covers[i, j]).tolist()) for j in partners]
        assert channel_matching(sets) >= min_channels


def test_a_partner_covers_the_channels_above_the_share() -> None:
    values = np.array([[[0.5, 0.0]], [[0.3, 0.0]], [[0.2, 0.0]]])
    # By default a channel covers when it has at least an even share (1/3) of the pair's total.
    assert covered_channels(values)[0, 0].tolist() == [True, False, False]
    assert covered_channels(values, cover_share=0.3)[0, 0].tolist() == [True, True, False]
    # A pair sharing nothing covers nothing.
    assert covered_channels(values)[0, 1].tolist() == [False, False, False]


@pytest.mark.parametrize(
    ("seed", "rules"),
    [
        (0, {"min_channels": 2, "per_docking": True}),
        (1, {"min_channels": 2}),
        (2, {"min_channels": 4}),
        (3, {"min_channels": 3}),
    ],
)
def test_pricing_finds_the_whole_milps_optimum(
    seed: int, rules: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    net = synthetic_network(30, 25, seed=seed)
    comps = score_components(net)
    weights = Weights.resolve(net.taxonomy)
    plan_settings = PlanSettings(
        capacity=4,
        coverage=CoverageRules(cover_share=0.05, **rules),  # type: ignore[arg-type]
    )
    whole = plan_network(net, comps, weights, plan_settings)
    monkeypatch.setattr(coverage, "_SOLVE_WHOLE_BELOW", 10)
    priced = plan_network(net, comps, weights, plan_settings)
    assert priced.objective == pytest.approx(whole.objective, abs=1e-9)
    rule_free = plan_network(net, comps, weights, PlanSettings(capacity=4))
    assert whole.objective <= rule_free.objective + 1e-12


def test_each_northeast_region_gets_partners_covering_distinct_channels(
    shipped_network: matching.Network,
) -> None:
    net = shipped_network
    comps = score_components(net)
    weights = Weights.resolve(net.taxonomy)
    rules = CoverageRules(min_channels=3)
    plan = plan_network(net, comps, weights, PlanSettings(capacity=3, coverage=rules))
    chosen = np.zeros(net.shape, dtype=bool)
    for pair in plan.pairs:
        chosen[pair.northeast, pair.east] = True
    channel_values = weights.vector[:7, None, None] * comps.raw[:7]
    covers = covered_channels(channel_values)
    for i in range(net.shape[0]):
        partners = np.flatnonzero(chosen[i] | net.existing[i])
        sets = [set(np.flatnonzero(covers[i, j]).tolist()) for j in partners]
        assert channel_matching(sets) >= 3, net.northeast.ids[i]
    assert "coverage MILP" in plan.message


def test_an_unreachable_docking_is_named_with_its_rule_and_region(
    shipped_network: matching.Network,
) -> None:
    net = shipped_network
    settings_ = PlanSettings(coverage=CoverageRules(per_docking=True))
    with pytest.raises(InfeasiblePlanError) as error:
        plan_network(net, score_components(net), Weights.resolve(net.taxonomy), settings_)
    assert "`per_docking`: liaoning has no partner covering agriculture" in str(error.value)


def test_a_rule_that_capacities_defeat_is_named(shipped_network: matching.Network) -> None:
    net = shipped_network
    # Each northeast region has one official partner; two new ones make three, never four.
    settings_ = PlanSettings(capacity=2, coverage=CoverageRules(min_channels=4))
    with pytest.raises(InfeasiblePlanError) as error:
        plan_network(net, score_components(net), Weights.resolve(net.taxonomy), settings_)
    assert len(error.value.conflicts) == 7
    assert error.value.conflicts[0].startswith(
        "`min_channels`: liaoning cannot get 4 partners covering distinct channels"
    )


def test_at_most_n_new_ties_per_eastern_region(shipped_network: matching.Network) -> None:
    net = shipped_network
    comps, weights = score_components(net), Weights.resolve(net.taxonomy)
    rules = CoverageRules(max_new_per_east=1)
    plan = plan_network(net, comps, weights, PlanSettings(capacity=3, coverage=rules))
    per_east = np.bincount([p.east for p in plan.pairs], minlength=net.shape[1])
    assert per_east.max() == 1
    pins = (("harbin", "beijing"), ("dalian", "beijing"))
    with pytest.raises(InfeasiblePlanError, match="`max_new_per_east`: beijing has 2 pinned"):
        plan_network(net, comps, weights, PlanSettings(pinned=pins, coverage=rules))


def test_scenarios_refuse_coverage_rules_that_need_the_milp(
    shipped_network: matching.Network,
) -> None:
    net = shipped_network
    scenario = Scenario(plan=PlanSettings(coverage=CoverageRules(min_channels=2)))
    with pytest.raises(ValueError, match="`coverage`: a scenario's sensitivity intervals"):
        evaluate_scenario(net, score_components(net), scenario)
    # Without sensitivity the same scenario is planned exactly.
    result = evaluate_scenario(net, score_components(net), scenario, sensitivity=False)
    assert "coverage MILP" in result.plan.message
