from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import (
    UnknownRegionError,
    Weights,
    rank_links,
    score_components,
    suggest_all,
    suggest_partners,
    synthetic_network,
)
from matching.suggest import top_indices


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.9]), min_size=1, max_size=30), st.data())
def test_top_indices_is_a_stable_sort_prefix(values: list[float], data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(values)))
    expected = sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]
    assert top_indices(np.array(values), k).tolist() == expected


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 1000), st.data())
def test_suggestions_are_the_best_untied_partners(
    n: int, m: int, seed: int, data: st.DataObject
) -> None:
    net = synthetic_network(n, m, seed=seed, tie_density=0.3)
    scores = score_components(net).combine(Weights.resolve(net.taxonomy))
    region = data.draw(st.sampled_from(net.northeast.ids + net.east.ids))
    k = data.draw(st.integers(1, 10))
    level = data.draw(st.sampled_from([None, "province", "city"]))
    picks = suggest_partners(net, scores, region=region, k=k, level=level)
    on_ne = region in net.northeast.index
    r = (net.northeast if on_ne else net.east).index[region]
    partners = net.east if on_ne else net.northeast
    row = scores[r] if on_ne else scores[:, r]
    tied = net.existing[r] if on_ne else net.existing[:, r]
    brute = sorted(
        (
            p
            for p in range(len(partners))
            if not tied[p] and row[p] > 0 and (level is None or partners.levels[p] == level)
        ),
        key=lambda p: (-row[p], p),
    )[:k]
    assert [s.partner for s in picks] == brute
    assert [s.value for s in picks] == [float(row[p]) for p in brute]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 1000), st.integers(1, 12), st.data())
def test_every_regions_suggestions_at_once_are_each_regions_own(
    n: int, m: int, seed: int, k: int, data: st.DataObject
) -> None:
    """`suggest_all` gives every region what `suggest_partners` gives it, value for value."""
    net = synthetic_network(n, m, seed=seed, tie_density=0.3)
    scores = score_components(net).combine(Weights.resolve(net.taxonomy))
    # Ties between partners and values that are not positive, which both must leave out.
    coarse = data.draw(st.booleans())
    values = np.round(scores, 1) - 0.2 if coarse else scores
    every = suggest_all(net, values, k=k)
    assert list(every) == [*net.northeast.ids, *net.east.ids]
    for region, picks in every.items():
        assert picks == suggest_partners(net, values, region=region, k=k)


def test_suggestions_refuse_bad_arguments() -> None:
    net = synthetic_network(3, 3, seed=0)
    scores = score_components(net).combine(Weights.resolve(net.taxonomy))
    with pytest.raises(UnknownRegionError, match="no region with id 'atlantis'"):
        suggest_partners(net, scores, region="atlantis")
    with pytest.raises(ValueError, match="`k` must be a positive integer, got 0"):
        suggest_partners(net, scores, region="ne0", k=0)
    with pytest.raises(ValueError, match="`level` must be one of"):
        suggest_partners(net, scores, region="ne0", level="county")


def test_rank_links_orders_best_first_with_row_major_ties() -> None:
    values = np.array([[0.5, 0.2, 0.5], [0.9, 0.5, 0.0]])
    rows, cols = rank_links(values)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [
        (1, 0),
        (0, 0),
        (0, 2),
        (1, 1),
        (0, 1),
        (1, 2),
    ]
    include = values > 0.3
    rows, cols = rank_links(values, include=include, limit=2)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(1, 0), (0, 0)]
    rows, _ = rank_links(values, include=np.zeros_like(include))
    assert rows.size == 0
