"""Matchmaking rounds are exact: meetings against an LP and brute force on the same candidate
graph, with pins, forbids and existing ties."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from matching import (
    Enterprise,
    InfeasiblePlanError,
    Population,
    build_population,
    candidate_pairs,
    propose_round,
)

from .helpers import brute_scores, check_slots, pair_counts, populations


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
    for enterprise_id, count in pair_counts(pairs).items():
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


def test_rounds_import_no_web_or_database_code() -> None:
    code = (
        "import sys, matching.rounds\n"
        "banned = ('fastapi', 'starlette', 'pydantic', 'sqlalchemy', 'app', 'schemas', 'uvicorn')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in banned)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_enterprises_with_nothing_to_offer_each_other_never_meet(model) -> None:
    net = model.network
    # Harbin and Shenzhen are official counterparts: the strongest region link there is.
    harbin = [Enterprise("a", "harbin", {"grain": 1.0}, {"talent": 0.5})]
    shenzhen = [
        Enterprise("x", "shenzhen", {"ict_electronics": 1.0}, {"venture_capital": 1.0}),
        Enterprise("y", "shenzhen", {}, {"grain": 0.25}),
    ]
    ne = build_population(harbin, net, "northeast")
    east = build_population(shenzhen, net, "east")
    result = propose_round(model, ne, east, b=2, candidates=5)
    assert [(m.northeast, m.east) for m in result.meetings] == [("a", "y")]
