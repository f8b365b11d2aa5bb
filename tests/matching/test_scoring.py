"""Reciprocal scores: exact on a hand-built network, and their invariants as properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from matching import (
    Network,
    Side,
    Taxonomy,
    Weights,
    explain_link,
    score_components,
    scored_links,
    synthetic_network,
)
from matching.scoring import MIN_WEIGHT, overlap

from .helpers import tiny_network


def test_raw_components_match_the_formulas_by_hand() -> None:
    net = tiny_network()
    comps = score_components(net)
    make, grow = comps.raw[0], comps.raw[1]
    # Profiles become shares of their totals: n0 strengths (0.8, 0, 0.5) -> (8/13, 0, 5/13),
    # needs (0, 0.6, 0) -> (0, 1, 0); e0 strengths (0, 1, 0.6) -> (0, 10/16, 6/16), needs
    # (0.5, 0, 0.2) -> (5/7, 0, 2/7); n1 needs (0.2, 0, 0.9) -> (2/11, 0, 9/11); e1's are units.
    # make (x, y), two directions: n0's x meets e0's need in x (min(8/13, 5/7)); e0's y meets
    # n0's need in y (min(10/16, 1)); averaged over the 2 directions.
    assert make[0, 0] == pytest.approx((8 / 13 + 10 / 16) / 2)
    # n1 strong only in y, e1 needing only y: a full overlap; e1's x meets n1's need 2/11.
    assert make[1, 1] == pytest.approx((1 + 2 / 11) / 2)
    # grow (z) with synergy: n0's z share 5/13 against e0's need share 2/7, n0 needs no z, and
    # both strong in z: min(5/13, 6/16); averaged over 3 directions.
    assert grow[0, 0] == pytest.approx((2 / 7 + 0.0 + 6 / 16) / 3)
    assert grow[1, 0] == pytest.approx((0.0 + 6 / 16 + 0.0) / 3)
    resource, industrial, development, cooperation = comps.raw[2:]
    assert resource[0, 1] == pytest.approx(0.9 * (1 - 0.3))
    assert industrial[1, 0] == pytest.approx(0.2 * 0.5)
    assert development[0, 0] == pytest.approx(1 - abs(0.3 - 0.9))
    assert cooperation[0, 0] == pytest.approx(0.5 * 0.5 * 0.4 + 0.5 * 0.6)
    assert cooperation[1, 1] == pytest.approx(0.0)


def test_score_is_the_weighted_sum_and_explanation_adds_up() -> None:
    net = tiny_network()
    weights = Weights.resolve(net.taxonomy, {"make": 2.0, "industrial_base": 0.0})
    comps = score_components(net)
    scores = comps.combine(weights)
    ex = explain_link(net, 0, 0, weights)
    assert ex.score == pytest.approx(scores[0, 0], rel=1e-12)
    assert [c.component for c in ex.contributions] == [
        "make",
        "grow",
        "resource_endowment",
        "development_level",
        "cooperation_status",
    ]
    make = ex.contributions[0]
    assert [(t.sector, t.direction) for t in make.terms] == [
        ("x", "northeast_to_east"),
        ("y", "east_to_northeast"),
    ]
    assert make.terms[0].value == pytest.approx(2.0 * min(8 / 13, 5 / 7) / 2)
    assert (make.terms[0].northeast_value, make.terms[0].east_value) == (0.8, 0.5)
    assert make.terms[0].northeast_share == pytest.approx(8 / 13)
    assert make.terms[0].east_share == pytest.approx(5 / 7)
    grow = ex.contributions[1]
    assert [t.direction for t in grow.terms] == ["northeast_to_east", "synergy"]
    coop = ex.contributions[-1]
    assert [t.direction for t in coop.terms] == ["mutual", "ties"]
    assert coop.terms[1].value == pytest.approx(0.05 * 0.5 * 0.6)
    assert ex.existing is True


def networks() -> st.SearchStrategy[tuple[int, int, int]]:
    return st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 10_000))


def weight_changes(component_ids: tuple[str, ...]) -> st.SearchStrategy[dict[str, float]]:
    # A weight is 0 (off) or at least MIN_WEIGHT.
    weights = st.just(0.0) | st.floats(MIN_WEIGHT, 5, allow_nan=False)
    return st.dictionaries(st.sampled_from(component_ids), weights, max_size=6)


@settings(max_examples=60, deadline=None)
@given(networks(), st.data())
def test_scores_are_nonnegative_additive_and_linear(
    shape: tuple[int, int, int], data: st.DataObject
) -> None:
    n, m, seed = shape
    net = synthetic_network(n, m, seed=seed)
    comps = score_components(net)
    ids = net.taxonomy.component_ids
    changes = data.draw(weight_changes(ids))
    assume(any({**net.taxonomy.default_weights(), **changes}.values()))
    w = Weights.resolve(net.taxonomy, changes)
    scores = comps.combine(w)
    assert (comps.raw >= 0).all() and (comps.raw <= 1 + 1e-12).all()
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, m - 1))
    ex = explain_link(net, i, j, w)
    assert math.isclose(ex.score, scores[i, j], rel_tol=1e-9, abs_tol=1e-12)
    for c in ex.contributions:
        assert all(t.value > 0 for t in c.terms)
        assert math.isclose(c.value, math.fsum(t.value for t in c.terms), abs_tol=1e-15)
        assert c.weight > 0
    assert {c.component for c in ex.contributions} == {k for k, v in w.as_dict().items() if v > 0}
    # Linear in the weights: w1 + w2 scores the sum of the two scores.
    other = Weights.resolve(net.taxonomy, data.draw(weight_changes(ids)))
    both = Weights(component_ids=ids, vector=w.vector + other.vector)
    assert np.allclose(comps.combine(both), scores + comps.combine(other))


@settings(max_examples=40, deadline=None)
@given(networks(), st.data())
def test_raising_a_channel_weight_never_lowers_that_channel(
    shape: tuple[int, int, int], data: st.DataObject
) -> None:
    n, m, seed = shape
    net = synthetic_network(n, m, seed=seed)
    comps = score_components(net)
    channel = data.draw(st.sampled_from(net.taxonomy.channel_ids))
    low = data.draw(st.floats(0.01, 2))
    high = low + data.draw(st.floats(0, 2))
    k = net.taxonomy.component_ids.index(channel)
    for value in (low, high):
        w = Weights.resolve(net.taxonomy, {channel: value})
        assert np.allclose(w.vector[k] * comps.raw[k], value * comps.raw[k])
    lo = Weights.resolve(net.taxonomy, {channel: low})
    hi = Weights.resolve(net.taxonomy, {channel: high})
    assert (comps.combine(hi) >= comps.combine(lo) - 1e-12).all()


def test_zero_weight_removes_the_channel_from_every_explanation() -> None:
    net = synthetic_network(4, 4, seed=3)
    w = Weights.resolve(net.taxonomy, {"agriculture": 0.0})
    for i in range(4):
        for j in range(4):
            assert "agriculture" not in {
                c.component for c in explain_link(net, i, j, w).contributions
            }
    (link,) = scored_links(net, score_components(net), w, [0], [0])
    assert "agriculture" not in link.contributions


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agriculture": -1.0}, "`weights.agriculture` must be in [0, 1e+06], got -1.0"),
        ({"agriculture": 1e308}, "`weights.agriculture` must be in [0, 1e+06], got 1e+308"),
        ({"agriculture": float("nan")}, "`weights.agriculture` must be finite"),
        ({"agriculture": float("inf")}, "`weights.agriculture` must be finite"),
        ({"tourism": 1.0}, "`weights`: unknown component 'tourism'"),
    ],
)
def test_bad_weights_are_refused_by_name(
    taxonomy: Taxonomy, changes: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        Weights.resolve(taxonomy, changes)
    assert message in str(caught.value)


def test_all_zero_weights_are_refused() -> None:
    net = tiny_network()
    zero = {c: 0.0 for c in net.taxonomy.component_ids}
    with pytest.raises(ValueError, match="all weights are zero"):
        Weights.resolve(net.taxonomy, zero)


def test_vectorised_scores_match_a_naive_per_pair_scorer() -> None:
    net = synthetic_network(7, 9, seed=11)
    w = Weights.resolve(net.taxonomy)
    scores = score_components(net).combine(w)
    for i in range(7):
        for j in range(9):
            assert scores[i, j] == pytest.approx(explain_link(net, i, j, w).score, rel=1e-12)


# The channel model: shares, Michaely and Finger-Kreinin ---------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 40), st.integers(0, 10_000))
def test_overlap_is_the_sum_of_minima(n: int, m: int, width: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.random((n, width)) * (rng.random((n, width)) < 0.5)
    b = rng.random((m, width)) * (rng.random((m, width)) < 0.5)
    brute = np.array([[np.minimum(a[i], b[j]).sum() for j in range(m)] for i in range(n)])
    assert np.allclose(overlap(a, b), brute, atol=1e-12)
    assert (overlap(a, b) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(networks(), st.floats(0.05, 1.0), st.booleans(), st.booleans())
def test_scaling_one_regions_profile_changes_no_channel_value(
    shape: tuple[int, int, int], factor: float, northeast: bool, needs: bool
) -> None:
    n, m, seed = shape
    net = synthetic_network(n, m, seed=seed)
    side_name = "northeast" if northeast else "east"
    side = net.side(side_name)
    row = seed % len(side)
    kind = "needs" if needs else "strengths"
    scaled = getattr(side, kind).copy()
    scaled[row] *= factor
    changed = Side(side.ids, side.levels, **{**_arrays(side), kind: scaled})
    other = Network(
        net.taxonomy,
        changed if northeast else net.northeast,
        net.east if northeast else changed,
        net.ties,
        net.existing,
    )
    channels = len(net.taxonomy.channels)
    before = score_components(net).raw[:channels]
    after = score_components(other).raw[:channels]
    assert np.allclose(before, after, atol=1e-12)


def _arrays(side: Side) -> dict[str, np.ndarray]:
    return {"strengths": side.strengths, "needs": side.needs, "factors": side.factors}


def test_a_region_listing_every_strength_higher_is_nobodys_better_partner(shipped_network) -> None:
    net = shipped_network
    w = Weights.resolve(net.taxonomy, {f: 0.0 for f in net.taxonomy.factor_ids})
    shenzhen = net.east.index["shenzhen"]
    inflated = net.east.strengths.copy()
    # Every strength of Shenzhen up by the same factor, the largest to 1.
    inflated[shenzhen] /= inflated[shenzhen].max()
    assert (inflated[shenzhen] >= net.east.strengths[shenzhen]).all()
    east = Side(net.east.ids, net.east.levels, inflated, net.east.needs, net.east.factors)
    bigger = Network(net.taxonomy, net.northeast, east, net.ties, net.existing)
    before = score_components(net).combine(w)
    after = score_components(bigger).combine(w)
    assert np.allclose(before, after, atol=1e-12)
    assert (np.argsort(-before, axis=1) == np.argsort(-after, axis=1)).all()


def test_the_first_direction_summed_over_channels_is_michaelys_index(shipped_network) -> None:
    net = shipped_network
    tax = net.taxonomy
    for i in range(len(net.northeast)):
        for j in range(len(net.east)):
            sigma, nu = net.northeast.strength_shares[i], net.east.need_shares[j]
            michaely = 1 - 0.5 * np.abs(nu - sigma).sum()
            parts = 0.0
            ex = explain_link(net, i, j, Weights.resolve(tax))
            for c in ex.contributions:
                if c.kind != "channel":
                    continue
                directions = 3 if tax.channels[tax.channel_index[c.component]].synergy else 2
                parts += sum(
                    t.value * directions / c.weight
                    for t in c.terms
                    if t.direction == "northeast_to_east"
                )
            assert parts == pytest.approx(michaely, abs=1e-12)


def test_every_sector_can_add_to_some_score_on_the_shipped_data(shipped_network) -> None:
    net = shipped_network
    w = Weights.resolve(net.taxonomy)
    seen = {
        t.sector
        for i in range(len(net.northeast))
        for j in range(len(net.east))
        for c in explain_link(net, i, j, w).contributions
        for t in c.terms
        if t.sector is not None and t.value > 0
    }
    assert seen == set(net.taxonomy.sector_ids)
