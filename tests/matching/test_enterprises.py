"""Partner search is exact: the same answer as scoring every enterprise, filters included."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching.enterprises as enterprises_module
from matching import Weights, score_components
from matching.enterprises import (
    OWNERSHIPS,
    SIZE_BANDS,
    Enterprise,
    EnterpriseModel,
    SearchFilters,
    build_population,
    explain_match,
    population_arrays,
    population_from_arrays,
    search_partners,
    update_population,
)


def random_population(net, side: str, n: int, rng: np.random.Generator, prefix: str):
    tax = net.taxonomy
    regions = net.side(side).ids
    out = []
    for i in range(n):

        def profile() -> dict[str, float]:
            count = int(rng.integers(0, 5))
            sectors = rng.choice(len(tax.sectors), size=count, replace=False)
            # Coarse values make ties common: the tie-break by id is exercised too.
            return {tax.sector_ids[s]: float(rng.choice([0.25, 0.5, 0.75, 1.0])) for s in sectors}

        out.append(
            Enterprise(
                id=f"{prefix}{int(rng.integers(0, 10**6)):06d}-{i}",
                region=str(rng.choice(regions)),
                offers=profile(),
                seeks=profile(),
                size=str(rng.choice(SIZE_BANDS)),
                ownership=str(rng.choice(OWNERSHIPS)),
            )
        )
    return out


def brute_force(model, population, partners, query, query_side, *, k, filters, channel=None):
    features, coefficients = model.query(query, channel=channel)
    dense = np.zeros(model.n_features)
    dense[features] = coefficients
    scores = population.features @ dense
    if query_side == "northeast":
        multiplier = model.multiplier[model.network.northeast.index[query.region]]
    else:
        multiplier = model.multiplier[:, model.network.east.index[query.region]]
    if channel is None:
        scores = scores * multiplier[population.region]
    ok = scores > 0
    if filters.regions is not None:
        ok &= np.isin(population.region, list(filters.regions))
    if filters.ownership is not None:
        ok &= np.isin(population.ownership, list(filters.ownership))
    if filters.size is not None:
        ok &= np.isin(population.size, list(filters.size))
    if filters.min_score is not None:
        ok &= scores >= filters.min_score
    rows = np.flatnonzero(ok)
    order = np.lexsort((rows, -scores[rows]))[:k]
    return [(int(rows[o]), float(scores[rows[o]])) for o in order]


@pytest.fixture(scope="module")
def model(shipped_network):
    net = shipped_network
    return EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 10**6), st.data())
def test_search_equals_brute_force(model, seed, data) -> None:
    rng = np.random.default_rng(seed)
    net = model.network
    query_side = data.draw(st.sampled_from(["northeast", "east"]))
    partner_side = "east" if query_side == "northeast" else "northeast"
    partners = random_population(net, partner_side, int(rng.integers(1, 400)), rng, "p")
    population = build_population(partners, net, partner_side)
    query = random_population(net, query_side, 1, rng, "q")[0]
    k = data.draw(st.integers(1, 30))
    channel = data.draw(st.none() | st.sampled_from(net.taxonomy.channel_ids))
    n_regions = len(net.side(partner_side))
    filters = SearchFilters(
        regions=data.draw(st.none() | st.frozensets(st.integers(0, n_regions - 1), min_size=1)),
        ownership=data.draw(st.none() | st.frozensets(st.integers(0, 3), min_size=1)),
        size=data.draw(st.none() | st.frozensets(st.integers(0, 3), min_size=1)),
        min_score=data.draw(st.none() | st.sampled_from([0.01, 0.05, 0.1])),
    )
    features, coefficients = model.query(query, channel=channel)
    if query_side == "northeast":
        multiplier = model.multiplier[net.northeast.index[query.region]]
    else:
        multiplier = model.multiplier[:, net.east.index[query.region]]
    if channel is not None:
        multiplier = np.ones_like(multiplier)
    # Small block counts exercise the block-maxima bound on small populations too.
    blocks = data.draw(st.sampled_from([1024, 8, 2, 1]))
    with patch.object(enterprises_module, "_BLOCKS", blocks):
        found = search_partners(
            population,
            features,
            coefficients,
            multiplier,
            k=k,
            filters=filters,
        )
    expected = brute_force(
        model, population, partners, query, query_side, k=k, filters=filters, channel=channel
    )
    assert [m.row for m in found] == [row for row, _ in expected]
    assert [m.score for m in found] == pytest.approx([score for _, score in expected], abs=1e-12)


def test_removed_rows_are_never_found(model) -> None:
    rng = np.random.default_rng(3)
    net = model.network
    partners = random_population(net, "east", 300, rng, "p")
    population = build_population(partners, net, "east")
    query = random_population(net, "northeast", 1, rng, "q")[0]
    features, coefficients = model.query(query)
    multiplier = model.multiplier[net.northeast.index[query.region]]
    first = search_partners(population, features, coefficients, multiplier, k=10)
    removed = np.array([m.row for m in first[:3]], dtype=np.int64)
    second = search_partners(population, features, coefficients, multiplier, k=10, removed=removed)
    assert not {m.row for m in second} & {m.row for m in first[:3]}
    assert [m.row for m in second[:7]] == [m.row for m in first[3:]]


def test_explanation_adds_up_and_matches_the_search(model) -> None:
    net = model.network
    harbin = Enterprise(
        "q",
        "harbin",
        offers={"grain": 0.8, "robotics_intelligent_equipment": 0.6},
        seeks={"venture_capital": 0.9},
    )
    partner = Enterprise(
        "p",
        "shanghai",
        offers={"venture_capital": 1.0, "robotics_intelligent_equipment": 0.5},
        seeks={"grain": 0.5},
    )
    ex = explain_match(model, harbin, partner)
    assert sum(ex.contributions.values()) == pytest.approx(ex.score)
    assert {d for _, d, _ in ex.terms} == {"northeast_to_east", "east_to_northeast", "synergy"}
    population = build_population([partner], net, "east")
    features, coefficients = model.query(harbin)
    multiplier = model.multiplier[net.northeast.index["harbin"]]
    (match,) = search_partners(population, features, coefficients, multiplier, k=1)
    assert match.score == pytest.approx(ex.score, abs=1e-12)


def test_a_pair_without_fit_scores_zero_and_the_region_link_raises_a_fit_by_its_bound(model):
    net = model.network
    harbin = Enterprise("q", "harbin", offers={"grain": 0.8}, seeks={})
    # Shenzhen is Harbin's official counterpart (tie 1): the strongest link there can be.
    unrelated = Enterprise("u", "shenzhen", offers={"ict_electronics": 1.0}, seeks={"talent": 1})
    buyer = Enterprise("b", "shenzhen", offers={}, seeks={"grain": 0.5})
    population = build_population([unrelated, buyer], net, "east")
    features, coefficients = model.query(harbin)
    multiplier = model.multiplier[net.northeast.index["harbin"]]
    found = search_partners(population, features, coefficients, multiplier, k=10)
    assert [population.ids[m.row].decode() for m in found] == ["b"]
    assert explain_match(model, harbin, unrelated).score == 0
    explained = explain_match(model, harbin, buyer)
    fit = explained.contributions["agriculture"]
    assert fit < explained.score <= fit * (1 + model.region_weight)
    assert model.multiplier.min() >= 1 and model.multiplier.max() <= 1 + model.region_weight


def test_population_checks() -> None:
    from matching import load_dataset, network_from_dataset

    net = network_from_dataset(load_dataset())
    with pytest.raises(ValueError, match="'beijing' is not a northeast region"):
        build_population([Enterprise("a", "beijing", {}, {})], net, "northeast")
    with pytest.raises(ValueError, match="duplicate id 'a'"):
        build_population(
            [Enterprise("a", "harbin", {}, {}), Enterprise("a", "dalian", {}, {})],
            net,
            "northeast",
        )


def mapped_copy(population, folder: Path):
    """The population written as .npy files and mapped back read-only, as a snapshot is."""
    arrays = {}
    for name, array in population_arrays(population).items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
        arrays[name] = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    return arrays


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.data())
def test_a_population_mapped_from_its_stored_arrays_searches_as_the_built_one(
    model, seed, data
) -> None:
    rng = np.random.default_rng(seed)
    net = model.network
    side = data.draw(st.sampled_from(["northeast", "east"]))
    partners = random_population(net, side, int(rng.integers(0, 300)), rng, "p")
    built = build_population(partners, net, side)
    with tempfile.TemporaryDirectory() as folder:
        mapped = population_from_arrays(mapped_copy(built, Path(folder)), net, side)
        # Nothing was copied into memory: the arrays are the files' pages (and read-only, so a
        # search that wrote into them would fail here).
        assert not mapped.columns.data.flags.writeable and not mapped.ids.flags.writeable
        assert mapped.side == side and mapped.smallest_feature == built.smallest_feature
        assert [mapped.profile(r, net) for r in range(len(mapped))] == sorted(
            partners, key=lambda e: e.id
        )
        for _ in range(5):
            query = random_population(net, "east" if side == "northeast" else "northeast", 1,
                                      rng, "q")[0]  # fmt: skip
            features, coefficients = model.query(query)
            if side == "east":
                multiplier = model.multiplier[net.northeast.index[query.region]]
            else:
                multiplier = model.multiplier[:, net.east.index[query.region]]
            removed = rng.choice(max(len(built), 1), size=min(3, len(built)), replace=False)
            filters = SearchFilters(ownership=frozenset({0, 1}), min_score=0.01)
            for kwargs in ({}, {"filters": filters, "removed": removed.astype(np.int64)}):
                expected = search_partners(built, features, coefficients, multiplier, k=7, **kwargs)
                found = search_partners(mapped, features, coefficients, multiplier, k=7, **kwargs)
                assert found == expected
                holding = mapped.holding(features.tolist())
                assert (holding == built.holding(features.tolist())).all()


def test_stored_arrays_of_another_shape_or_dtype_are_refused(model) -> None:
    net = model.network
    rng = np.random.default_rng(5)
    built = build_population(random_population(net, "east", 50, rng, "p"), net, "east")
    arrays = population_arrays(built)
    nnz = len(built.features.data)

    def refused(changes):
        with pytest.raises(ValueError) as error:
            population_from_arrays(arrays | changes, net, "east")
        return str(error.value)

    assert refused({"member_start": arrays["member_start"][1:]}).startswith(
        "`member_start` must be an array of shape"
    )
    assert (
        refused({"ids": arrays["ids"][:-1]})
        == "`region` must be an array of shape (49,), got (50,)"
    )
    assert refused({"region": arrays["region"].astype(np.int32)}) == (
        "`region` must be an array of int64, got int32 of shape (50,)"
    )
    assert refused({"features_data": arrays["features_data"][:-1]}) == (
        f"`features_data` must be an array of shape ({nnz},), got ({nnz - 1},)"
    )
    assert refused({"columns_data": arrays["columns_data"].astype(np.float64)}).startswith(
        "`columns_data` must be an array of float32"
    )
    assert refused({"smallest_feature": np.zeros(2)}) == (
        "`smallest_feature` must be a 0-d array, got shape (2,)"
    )
    assert refused({"ids": [b"a"] * 50}) == "`ids` must be an array of kind 'S', got list"
    del arrays["position"]
    assert refused({}) == "`arrays` lacks position"


def test_an_empty_population_maps_back_empty(model, tmp_path) -> None:
    built = build_population([], model.network, "northeast")
    mapped = population_from_arrays(mapped_copy(built, tmp_path), model.network, "northeast")
    assert len(mapped) == 0 and mapped.smallest_feature == np.inf
    features, coefficients = model.query(Enterprise("q", "shanghai", {"grain": 1.0}, {}))
    multiplier = model.multiplier[:, model.network.east.index["shanghai"]]
    assert search_partners(mapped, features, coefficients, multiplier, k=3) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_screen_is_the_product_of_the_query_columns_bit_for_bit(model, seed) -> None:
    # The screen adds each column in place: the same sums, in the same order, as the product
    # of the columns copied out (its error bound is that product's).
    rng = np.random.default_rng(seed)
    net = model.network
    partners = random_population(net, "east", int(rng.integers(1, 300)), rng, "p")
    population = build_population(partners, net, "east")
    query = random_population(net, "northeast", 1, rng, "q")[0]
    features, coefficients = model.query(query)
    extra = rng.choice(model.n_features, size=int(rng.integers(0, 5)), replace=False)
    features = np.concatenate([features, extra]).astype(features.dtype)
    coefficients = np.concatenate([coefficients, rng.random(len(extra))]).astype(np.float32)
    expected = np.asarray(population.columns[:, features] @ coefficients)
    found = enterprises_module._screen(population.columns, features, coefficients)
    assert found.dtype == np.float32
    assert np.array_equal(found, expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_exact_scores_of_rows_are_scipys_product_bit_for_bit(model, seed) -> None:
    rng = np.random.default_rng(seed)
    net = model.network
    partners = random_population(net, "east", int(rng.integers(1, 300)), rng, "p")
    population = build_population(partners, net, "east")
    rows = rng.integers(0, len(population), size=int(rng.integers(0, 40)))
    dense = rng.random(model.n_features) * (rng.random(model.n_features) < 0.3)
    expected = population.features[rows] @ dense
    found = enterprises_module._rows_times(population.features, rows, dense)
    assert found.dtype == expected.dtype
    assert np.array_equal(found, expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.data())
def test_an_updated_population_is_the_population_built_from_the_result(model, seed, data) -> None:
    # The oracle: `build_population` of the enterprises the update leaves, array for array.
    rng = np.random.default_rng(seed)
    net = model.network
    side = data.draw(st.sampled_from(["northeast", "east"]))
    start = random_population(net, side, int(rng.integers(0, 40)), rng, "p")
    population = build_population(start, net, side)
    current = {e.id: e for e in start}
    for _ in range(3):
        ids = list(current)
        dropped = [i for i in ids if rng.random() < 0.3] + ["not-there"]
        # Newer versions of some (a fresh profile under the same id) and some new ones.
        newer = random_population(net, side, int(rng.integers(0, 6)), rng, "n")
        renamed = [e for e in ids if rng.random() < 0.2]
        again = random_population(net, side, len(renamed), rng, "r")
        for ident, fresh in zip(renamed, again, strict=True):
            newer.append(Enterprise(ident, fresh.region, fresh.offers, fresh.seeks, fresh.size,
                                    fresh.ownership))  # fmt: skip
        newer = list({e.id: e for e in newer}.values())
        population = update_population(population, net, drop=dropped, add=newer)
        for ident in dropped:
            current.pop(ident, None)
        current.update({e.id: e for e in newer})
        expected = build_population(current.values(), net, side)
        got, want = population_arrays(population), population_arrays(expected)
        assert got.keys() == want.keys()
        for name in want:
            assert got[name].dtype == want[name].dtype, name
            assert np.array_equal(got[name], want[name]), name


def test_an_update_refuses_a_region_of_the_other_side_and_a_repeated_id(model) -> None:
    net = model.network
    base = build_population([Enterprise("a", "dalian", {"grain": 1.0}, {})], net, "northeast")
    with pytest.raises(ValueError, match="not a northeast region"):
        update_population(base, net, add=[Enterprise("b", "shanghai", {}, {})])
    twice = [Enterprise("b", "harbin", {}, {}), Enterprise("b", "harbin", {}, {})]
    with pytest.raises(ValueError, match="duplicate id 'b'"):
        update_population(base, net, add=twice)
