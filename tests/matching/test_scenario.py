"""Scenarios: properties planners rely on, and overrides checked against a full rescore."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import (
    Override,
    PlanSettings,
    Scenario,
    UnknownRegionError,
    apply_overrides,
    diff_results,
    evaluate_scenario,
    explain_link,
    plan_network,
    score_components,
    scored_links,
    synthetic_network,
)
from matching.scenario import rescore


@st.composite
def cases(draw: st.DrawFn):
    net = synthetic_network(
        draw(st.integers(2, 9)), draw(st.integers(2, 9)), seed=draw(st.integers(0, 9999))
    )
    plan = PlanSettings(
        capacity=draw(st.integers(0, 3)),
        min_score=draw(st.sampled_from([0.0, 0.05, 0.1])),
        same_level=draw(st.booleans()),
    )
    changes = draw(
        st.dictionaries(
            st.sampled_from(net.taxonomy.component_ids),
            st.floats(0.01, 2.0, allow_nan=False),
            max_size=4,
        )
    )
    return net, plan, changes


@settings(max_examples=40, deadline=None)
@given(cases())
def test_the_baseline_scenario_has_an_empty_diff(case) -> None:
    net, plan, _ = case
    result = evaluate_scenario(net, score_components(net), Scenario(plan=plan), sensitivity=False)
    assert result.diff.entered == () and result.diff.left == ()
    assert result.diff.moved_total == 0 and result.diff.moves == ()


@settings(max_examples=40, deadline=None)
@given(cases())
def test_doubling_every_weight_changes_no_ranking_and_no_plan(case) -> None:
    net, plan, changes = case
    comps = score_components(net)
    once = evaluate_scenario(net, comps, Scenario(weights=changes, plan=plan), sensitivity=False)
    doubled = {c: 2 * w for c, w in once.weights.as_dict().items()}
    twice = evaluate_scenario(net, comps, Scenario(weights=doubled, plan=plan), sensitivity=False)
    assert [(p.northeast, p.east) for p in twice.plan.pairs] == [
        (p.northeast, p.east) for p in once.plan.pairs
    ]
    assert np.allclose(twice.scores, 2 * once.scores)
    for region, picks in once.suggestions.items():
        assert [s.partner for s in twice.suggestions[region]] == [s.partner for s in picks]
    diff = diff_results(once.scores, once.plan, twice.scores, twice.plan, limit=10**6)
    assert diff.entered == () and diff.left == ()
    assert all(m.baseline_rank == m.scenario_rank for m in diff.moves)


@settings(max_examples=30, deadline=None)
@given(cases(), st.data())
def test_a_zero_weight_removes_its_channel_from_every_explanation(case, data) -> None:
    net, plan, changes = case
    channel = data.draw(st.sampled_from(net.taxonomy.channel_ids))
    result = evaluate_scenario(
        net,
        score_components(net),
        Scenario(weights={**changes, channel: 0.0}, plan=plan),
        sensitivity=False,
    )
    n, m = net.shape
    rows, cols = np.divmod(np.arange(n * m), m)
    for link in scored_links(result.network, result.components, result.weights, rows, cols):
        assert channel not in link.contributions
    for i in range(n):
        for j in range(m):
            explained = explain_link(result.network, i, j, result.weights)
            assert channel not in {c.component for c in explained.contributions}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 9999), st.data())
def test_overrides_rescore_only_what_they_touch_and_never_the_stored_network(seed, data) -> None:
    net = synthetic_network(6, 5, seed=seed)
    before = [a.copy() for a in (net.northeast.strengths, net.east.needs, net.east.factors)]
    regions = net.northeast.ids + net.east.ids
    overrides = data.draw(
        st.lists(
            st.one_of(
                st.builds(
                    Override,
                    region=st.sampled_from(regions),
                    sector=st.sampled_from(net.taxonomy.sector_ids),
                    strength=st.floats(0, 1),
                    need=st.none() | st.floats(0, 1),
                ),
                st.builds(
                    Override,
                    region=st.sampled_from(regions),
                    factor=st.sampled_from(net.taxonomy.factor_ids),
                    value=st.floats(0, 1),
                ),
            ),
            max_size=5,
        )
    )
    comps = score_components(net)
    changed, rows, cols = apply_overrides(net, overrides)
    assert np.allclose(
        rescore(comps, changed, rows=rows, cols=cols).raw, score_components(changed).raw
    )
    for original, now in zip(
        before, (net.northeast.strengths, net.east.needs, net.east.factors), strict=True
    ):
        assert np.array_equal(original, now)
    for item in overrides:
        side, index = changed.locate(item.region)
        if item.sector is not None:
            col = changed.taxonomy.sector_index[item.sector]
            last = [o for o in overrides if o.region == item.region and o.sector == item.sector]
            assert changed.side(side).strengths[index, col] == last[-1].strength


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            Override(region="ne0", sector="mining", strength=1),
            "`overrides[0].sector`: unknown sector",
        ),
        (Override(region="ne0", factor="luck", value=1), "`overrides[0].factor` must be one of"),
        (
            Override(region="ne0", sector="grain", strength=1.5),
            "`overrides[0].strength` must be in [0, 1], got 1.5",
        ),
        (
            Override(region="ne0", sector="grain", need=-0.1),
            "`overrides[0].need` must be in [0, 1], got -0.1",
        ),
        (Override(region="ne0", sector="grain"), "sets `strength` and/or `need`"),
        (
            Override(region="ne0", sector="grain", factor="industrial_base", value=1),
            "either a sector or a factor",
        ),
        (
            Override(region="ne0", factor="industrial_base", strength=1),
            "a factor override sets `value`",
        ),
        (Override(region="ne0", sector="grain", strength=float("nan")), "must be finite"),
    ],
)
def test_bad_overrides_are_named(override: Override, message: str) -> None:
    net = synthetic_network(2, 2, seed=0)
    with pytest.raises(ValueError) as caught:
        evaluate_scenario(net, score_components(net), Scenario(overrides=(override,)))
    assert message in str(caught.value)


def test_an_unknown_region_is_named_with_its_override() -> None:
    net = synthetic_network(2, 2, seed=0)
    override = Override(region="atlantis", sector="grain", strength=1)
    with pytest.raises(UnknownRegionError) as caught:
        evaluate_scenario(net, score_components(net), Scenario(overrides=(override,)))
    assert (caught.value.region_id, caught.value.field) == ("atlantis", "overrides[0].region")
    assert str(caught.value) == "`overrides[0].region`: no region with id 'atlantis'"


def test_too_many_overrides_are_refused() -> None:
    net = synthetic_network(2, 2, seed=0)
    many = tuple(Override(region="ne0", sector="grain", strength=0.5) for _ in range(1001))
    with pytest.raises(ValueError, match="at most 1000"):
        apply_overrides(net, many)


def test_an_override_can_bring_a_new_partner_into_the_plan(shipped_network) -> None:
    net = shipped_network
    comps = score_components(net)
    base = evaluate_scenario(net, comps, Scenario(plan=PlanSettings(capacity=1)))
    harbin = net.northeast.index["harbin"]
    planned = {p.east for p in base.plan.pairs if p.northeast == harbin}
    east = next(j for j in range(len(net.east)) if j not in planned and not net.existing[harbin, j])
    east_id = net.east.ids[east]
    # Make the two a perfect fit: the eastern region needs exactly what Harbin is strong in, and
    # is strong in exactly what Harbin needs (as shares, every channel overlaps fully).
    fit = tuple(
        Override(
            region=east_id,
            sector=sector,
            need=float(net.northeast.strengths[harbin, s]),
            strength=float(net.northeast.needs[harbin, s]),
        )
        for s, sector in enumerate(net.taxonomy.sector_ids)
    )
    result = evaluate_scenario(net, comps, Scenario(overrides=fit, plan=PlanSettings(capacity=1)))
    assert (harbin, east) in {(p.northeast, p.east) for p in result.plan.pairs}
    assert (harbin, east) in result.diff.entered
    # A scenario without overrides works on the network itself, no copy.
    assert base.network is net


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 9999),
    capacity=st.integers(1, 3),
    min_score=st.sampled_from([0.0, 0.02]),
    weight=st.floats(0.01, 1.0),
)
def test_a_scenario_plan_started_from_the_baseline_is_the_plan_solved_afresh(
    seed: int, capacity: int, min_score: float, weight: float
) -> None:
    # Past the size solved whole, so the scenario's priced solve starts from the baseline's
    # candidates and potentials; it must find the plan a cold solve finds.
    net = synthetic_network(160, 150, seed=seed)
    comps = score_components(net)
    scenario = Scenario(
        weights={"agriculture": weight},
        overrides=(Override(region=net.east.ids[3], sector="grain", need=1.0),),
        plan=PlanSettings(capacity=capacity, min_score=min_score),
    )
    result = evaluate_scenario(net, comps, scenario, sensitivity=False)
    cold = plan_network(result.network, result.components, result.weights, scenario.plan)
    warm = result.plan.warm_start
    assert warm is not None and warm.potentials is not None  # it was priced
    assert result.plan.pairs == cold.pairs
    assert result.plan.objective == cold.objective
