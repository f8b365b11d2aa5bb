"""Matchmaking rounds are exact: candidates against brute force, meetings against an LP and brute
force on the same candidate graph, slots against König's bound."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from matching import InfeasiblePlanError, Weights, score_components
from matching.enterprises import (
    Enterprise,
    EnterpriseModel,
    Population,
    build_population,
    explain_match,
)
from matching.rounds import _Classes, assign_slots, candidate_pairs, propose_round

# Coarse intensities make equal scores common, so the tie-break by id is exercised.
COARSE = (0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def model(shipped_network):
    net = shipped_network
    return EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))


def random_enterprises(
    net,
    side: str,
    n: int,
    rng: np.random.Generator,
    prefix: str,
    *,
    most_sectors: int = 4,
    coarse: bool = True,
    scale: float = 1.0,
    templates: int | None = None,
) -> list[Enterprise]:
    """Random profiles of 0..most_sectors offers and seeks (some blank), ids in random order.

    With `templates`, each enterprise copies the region and profile of one of that many, so
    many profiles are equal.
    """
    tax = net.taxonomy
    regions = net.side(side).ids

    def profile() -> dict[str, float]:
        count = int(rng.integers(0, most_sectors + 1))
        sectors = rng.choice(len(tax.sectors), size=count, replace=False)
        values = rng.choice(COARSE, size=count) if coarse else rng.uniform(0.05, 1.0, size=count)
        return {tax.sector_ids[s]: float(v) * scale for s, v in zip(sectors, values, strict=True)}

    shapes = [(str(rng.choice(regions)), profile(), profile()) for _ in range(templates or n)]
    picks = rng.integers(0, len(shapes), size=n) if templates else np.arange(n)
    return [
        Enterprise(f"{prefix}{int(rng.integers(0, 10**6)):06d}-{i}", *shapes[pick])
        for i, pick in enumerate(picks.tolist())
    ]


def brute_scores(model, northeast: list[Enterprise], east: Population) -> np.ndarray:
    """Every pair's score the way partner search scores it: model.query against the features."""
    net = model.network
    out = np.zeros((len(northeast), len(east)))
    for i, enterprise in enumerate(sorted(northeast, key=lambda e: e.id)):
        features, coefficients = model.query(enterprise)
        dense = np.zeros(model.n_features)
        dense[features] = coefficients
        term = model.region_term[net.northeast.index[enterprise.region]]
        out[i] = east.features @ dense + term[east.region]
    return out


def brute_top_k(scores: np.ndarray, k: int) -> set[tuple[int, int]]:
    """Union of every row's and column's k best positive pairs, equal scores by index."""
    pairs: set[tuple[int, int]] = set()
    for i, row in enumerate(scores):
        positive = np.flatnonzero(row > 0)
        best = positive[np.lexsort((positive, -row[positive]))[:k]]
        pairs |= {(i, int(j)) for j in best}
    for j, col in enumerate(scores.T):
        positive = np.flatnonzero(col > 0)
        best = positive[np.lexsort((positive, -col[positive]))[:k]]
        pairs |= {(int(i), j) for i in best}
    return pairs


def populations(model, seed: int, n: int, m: int, **options):
    rng = np.random.default_rng(seed)
    net = model.network
    ne_list = random_enterprises(net, "northeast", n, rng, "n", **options)
    east_list = random_enterprises(net, "east", m, rng, "e", **options)
    return (
        ne_list,
        east_list,
        build_population(ne_list, net, "northeast"),
        build_population(east_list, net, "east"),
    )


# Candidates ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 150),
    m=st.integers(1, 150),
    k=st.integers(1, 25),
    coarse=st.booleans(),
    most_sectors=st.sampled_from([0, 1, 4]),
    templates=st.sampled_from([None, None, 1, 3, 12]),
)
def test_candidates_are_the_brute_force_top_k(
    model, seed, n, m, k, coarse, most_sectors, templates
) -> None:
    ne_list, _, ne, east = populations(
        model, seed, n, m, coarse=coarse, most_sectors=most_sectors, templates=templates
    )
    rows, cols, scores = candidate_pairs(model, ne, east, k=k)

    expected = brute_scores(model, ne_list, east)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_top_k(expected, k)
    # Sorted by (row, col), each pair once, with exactly the search's scores.
    keys = rows * len(east) + cols
    assert (np.diff(keys) > 0).all()
    assert scores.tolist() == expected[rows, cols].tolist()


@pytest.mark.parametrize(
    ("region_weight", "scale"),
    [
        (0.0, 1.0),  # no region term: many pairs score zero and are never candidates
        (0.1, 1e-12),  # tiny intensities: flat pairs cannot be told apart in float32
        (1e4, 1.0),  # the region term dominates
    ],
)
def test_candidates_are_exact_at_extreme_scales(shipped_network, region_weight, scale) -> None:
    net = shipped_network
    model = EnterpriseModel.build(
        net, score_components(net), Weights.resolve(net.taxonomy), region_weight=region_weight
    )
    rng = np.random.default_rng(7)
    ne_list = random_enterprises(net, "northeast", 120, rng, "n", scale=scale)
    east_list = random_enterprises(net, "east", 90, rng, "e", scale=scale)
    ne = build_population(ne_list, net, "northeast")
    east = build_population(east_list, net, "east")
    for k in (1, 5, 30):
        rows, cols, scores = candidate_pairs(model, ne, east, k=k)
        expected = brute_scores(model, ne_list, east)
        assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_top_k(expected, k)
        assert scores.tolist() == expected[rows, cols].tolist()


def test_profile_classes_hold_equal_profiles_only() -> None:
    # The grouping hashes rows with a projection seeded with 0; rows 1 and 3 collide on it.
    weights = np.random.default_rng(0).random(2)
    features = np.array([[0.0, 0.0], [np.pi / weights[0], 0.0], [0.0, 0.0], [0.0, 0.0]])
    region = np.array([1, 0, 1, 0])
    assert len(set((features @ weights + region * np.pi).tolist())) == 2
    classes = _Classes.group(features, region)
    assert classes.of.tolist() == [0, 1, 0, 2]
    assert classes.reps.tolist() == [0, 1, 3]
    owner, rows = classes.first(np.array([0, 2, 0]), 1)
    assert owner.tolist() == [0, 1, 2] and rows.tolist() == [0, 3, 0]
    owner, rows = classes.first(np.array([0]), None)
    assert rows.tolist() == [0, 2]


def test_candidate_scores_add_up_like_explanations(model) -> None:
    ne_list, east_list, ne, east = populations(model, 11, 60, 60, coarse=False)
    rows, cols, scores = candidate_pairs(model, ne, east, k=5)
    by_id = {e.id: e for e in ne_list + east_list}
    for row, col, score in list(zip(rows.tolist(), cols.tolist(), scores.tolist(), strict=True))[
        ::7
    ]:
        a = by_id[ne.ids[row].decode()]
        b = by_id[east.ids[col].decode()]
        assert score == pytest.approx(explain_match(model, a, b).score, abs=1e-12)


def test_k_beyond_the_population_keeps_every_positive_pair(model) -> None:
    ne_list, _, ne, east = populations(model, 3, 12, 9)
    rows, cols, _ = candidate_pairs(model, ne, east, k=50)
    expected = brute_scores(model, ne_list, east)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == {
        (int(i), int(j)) for i, j in zip(*np.nonzero(expected > 0), strict=True)
    }


def test_an_empty_side_has_no_candidates(model) -> None:
    _, _, ne, east = populations(model, 3, 5, 5)
    empty = build_population([], model.network, "east")
    rows, cols, scores = candidate_pairs(model, ne, empty, k=3)
    assert len(rows) == len(cols) == len(scores) == 0
    assert propose_round(model, ne, empty).meetings == ()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m, ne, ea: candidate_pairs(m, ne, ea, k=0),
            "`k` must be a positive integer, got 0",
        ),
        (lambda m, ne, ea: candidate_pairs(m, ne, ea, k=2.0), "`k` must be a positive integer"),
        (lambda m, ne, ea: candidate_pairs(m, ea, ne, k=2), "`northeast` must be the northeast"),
        (lambda m, ne, ea: propose_round(m, ne, ea, b=-1), "`b` must be a non-negative integer"),
        (lambda m, ne, ea: propose_round(m, ne, ea, b=True), "`b` must be a non-negative"),
        (lambda m, ne, ea: propose_round(m, ne, ea, candidates=0), "`candidates` must be a pos"),
        (lambda m, ne, ea: propose_round(m, ne, ea, min_score=math.nan), "`min_score` must be fin"),
        (lambda m, ne, ea: propose_round(m, ne, ea, min_score="0"), "`min_score` must be a num"),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, b_overrides={"nobody": 1}),
            "`b_overrides`: 'nobody' is not a participant",
        ),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, b_overrides={"a": -2}),
            "`b_overrides['a']` must be a non-negative integer, got -2",
        ),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, forbidden=[("a", "nobody")]),
            "`forbidden`: pair (a, nobody): 'nobody' is not an eastern participant",
        ),
        (
            lambda m, ne, ea: propose_round(m, ne, ea, forbidden=["ax"]),
            "`forbidden`: each pair is (northeast id, east id), got 'ax'",
        ),
    ],
)
def test_bad_arguments_are_named(model, call, message) -> None:
    net = model.network
    ne = build_population([Enterprise("a", "harbin", {"grain": 1.0}, {})], net, "northeast")
    east = build_population([Enterprise("x", "shanghai", {}, {"grain": 1.0})], net, "east")
    with pytest.raises(ValueError, match=re.escape(message)):
        call(model, ne, east)


def test_negative_intensities_are_refused(model) -> None:
    net = model.network
    ne = build_population([Enterprise("a", "harbin", {"grain": -1.0}, {})], net, "northeast")
    east = build_population([Enterprise("x", "shanghai", {}, {"grain": 1.0})], net, "east")
    with pytest.raises(ValueError, match="`northeast`: intensities must be positive and finite"):
        candidate_pairs(model, ne, east, k=1)


# Meetings ----------------------------------------------------------------------------------------


def lp_round(rows, cols, scores, cap_rows, cap_cols, pinned) -> float:
    """The round's LP over given edges (integral for bipartite b-matching), solved by HiGHS."""
    e = len(rows)
    if e == 0:
        return 0.0
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(e), (rows, np.arange(e))), shape=(len(cap_rows), e)),
            sp.csr_matrix((np.ones(e), (cols, np.arange(e))), shape=(len(cap_cols), e)),
        ]
    )
    bounds = np.column_stack([pinned.astype(float), np.ones(e)])
    res = linprog(
        -scores,
        A_ub=a,
        b_ub=np.concatenate([cap_rows, cap_cols]),
        bounds=bounds,
        method="highs",
    )
    assert res.status == 0, res.message
    return float(-res.fun)


def brute_force_round(rows, cols, scores, cap_rows, cap_cols, pinned) -> float:
    """The best total over every subset of the free edges, pins always in."""
    free = np.flatnonzero(~pinned)
    best = -math.inf
    for size in range(len(free) + 1):
        for subset in itertools.combinations(free.tolist(), size):
            chosen = np.concatenate([free[list(subset)], np.flatnonzero(pinned)]).astype(int)
            if (np.bincount(rows[chosen], minlength=len(cap_rows)) <= cap_rows).all() and (
                np.bincount(cols[chosen], minlength=len(cap_cols)) <= cap_cols
            ).all():
                best = max(best, float(scores[chosen].sum()))
    return best


def round_instance(model, seed: int, n: int, m: int, *, pins: int, bans: int, ties: int):
    """Populations and round options: pins drawn apart so that they never conflict."""
    rng = np.random.default_rng(seed)
    _, _, ne, east = populations(model, seed, n, m)
    ne_ids = [x.decode() for x in ne.ids]
    east_ids = [x.decode() for x in east.ids]
    b = int(rng.integers(1, 4))
    overrides = {str(rng.choice(ne_ids + east_ids)): int(rng.integers(b, 5)) for _ in range(2)}
    pinned = list(
        zip(
            rng.choice(ne_ids, size=min(pins, n), replace=False).tolist(),
            rng.choice(east_ids, size=min(pins, n, m), replace=False).tolist(),
            strict=False,
        )
    )
    pairs = [(a, x) for a in ne_ids for x in east_ids if (a, x) not in pinned]
    picks = rng.permutation(len(pairs))
    forbidden = [pairs[p] for p in picks[:bans]]
    existing = [pairs[p] for p in picks[bans : bans + ties]]
    options = {
        "b": b,
        "b_overrides": overrides,
        "min_score": float(rng.choice([0.0, 0.05, 0.1])),
        "pinned": pinned,
        "forbidden": forbidden,
        "existing": existing,
        "exclude_existing": bool(rng.integers(0, 2)),
        "candidates": int(rng.integers(1, 6)),
    }
    return ne, east, options


def solver_graph(model, ne: Population, east: Population, options):
    """The edges, capacities and pins a round is optimal over, rebuilt from the options."""
    rows, cols, scores = candidate_pairs(model, ne, east, k=options["candidates"])
    row_of = {x.decode(): i for i, x in enumerate(ne.ids)}
    col_of = {x.decode(): j for j, x in enumerate(east.ids)}
    cap_rows = np.full(len(ne), options["b"])
    cap_cols = np.full(len(east), options["b"])
    for enterprise_id, value in options["b_overrides"].items():
        if enterprise_id in row_of:
            cap_rows[row_of[enterprise_id]] = value
        if enterprise_id in col_of:
            cap_cols[col_of[enterprise_id]] = value
    pins = {(row_of[a], col_of[x]) for a, x in options["pinned"]}
    out = {(row_of[a], col_of[x]) for a, x in options["forbidden"]} | pins
    if options["exclude_existing"]:
        out |= {(row_of[a], col_of[x]) for a, x in options["existing"]}
    keep = [
        e
        for e, pair in enumerate(zip(rows.tolist(), cols.tolist(), strict=True))
        if pair not in out and scores[e] >= options["min_score"]
    ]
    pin_list = sorted(pins)
    dense = brute_scores_from_populations(model, ne, east)
    edge_rows = np.array(rows[keep].tolist() + [i for i, _ in pin_list], dtype=int)
    edge_cols = np.array(cols[keep].tolist() + [j for _, j in pin_list], dtype=int)
    edge_scores = np.concatenate([scores[keep], [dense[p] for p in pin_list]])
    pinned = np.arange(len(edge_rows)) >= len(keep)
    return edge_rows, edge_cols, edge_scores, cap_rows, cap_cols, pinned


def brute_scores_from_populations(model, ne: Population, east: Population) -> np.ndarray:
    """Every pair's score, from the northeast population's profiles back as enterprises."""
    northeast = [ne.profile(row, model.network) for row in range(len(ne))]
    return brute_scores(model, northeast, east)


def check_round(result, ne: Population, east: Population, options, dense) -> None:
    """Every constraint of the round holds, slots included, and the numbers add up."""
    pairs = [(mt.northeast, mt.east) for mt in result.meetings]
    assert len(set(pairs)) == len(pairs)
    caps = {x.decode(): options["b"] for x in list(ne.ids) + list(east.ids)}
    caps.update(options["b_overrides"])
    for enterprise_id, count in _counts(pairs).items():
        assert count <= caps[enterprise_id]
    assert set(options["pinned"]) <= set(pairs)
    assert not set(options["forbidden"]) & set(pairs)
    if options["exclude_existing"]:
        assert not set(options["existing"]) & set(pairs)
    row_of = {x.decode(): i for i, x in enumerate(ne.ids)}
    col_of = {x.decode(): j for j, x in enumerate(east.ids)}
    pinned = set(options["pinned"])
    for meeting in result.meetings:
        assert meeting.pinned == ((meeting.northeast, meeting.east) in pinned)
        assert meeting.score == dense[row_of[meeting.northeast], col_of[meeting.east]]
        if not meeting.pinned:
            assert meeting.score >= options["min_score"]
    assert result.objective == pytest.approx(sum(mt.score for mt in result.meetings), abs=1e-12)
    check_slots(pairs, [mt.slot for mt in result.meetings], result.slots)
    order = [(mt.slot, mt.northeast, mt.east) for mt in result.meetings]
    assert order == sorted(order)


def _counts(pairs) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a, x in pairs:
        counts[a] = counts.get(a, 0) + 1
        counts[x] = counts.get(x, 0) + 1
    return counts


def check_slots(pairs, slots, n_slots) -> None:
    """No enterprise twice in a slot, and exactly as many slots as the busiest enterprise."""
    seen = set()
    for (a, x), slot in zip(pairs, slots, strict=True):
        assert ("ne", a, slot) not in seen and ("e", x, slot) not in seen
        seen |= {("ne", a, slot), ("e", x, slot)}
    degree = max(_counts(pairs).values(), default=0)
    assert n_slots == degree
    assert set(slots) == set(range(degree))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 40),
    m=st.integers(1, 40),
    pins=st.integers(0, 3),
    bans=st.integers(0, 20),
    ties=st.integers(0, 20),
)
def test_round_is_optimal_against_the_lp(model, seed, n, m, pins, bans, ties) -> None:
    ne, east, options = round_instance(model, seed, n, m, pins=pins, bans=bans, ties=ties)
    result = propose_round(model, ne, east, **options)

    edges = solver_graph(model, ne, east, options)
    assert result.candidates == len(edges[0])
    assert result.status == "optimal"
    # The flow is exact for weights scaled to integers below 2**31: within 1e-9 of the LP.
    assert result.objective == pytest.approx(lp_round(*edges), rel=1e-9, abs=1e-8)
    check_round(result, ne, east, options, brute_scores_from_populations(model, ne, east))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 4),
    m=st.integers(1, 4),
    pins=st.integers(0, 2),
    bans=st.integers(0, 3),
    ties=st.integers(0, 3),
)
def test_round_is_optimal_against_brute_force(model, seed, n, m, pins, bans, ties) -> None:
    ne, east, options = round_instance(model, seed, n, m, pins=pins, bans=bans, ties=ties)
    result = propose_round(model, ne, east, **options)

    edges = solver_graph(model, ne, east, options)
    assert result.objective == pytest.approx(brute_force_round(*edges), abs=1e-9)
    check_round(result, ne, east, options, brute_scores_from_populations(model, ne, east))


def test_with_every_pair_a_candidate_the_round_is_optimal_over_all_pairs(model) -> None:
    ne_list, _, ne, east = populations(model, 5, 25, 30)
    dense = brute_scores(model, ne_list, east)
    result = propose_round(model, ne, east, b=2, candidates=100)
    rows, cols = np.nonzero(dense > 0)
    pinned = np.zeros(len(rows), dtype=bool)
    best = lp_round(rows, cols, dense[rows, cols], np.full(25, 2), np.full(30, 2), pinned)
    assert result.objective == pytest.approx(best, rel=1e-9)


def test_a_small_round_by_hand(model) -> None:
    net = model.network
    ne = build_population(
        [
            Enterprise("grain-co", "harbin", offers={"grain": 1.0}, seeks={}),
            Enterprise("grain-too", "harbin", offers={"grain": 0.5}, seeks={}),
        ],
        net,
        "northeast",
    )
    east = build_population(
        [
            Enterprise("buyer", "shanghai", offers={}, seeks={"grain": 1.0}),
            Enterprise("other-buyer", "shanghai", offers={}, seeks={"grain": 0.2}),
        ],
        net,
        "east",
    )
    # One meeting each: the strong pair and the weak pair beat the two crossed ones.
    result = propose_round(model, ne, east, b=1)
    assert [(mt.northeast, mt.east) for mt in result.meetings] == [
        ("grain-co", "buyer"),
        ("grain-too", "other-buyer"),
    ]
    assert result.slots == 1
    # Forbidding the strong pair crosses them; pinning the weak-strong pair forces the rest.
    crossed = propose_round(model, ne, east, b=1, forbidden=[("grain-co", "buyer")])
    assert {(mt.northeast, mt.east) for mt in crossed.meetings} == {
        ("grain-co", "other-buyer"),
        ("grain-too", "buyer"),
    }
    pinned = propose_round(model, ne, east, b=1, pinned=[("grain-too", "buyer")])
    assert [(mt.northeast, mt.east, mt.pinned) for mt in pinned.meetings] == [
        ("grain-co", "other-buyer", False),
        ("grain-too", "buyer", True),
    ]
    # With two meetings each, all four pairs meet in two slots.
    both = propose_round(model, ne, east, b=2)
    assert len(both.meetings) == 4 and both.slots == 2
    # Existing partners stay out only when asked.
    tie = [("grain-co", "buyer")]
    assert ("grain-co", "buyer") in {
        (mt.northeast, mt.east) for mt in propose_round(model, ne, east, b=1, existing=tie).meetings
    }
    excluded = propose_round(model, ne, east, b=1, existing=tie, exclude_existing=True)
    assert ("grain-co", "buyer") not in {(mt.northeast, mt.east) for mt in excluded.meetings}
    # A threshold above every score leaves no meeting; an override of 0 keeps one out.
    assert propose_round(model, ne, east, min_score=10.0).meetings == ()
    quiet = propose_round(model, ne, east, b=2, b_overrides={"buyer": 0})
    assert "buyer" not in {mt.east for mt in quiet.meetings}


def test_conflicts_are_all_named(model) -> None:
    net = model.network
    ne = build_population(
        [Enterprise(i, "harbin", {"grain": 1.0}, {}) for i in ("a", "b")], net, "northeast"
    )
    east = build_population(
        [Enterprise(i, "shanghai", {}, {"grain": 1.0}) for i in ("x", "y")], net, "east"
    )
    with pytest.raises(InfeasiblePlanError) as caught:
        propose_round(
            model,
            ne,
            east,
            b=1,
            pinned=[("a", "x"), ("b", "x"), ("a", "y"), ("x", "a"), ("zz", "y"), ("b", "y")],
            forbidden=[("a", "x")],
            existing=[("b", "y")],
            exclude_existing=True,
        )
    assert caught.value.conflicts == (
        "pair (a, x) is both pinned and forbidden",
        "pinned pair (x, a): 'x' is not a northeast participant (it is an eastern one) and 'a' "
        "is not an eastern participant (it is a northeast one)",
        "pinned pair (zz, y): 'zz' is not a northeast participant",
        "pinned pair (b, y) are existing partners, which are excluded",
        "a has 2 pinned meetings, more than its limit of 1",
        "b has 2 pinned meetings, more than its limit of 1",
        "x has 2 pinned meetings, more than its limit of 1",
        "y has 2 pinned meetings, more than its limit of 1",
    )


def test_a_round_changes_none_of_its_inputs(model) -> None:
    _, _, ne, east = populations(model, 9, 30, 30)
    before = (ne.features.copy(), east.features.copy(), ne.ids.copy())
    overrides = {ne.ids[0].decode(): 1}
    pinned = [(ne.ids[1].decode(), east.ids[1].decode())]
    propose_round(model, ne, east, b_overrides=overrides, pinned=pinned)
    assert (ne.features != before[0]).nnz == 0 and (east.features != before[1]).nnz == 0
    assert (ne.ids == before[2]).all()
    assert overrides == {ne.ids[0].decode(): 1} and len(pinned) == 1


# Slots -------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=120),
)
def test_slots_colour_any_bipartite_multigraph_with_max_degree_colours(edges) -> None:
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    slots = assign_slots(rows, cols)
    pairs = [(f"n{a}", f"e{x}") for a, x in edges]
    check_slots(pairs, slots.tolist(), int(slots.max(initial=-1)) + 1)
    if len(slots):
        sizes = np.bincount(slots)
        assert (np.diff(sizes) <= 0).all()


def test_slots_need_a_path_swap_on_an_even_cycle() -> None:
    # Colouring in this order, the last meeting finds colour 1 taken at its eastern end: without
    # swapping colours along the path e2-n1-e1 it would need a third slot; the degree is two.
    rows = np.array([0, 1, 1, 0])
    cols = np.array([0, 1, 2, 2])
    slots = assign_slots(rows, cols)
    pairs = [(f"n{a}", f"e{x}") for a, x in zip(rows.tolist(), cols.tolist(), strict=True)]
    check_slots(pairs, slots.tolist(), 2)


@pytest.mark.parametrize(
    ("rows", "cols", "message"),
    [
        ([0, 1], [0], "`rows` and `cols` must have the same length, got 2 and 1"),
        ([0.5], [0], "`rows` must be a 1-d array of integers"),
        ([[0]], [0], "`rows` must be a 1-d array of integers"),
        ([0], [-1], "`cols` must be non-negative, got -1"),
    ],
)
def test_slot_arguments_are_checked(rows, cols, message) -> None:
    with pytest.raises(ValueError, match=message):
        assign_slots(rows, cols)


def test_rounds_import_no_web_or_database_code() -> None:
    code = (
        "import sys, matching.rounds\n"
        "banned = ('fastapi', 'starlette', 'pydantic', 'sqlalchemy', 'app', 'schemas', 'uvicorn')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in banned)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
