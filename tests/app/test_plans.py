"""POST /plans: optimal plans of additional pairs under capacities, pins, forbids and thresholds."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

import pytest

from .conftest import SHIPPED_VERSION

DEFAULT_CAPACITY = 2


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def pairs_of(plan):
    return [(p["northeast"], p["east"]) for p in plan["pairs"]]


def load(plan):
    """How many pairs of the plan each region is in."""
    return Counter(region for pair in pairs_of(plan) for region in pair)


def weights_query(weights):
    changes = {**weights.get("channels", {}), **weights.get("factors", {})}
    return ",".join(f"{name}:{value!r}" for name, value in changes.items()) or None


def best_total(scores, capacities, *, threshold=0.0, pinned=(), forbidden=()):
    """The best total of any feasible set of pairs, by enumerating every feasible set.

    `scores` holds the pairs a plan may add (existing ties already left out). Regions are visited
    northeast side first; each northeast region takes every subset of its partners that fits both
    capacities, so each leaf of the search is one feasible set of pairs.
    """
    allowed = {
        pair: score
        for pair, score in scores.items()
        if pair not in forbidden and (score >= threshold or pair in pinned)
    }
    northeast = sorted({ne for ne, _ in allowed})
    options = {ne: [(e, s) for (n, e), s in allowed.items() if n == ne] for ne in northeast}
    left = Counter({east: capacities(east) for _, east in allowed})
    best = -math.inf

    def visit(index, total, chosen):
        nonlocal best
        if index == len(northeast):
            if set(pinned) <= chosen:
                best = max(best, total)
            return
        ne = northeast[index]
        free = [(e, s) for e, s in options[ne] if left[e] > 0]
        for size in range(min(capacities(ne), len(free)) + 1):
            for subset in combinations(free, size):
                for east, _ in subset:
                    left[east] -= 1
                added = {(ne, east) for east, _ in subset}
                visit(index + 1, total + sum(s for _, s in subset), chosen | added)
                for east, _ in subset:
                    left[east] += 1

    visit(0, 0.0, frozenset())
    return best


def plan_oracle(api, request):
    """The best objective for `request`, by brute force over the scores of GET /links."""
    body = api.get("/links", limit=100, weights=weights_query(request.get("weights", {})))
    regions = api.regions()
    same_level = request.get("same_level", False)
    scores = {
        (link["northeast"], link["east"]): link["score"]
        for link in body["links"]
        if not link["existing"]
        and link["score"] > 0
        and (
            not same_level or regions[link["northeast"]]["level"] == regions[link["east"]]["level"]
        )
    }
    capacity = request.get("capacity", DEFAULT_CAPACITY)
    overrides = request.get("capacities", {})
    return best_total(
        scores,
        lambda region: overrides.get(region, capacity),
        threshold=request.get("min_score", 0.0) * sum(body["weights"].values()),
        pinned={tuple(p) for p in request.get("pinned", [])},
        forbidden={tuple(p) for p in request.get("forbidden", [])},
    )


def test_default_plan_is_optimal_adds_only_new_pairs_and_respects_capacity(api):
    ties = api.ties()
    links = api.links()

    plan = api.post("/plans", {})

    assert plan["status"] == "optimal"
    assert plan["dataset_version"] == SHIPPED_VERSION
    assert plan["threshold"] == 0
    assert plan["pairs"]
    assert close(plan["objective"], sum(p["score"] for p in plan["pairs"]))
    assert max(load(plan).values()) <= DEFAULT_CAPACITY
    assert len(set(pairs_of(plan))) == len(plan["pairs"])
    assert not set(pairs_of(plan)) & ties
    for pair in plan["pairs"]:
        assert pair["pinned"] is False
        assert close(pair["score"], links[(pair["northeast"], pair["east"])]["score"])
        assert close(sum(pair["contributions"].values()), pair["score"])


def test_a_region_with_capacity_zero_is_in_no_pair(api):
    plan = api.post("/plans", {"capacities": {"shenzhen": 0}})

    assert plan["pairs"]
    assert "shenzhen" not in load(plan)
    assert max(load(plan).values()) <= DEFAULT_CAPACITY


def test_same_level_with_capacity_one_pairs_provinces_with_provinces_and_cities_with_cities(api):
    regions = api.regions()

    plan = api.post("/plans", {"capacity": 1, "same_level": True})

    assert plan["pairs"]
    assert max(load(plan).values()) == 1
    for northeast, east in pairs_of(plan):
        assert regions[northeast]["level"] == regions[east]["level"]


def test_a_pinned_pair_is_in_the_plan_and_marked_pinned(api):
    plan = api.post("/plans", {"pinned": [["harbin", "beijing"]]})

    pinned = [(p["northeast"], p["east"]) for p in plan["pairs"] if p["pinned"]]
    assert pinned == [("harbin", "beijing")]
    assert max(load(plan).values()) <= DEFAULT_CAPACITY


def test_a_pinned_pair_below_the_threshold_is_kept_and_nothing_else_is_added(api):
    plan = api.post("/plans", {"pinned": [["harbin", "beijing"]], "min_score": 0.9})

    assert [(p["northeast"], p["east"], p["pinned"]) for p in plan["pairs"]] == [
        ("harbin", "beijing", True)
    ]
    assert plan["pairs"][0]["score"] < plan["threshold"]
    assert close(plan["objective"], plan["pairs"][0]["score"])


def test_a_forbidden_pair_from_the_default_plan_is_left_out(api):
    chosen = pairs_of(api.post("/plans", {}))[0]

    plan = api.post("/plans", {"forbidden": [list(chosen)]})

    assert chosen not in pairs_of(plan)
    assert plan["pairs"]


def test_a_threshold_above_every_score_gives_an_empty_plan(api):
    weights = api.get("/links", limit=1)["weights"]

    plan = api.post("/plans", {"min_score": 0.9})

    assert plan["pairs"] == []
    assert plan["objective"] == 0
    assert close(plan["threshold"], 0.9 * sum(weights.values()))


def median_new_score(api):
    """A score between two of the pairs a plan may add, about half of them above it.

    Halfway between two scores, so that no pair sits on the threshold, where rounding in the sum
    of the weights could decide whether it qualifies.
    """
    scores = sorted({link["score"] for link in api.links().values() if not link["existing"]})
    middle = len(scores) // 2
    return (scores[middle - 1] + scores[middle]) / 2


def test_min_score_is_relative_to_the_sum_of_the_weights(api):
    defaults = api.get("/links", limit=1)["weights"]
    taxonomy = api.get("/taxonomy")
    doubled = {
        group: {item["id"]: 2 * defaults[item["id"]] for item in taxonomy[group]}
        for group in ("channels", "factors")
    }
    min_score = median_new_score(api) / sum(defaults.values())

    plain = api.post("/plans", {"min_score": min_score})
    scaled = api.post("/plans", {"min_score": min_score, "weights": doubled})

    assert plain["pairs"]
    assert close(plain["threshold"], min_score * sum(defaults.values()))
    assert close(scaled["threshold"], 2 * plain["threshold"])
    assert pairs_of(scaled) == pairs_of(plain)
    assert close(scaled["objective"], 2 * plain["objective"])


@pytest.mark.parametrize(
    ("body", "codes", "named"),
    [
        pytest.param(
            {"pinned": [["harbin", "beijing"]], "forbidden": [["harbin", "beijing"]]},
            "InfeasiblePlan",
            ["harbin", "beijing"],
            id="pinned-and-forbidden",
        ),
        pytest.param(
            {"pinned": [["harbin", "shenzhen"]]},
            "InfeasiblePlan",
            ["harbin", "shenzhen"],
            id="pinned-existing-tie",
        ),
        pytest.param(
            {"pinned": [["harbin", "beijing"], ["harbin", "shanghai"], ["harbin", "jiangsu"]]},
            "InfeasiblePlan",
            ["harbin"],
            id="pins-over-capacity",
        ),
        pytest.param(
            {"pinned": [["harbin", "beijing"]], "capacities": {"beijing": 0}},
            "InfeasiblePlan",
            ["beijing"],
            id="pin-on-capacity-zero",
        ),
        pytest.param(
            {"pinned": [["heilongjiang", "beijing"]], "same_level": True},
            "InfeasiblePlan",
            ["heilongjiang", "beijing"],
            id="pin-across-levels",
        ),
        pytest.param(
            {"pinned": [["beijing", "harbin"]]},
            "InvalidRequest",
            ["beijing", "harbin", "wrong way round"],
            id="pair-wrong-way-round",
        ),
        pytest.param(
            {"forbidden": [["beijing", "harbin"]]},
            "InvalidRequest",
            ["wrong way round"],
            id="forbidden-wrong-way-round",
        ),
        pytest.param(
            {"pinned": [["nowhere", "beijing"]]},
            "InvalidRequest",
            ["nowhere"],
            id="unknown-region-pinned",
        ),
        pytest.param(
            {"capacities": {"nowhere": 1}},
            "InvalidRequest",
            ["nowhere"],
            id="unknown-region-capacity",
        ),
        pytest.param(
            {"capacities": {"shenzhen": -1}},
            ("InvalidRequest", "ValidationError"),
            ["shenzhen"],
            id="negative-region-capacity",
        ),
        pytest.param({"capacity": -1}, "ValidationError", ["capacity"], id="negative-capacity"),
        pytest.param(
            {"weights": {"channels": {"cooperation_status": 1}}},
            ("InvalidRequest", "ValidationError"),
            ["cooperation_status"],
            id="factor-given-as-channel",
        ),
        pytest.param(
            {"weights": {"factors": {"agriculture": 1}}},
            ("InvalidRequest", "ValidationError"),
            ["agriculture"],
            id="channel-given-as-factor",
        ),
        pytest.param(
            {"weights": {"channels": {"agriculture": -0.5}}},
            "ValidationError",
            ["agriculture"],
            id="negative-weight",
        ),
        pytest.param({"min_score": 1.5}, "ValidationError", ["min_score"], id="min-score-above-1"),
        pytest.param({"colour": "red"}, "ValidationError", ["colour"], id="unknown-field"),
        pytest.param(
            {"pinned": [["harbin", "beijing", "shanghai"]]},
            "ValidationError",
            ["pinned"],
            id="pair-of-three",
        ),
    ],
)
def test_contradictory_or_invalid_requests_are_a_422_naming_the_culprit(api, body, codes, named):
    error = api.fails("POST", "/plans", 422, codes, json=body)

    text = " ".join([error["detail"], *(e["field"] for e in error.get("errors", []))])
    for word in named:
        assert word in text


def test_all_weights_zero_is_a_422(api):
    taxonomy = api.get("/taxonomy")
    weights = {
        "channels": {c["id"]: 0 for c in taxonomy["channels"]},
        "factors": {f["id"]: 0 for f in taxonomy["factors"]},
    }

    api.fails("POST", "/plans", 422, "InvalidRequest", json={"weights": weights})


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param({"capacity": 1}, id="capacity-1"),
        pytest.param({"capacity": 1, "same_level": True}, id="capacity-1-same-level"),
        pytest.param(
            {"capacity": 1, "weights": {"channels": {"agriculture": 0.6}, "factors": {}}},
            id="capacity-1-agriculture-heavy",
        ),
        pytest.param(
            {
                "capacity": 1,
                "pinned": [["liaoning", "shanghai"]],
                "forbidden": [["harbin", "jiangsu"]],
            },
            id="capacity-1-pin-and-forbid",
        ),
        pytest.param(
            {
                "capacity": 0,
                "capacities": {
                    "harbin": 2,
                    "dalian": 2,
                    "jilin": 1,
                    "beijing": 2,
                    "shanghai": 1,
                    "jiangsu": 2,
                    "guangdong": 1,
                },
            },
            id="few-regions-with-capacity",
        ),
        pytest.param(
            {
                "capacity": 3,
                "capacities": {
                    "liaoning": 0,
                    "jilin": 0,
                    "heilongjiang": 0,
                    "shenyang": 0,
                    "zhejiang": 0,
                    "guangdong": 0,
                    "tianjin": 0,
                },
            },
            id="capacity-3-on-a-small-block",
        ),
    ],
)
def test_plan_objective_is_the_best_feasible_total(api, request_body):
    plan = api.post("/plans", request_body)

    assert close(plan["objective"], plan_oracle(api, request_body))


def test_plan_with_a_threshold_matches_brute_force(api):
    weights_total = sum(api.get("/links", limit=1)["weights"].values())
    request_body = {"capacity": 1, "min_score": median_new_score(api) / weights_total}

    plan = api.post("/plans", request_body)

    assert plan["pairs"]
    assert min(p["score"] for p in plan["pairs"]) >= plan["threshold"]
    assert close(plan["objective"], plan_oracle(api, request_body))


def test_a_huge_region_capacity_is_a_422_or_a_plan(api):
    response = api.client.post("/plans", json={"capacities": {"shenzhen": 10**19}})

    assert response.status_code in (200, 422), response.text


def test_a_huge_finite_weight_is_a_422_or_a_finite_plan(api):
    response = api.client.post(
        "/plans", json={"weights": {"factors": {"development_level": 1e308}}}
    )

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert math.isfinite(response.json()["objective"])
