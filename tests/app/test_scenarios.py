"""What-if scenarios: POST /scenarios/evaluate, saved scenarios and their comparisons."""

from __future__ import annotations

import copy
import json
import math
from datetime import datetime

import pytest

from .conftest import SHIPPED_VERSION

NEW_VERSION = f"{SHIPPED_VERSION}-scenarios.2"
LINKS = 49  # 7 northeast x 7 east regions: `"links": LINKS` returns every link
CHANNELS = 7
FACTORS = 4


def close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def pair_list(items):
    """(northeast, east) of each item of a list of pairs, links, plan pairs or moves, in order."""
    return [(item["northeast"], item["east"]) for item in items]


def pair_set(items):
    return set(pair_list(items))


def by_pair(items):
    return {(item["northeast"], item["east"]): item for item in items}


def ranks(links):
    """Rank of each link (1 = best) in a best-first list of every link."""
    return {pair: rank for rank, pair in enumerate(pair_list(links), start=1)}


def reweighted(grouped, component, value):
    """Grouped request weights with one component set to `value`."""
    return {
        group: {name: value if name == component else weight for name, weight in part.items()}
        for group, part in grouped.items()
    }


def harbin_tianjin_overrides(api):
    """Tianjin made Harbin's perfect fit: it needs what Harbin is strong in, in the same
    proportions, and is strong in what Harbin needs."""
    harbin = api.get("/regions/harbin")
    sectors = [s["id"] for c in api.get("/taxonomy")["channels"] for s in c["sectors"]]

    def value(table, sector):
        return harbin[table][sector]["value"] if sector in harbin[table] else 0.0

    return [
        {
            "region": "tianjin",
            "sector": sector,
            "need": value("strengths", sector),
            "strength": value("needs", sector),
        }
        for sector in sectors
    ]


# What-if evaluation.


def test_baseline_scenario_has_an_empty_diff_and_consistent_parts(api):
    taxonomy = api.get("/taxonomy")
    regions = api.regions()
    ties = api.ties()
    top_links = api.get("/links", limit=20)["links"]

    result = api.post("/scenarios/evaluate", {})

    assert result["dataset_version"] == api.get("/dataset")["version"] == SHIPPED_VERSION
    diff = result["diff"]
    assert diff["entered"] == diff["left"] == diff["moves"] == []
    assert diff["moved_total"] == 0
    plan = result["plan"]
    assert plan["status"] == "optimal" and plan["pairs"]
    assert close(plan["objective"], diff["baseline_objective"])
    assert close(plan["objective"], diff["scenario_objective"])
    assert close(plan["objective"], sum(p["score"] for p in plan["pairs"]))
    assert pair_set(plan["pairs"]) == pair_set(api.post("/plans", {})["pairs"])

    assert pair_list(result["links"]) == pair_list(top_links)
    for link, stored in zip(result["links"], top_links, strict=True):
        assert close(link["score"], stored["score"])
        assert close(sum(link["contributions"].values()), link["score"])

    assert result["suggestions"].keys() == regions.keys() and len(regions) == 14
    for region, picks in result["suggestions"].items():
        assert 1 <= len(picks) <= 5
        partners = [p["partner"] for p in picks]
        assert len(set(partners)) == len(partners)
        assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)
        for pick in picks:
            assert regions[pick["partner"]]["side"] != regions[region]["side"]
            pair = (
                (region, pick["partner"])
                if regions[region]["side"] == "northeast"
                else (pick["partner"], region)
            )
            assert pair not in ties
            assert close(sum(pick["contributions"].values()), pick["score"])

    kinds = {c["id"]: "channel" for c in taxonomy["channels"]} | {
        f["id"]: "factor" for f in taxonomy["factors"]
    }
    defaults = {c["id"]: c["default_weight"] for c in taxonomy["channels"] + taxonomy["factors"]}
    sensitivity = result["sensitivity"]
    assert len(sensitivity) == CHANNELS + FACTORS == len(kinds)
    assert [s["component"] for s in sensitivity] == list(kinds)
    for interval in sensitivity:
        assert interval["kind"] == kinds[interval["component"]]
        assert close(interval["weight"], defaults[interval["component"]])
        assert 0 <= interval["lower"] <= interval["weight"]
        assert interval["upper"] is None or interval["weight"] <= interval["upper"]


def test_k_caps_the_suggestions_of_every_region(api):
    five = api.post("/scenarios/evaluate", {"k": 5})["suggestions"]

    two = api.post("/scenarios/evaluate", {"k": 2})["suggestions"]

    assert two.keys() == five.keys()
    for region, picks in two.items():
        assert picks == five[region][:2]


@pytest.mark.parametrize("min_score", [0.0, 0.1])
def test_doubling_every_weight_changes_no_ranking_and_no_plan(api, min_score):
    taxonomy = api.get("/taxonomy")
    doubled = {
        group: {item["id"]: 2 * item["default_weight"] for item in taxonomy[group]}
        for group in ("channels", "factors")
    }

    plain = api.post("/scenarios/evaluate", {"min_score": min_score, "links": LINKS})
    scaled = api.post(
        "/scenarios/evaluate", {"min_score": min_score, "links": LINKS, "weights": doubled}
    )

    assert plain["plan"]["pairs"]
    if min_score:
        # The threshold bites: it leaves out pairs of the plan without one.
        assert len(plain["plan"]["pairs"]) < len(api.post("/plans", {})["pairs"])
    assert close(scaled["plan"]["threshold"], 2 * plain["plan"]["threshold"])
    assert pair_list(scaled["plan"]["pairs"]) == pair_list(plain["plan"]["pairs"])
    for a, b in zip(plain["plan"]["pairs"], scaled["plan"]["pairs"], strict=True):
        assert close(b["score"], 2 * a["score"])
    assert close(scaled["plan"]["objective"], 2 * plain["plan"]["objective"])
    assert pair_list(scaled["links"]) == pair_list(plain["links"])
    assert len(scaled["links"]) == LINKS
    for a, b in zip(plain["links"], scaled["links"], strict=True):
        assert close(b["score"], 2 * a["score"])
    for region, picks in plain["suggestions"].items():
        assert [p["partner"] for p in scaled["suggestions"][region]] == [
            p["partner"] for p in picks
        ]
    diff = scaled["diff"]
    assert diff["entered"] == diff["left"] == []
    assert diff["moved_total"] == LINKS  # every score doubled; no rank moved
    assert all(m["baseline_rank"] == m["scenario_rank"] for m in diff["moves"])
    for a, b in zip(plain["sensitivity"], scaled["sensitivity"], strict=True):
        assert close(b["lower"], 2 * a["lower"], rel=1e-6)
        assert (a["upper"] is None) == (b["upper"] is None)
        if a["upper"] is not None:
            assert close(b["upper"], 2 * a["upper"], rel=1e-6)


@pytest.mark.parametrize("component", ["agriculture", "cooperation_status"])
def test_a_zero_weight_removes_its_component_from_every_explanation(api, component):
    baseline = api.links()
    assert any(link["contributions"][component] > 0 for link in baseline.values())

    result = api.post(
        "/scenarios/evaluate", {"weights": api.weights_body({component: 0.0}), "links": LINKS}
    )

    assert result["weights"][component] == 0
    assert len(result["links"]) == LINKS
    for link in result["links"]:
        assert component not in link["contributions"]
        assert close(sum(link["contributions"].values()), link["score"])
        stored = baseline[(link["northeast"], link["east"])]
        assert close(link["score"], stored["score"] - stored["contributions"][component])
    for picks in result["suggestions"].values():
        for pick in picks:
            assert component not in pick["contributions"]
    assert result["plan"]["pairs"]
    for pair in result["plan"]["pairs"]:
        assert component not in pair["contributions"]
    (interval,) = [s for s in result["sensitivity"] if s["component"] == component]
    assert interval["weight"] == interval["lower"] == 0
    assert interval["below"] is None


def test_overrides_are_a_view_that_never_touches_the_stored_dataset(api):
    region = api.get("/regions/harbin")
    link = api.get("/links/harbin/beijing")
    document = api.get("/dataset/document")
    baseline = api.post("/scenarios/evaluate", {})
    overrides = [
        {"region": "harbin", "factor": "industrial_base", "value": 0.0},
        {"region": "harbin", "sector": "power_equipment", "strength": 0.0},
        {"region": "beijing", "sector": "grain", "need": 1.0},
    ]

    result = api.post("/scenarios/evaluate", {"overrides": overrides, "links": LINKS})

    assert not close(by_pair(result["links"])[("harbin", "beijing")]["score"], link["score"])
    assert api.get("/regions/harbin") == region
    assert api.get("/links/harbin/beijing") == link
    assert api.get("/dataset/document") == document
    assert api.post("/scenarios/evaluate", {}) == baseline


def test_an_override_that_strengthens_a_pair_brings_it_into_the_plan(api):
    weights = api.weights_body({"agriculture": 0.5})
    baseline_plan = pair_set(api.post("/plans", {"capacity": 1})["pairs"])
    reweighted_plan = pair_set(api.post("/plans", {"capacity": 1, "weights": weights})["pairs"])
    assert ("harbin", "tianjin") not in baseline_plan | reweighted_plan

    result = api.post(
        "/scenarios/evaluate",
        {
            "overrides": harbin_tianjin_overrides(api),
            "weights": weights,
            "capacity": 1,
            "links": LINKS,
        },
    )

    plan = pair_set(result["plan"]["pairs"])
    assert ("harbin", "tianjin") in plan
    assert ("harbin", "tianjin") in pair_set(result["diff"]["entered"])
    assert pair_set(result["diff"]["entered"]) == plan - baseline_plan
    assert pair_set(result["diff"]["left"]) == baseline_plan - plan
    without_overrides = api.get("/links/harbin/tianjin", weights="agriculture:0.5")
    assert by_pair(result["links"])[("harbin", "tianjin")]["score"] > without_overrides["score"]


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param({}, id="baseline"),
        pytest.param({"min_score": 0.09}, id="threshold"),
        pytest.param(
            {"capacity": 1, "weights": {"channels": {"agriculture": 0.3}}},
            id="capacity-1-agriculture-0.3",
        ),
        pytest.param(
            {
                "capacities": {"shenzhen": 0, "harbin": 3},
                "pinned": [["dalian", "beijing"]],
                "forbidden": [["heilongjiang", "jiangsu"]],
                "min_score": 0.1,
            },
            id="capacities-pin-forbid-threshold",
        ),
    ],
)
def test_each_weight_keeps_the_plan_inside_its_interval_and_changes_it_as_announced_outside(
    api, scenario
):
    result = api.post("/scenarios/evaluate", scenario)
    plan = pair_set(result["plan"]["pairs"])
    grouped = api.weights_body(result["weights"])
    settings = {key: value for key, value in scenario.items() if key != "weights"}

    def plan_at(component, value):
        body = {**settings, "weights": reweighted(grouped, component, value)}
        return pair_set(api.post("/plans", body)["pairs"])

    assert plan_at(None, None) == plan
    for interval in result["sensitivity"]:
        component, weight = interval["component"], interval["weight"]
        lower, upper = interval["lower"], interval["upper"]
        assert plan_at(component, (lower + weight) / 2) == plan, interval
        if upper is None:
            assert interval["above"] is None
            assert plan_at(component, 1000 * max(weight, 0.1)) == plan, interval
        else:
            assert plan_at(component, (weight + upper) / 2) == plan, interval
            assert plan_at(component, upper * (1 - 1e-6)) == plan, interval
            assert close(interval["above"]["at"], upper)
            past = plan_at(component, upper * (1 + 1e-6))
            assert past != plan, interval
            assert past - plan == pair_set(interval["above"]["entering"]), interval
            assert plan - past == pair_set(interval["above"]["leaving"]), interval
        if lower == 0:
            assert interval["below"] is None
        else:
            assert plan_at(component, lower * (1 + 1e-6)) == plan, interval
            assert close(interval["below"]["at"], lower)
            past = plan_at(component, lower * (1 - 1e-6))
            assert past != plan, interval
            assert past - plan == pair_set(interval["below"]["entering"]), interval
            assert plan - past == pair_set(interval["below"]["leaving"]), interval


MOVING = {"weights": {"channels": {"agriculture": 0.4}, "factors": {"cooperation_status": 0.1}}}


def test_moves_are_largest_first_and_agree_with_both_rankings(api):
    baseline = api.get("/links", limit=100)["links"]

    result = api.post("/scenarios/evaluate", {**MOVING, "links": LINKS, "moves": 1000})

    scenario = result["links"]
    before, after = ranks(baseline), ranks(scenario)
    old, new = by_pair(baseline), by_pair(scenario)
    moved = {
        pair
        for pair in before
        if before[pair] != after[pair]
        or not math.isclose(old[pair]["score"], new[pair]["score"], rel_tol=1e-12)
    }
    assert any(before[pair] != after[pair] for pair in moved)
    diff = result["diff"]
    assert diff["moved_total"] == len(diff["moves"]) == len(moved)
    assert pair_set(diff["moves"]) == moved
    for move in diff["moves"]:
        pair = (move["northeast"], move["east"])
        assert move["baseline_rank"] == before[pair]
        assert move["scenario_rank"] == after[pair]
        assert close(move["baseline_score"], old[pair]["score"])
        assert close(move["scenario_score"], new[pair]["score"])
    sizes = [
        (
            -abs(m["scenario_rank"] - m["baseline_rank"]),
            -abs(m["scenario_score"] - m["baseline_score"]),
        )
        for m in diff["moves"]
    ]
    assert sizes == sorted(sizes)


def test_links_and_moves_limits_cut_the_lists_but_not_the_total(api):
    full = api.post("/scenarios/evaluate", {**MOVING, "links": LINKS, "moves": 1000})

    cut = api.post("/scenarios/evaluate", {**MOVING, "links": 5, "moves": 3})
    none = api.post("/scenarios/evaluate", {**MOVING, "moves": 0})

    assert cut["links"] == full["links"][:5]
    assert cut["diff"]["moves"] == full["diff"]["moves"][:3]
    assert len(full["diff"]["moves"]) > 3
    assert none["diff"]["moves"] == []
    assert none["links"] == full["links"][:20]
    assert cut["diff"]["moved_total"] == none["diff"]["moved_total"] == full["diff"]["moved_total"]


# Bad input.

ALL_CHANNELS = [
    "equipment",
    "emerging",
    "agriculture",
    "culture_tourism_health",
    "institutions",
    "innovation",
    "platforms",
]
ALL_FACTORS = ["resource_endowment", "industrial_base", "development_level", "cooperation_status"]


@pytest.mark.parametrize(
    ("body", "codes", "named"),
    [
        pytest.param(
            {"overrides": [{"region": "atlantis", "sector": "grain", "strength": 1.0}]},
            "InvalidRequest",
            ["overrides[0].region", "atlantis"],
            id="unknown-region-in-override",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "sector": "unobtainium", "strength": 1.0}]},
            "InvalidRequest",
            ["overrides[0].sector", "unobtainium"],
            id="unknown-sector",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "factor": "luck", "value": 1.0}]},
            "InvalidRequest",
            ["overrides[0].factor", "luck"],
            id="unknown-factor-in-override",
        ),
        pytest.param(
            {"weights": {"factors": {"luck": 1.0}}},
            ("InvalidRequest", "ValidationError"),
            ["weights", "luck"],
            id="unknown-factor-weight",
        ),
        pytest.param(
            {"weights": {"channels": {"mining": 1.0}}},
            ("InvalidRequest", "ValidationError"),
            ["weights", "mining"],
            id="unknown-channel-weight",
        ),
        pytest.param(
            {"weights": {"channels": {"cooperation_status": 0.5}}},
            ("InvalidRequest", "ValidationError"),
            ["weights.channels", "cooperation_status"],
            id="factor-given-as-channel",
        ),
        pytest.param(
            {"weights": {"factors": {"agriculture": 0.5}}},
            ("InvalidRequest", "ValidationError"),
            ["weights.factors", "agriculture"],
            id="channel-given-as-factor",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "sector": "grain", "strength": 1.5}]},
            "ValidationError",
            ["overrides.0.strength"],
            id="strength-above-1",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "factor": "industrial_base", "value": -0.1}]},
            "ValidationError",
            ["overrides.0.value"],
            id="factor-value-below-0",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "strength": 0.5}]},
            "InvalidRequest",
            ["overrides[0]", "sector or a factor"],
            id="override-without-sector-or-factor",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "sector": "grain", "factor": "industrial_base"}]},
            "InvalidRequest",
            ["overrides[0]"],
            id="override-with-sector-and-factor",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "sector": "grain"}]},
            "InvalidRequest",
            ["overrides[0]", "strength"],
            id="sector-override-without-strength-or-need",
        ),
        pytest.param(
            {"overrides": [{"region": "harbin", "factor": "industrial_base"}]},
            "InvalidRequest",
            ["overrides[0]", "value"],
            id="factor-override-without-value",
        ),
        pytest.param(
            {"weights": {"channels": {"agriculture": -1.0}}},
            "ValidationError",
            ["weights.channels.agriculture"],
            id="negative-weight",
        ),
        pytest.param(
            {
                "weights": {
                    "channels": dict.fromkeys(ALL_CHANNELS, 0.0),
                    "factors": dict.fromkeys(ALL_FACTORS, 0.0),
                }
            },
            ("InvalidRequest", "ValidationError"),
            ["weights", "zero"],
            id="all-weights-zero",
        ),
        pytest.param(
            {"pinned": [["harbin", "beijing"]], "forbidden": [["harbin", "beijing"]]},
            "InfeasiblePlan",
            ["harbin", "beijing", "pinned and forbidden"],
            id="pinned-and-forbidden",
        ),
        pytest.param(
            {
                "capacity": 2,
                "pinned": [["harbin", "beijing"], ["harbin", "shanghai"], ["harbin", "tianjin"]],
            },
            "InfeasiblePlan",
            ["harbin", "capacity"],
            id="capacity-below-the-pins",
        ),
        pytest.param(
            {"pinned": [["harbin", "shenzhen"]]},
            "InfeasiblePlan",
            ["harbin", "shenzhen", "existing tie"],
            id="pinned-existing-tie",
        ),
        pytest.param(
            {"pinned": [["atlantis", "beijing"]]},
            "InvalidRequest",
            ["pinned", "atlantis"],
            id="unknown-region-pinned",
        ),
        pytest.param({"k": 0}, "ValidationError", ["body.k"], id="k-0"),
        pytest.param({"k": 101}, "ValidationError", ["body.k"], id="k-101"),
        pytest.param({"links": 0}, "ValidationError", ["body.links"], id="links-0"),
        pytest.param({"moves": -1}, "ValidationError", ["body.moves"], id="moves-negative"),
        pytest.param(
            {"overrides": [{"region": "harbin", "factor": "industrial_base", "value": 0.5}] * 1001},
            "ValidationError",
            ["overrides"],
            id="1001-overrides",
        ),
        pytest.param({"colour": "red"}, "ValidationError", ["colour"], id="unknown-field"),
        pytest.param(
            {
                "overrides": [
                    {"region": "harbin", "factor": "industrial_base", "value": 0.5, "x": 1}
                ]
            },
            "ValidationError",
            ["overrides.0.x"],
            id="unknown-field-in-override",
        ),
    ],
)
def test_bad_scenarios_are_a_422_naming_the_field(api, body, codes, named):
    error = api.fails("POST", "/scenarios/evaluate", 422, codes, json=body)

    text = " ".join([error["detail"], *(e["field"] for e in error.get("errors", []))])
    for word in named:
        assert word in text


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    ("template", "field"),
    [
        ('{"weights": {"channels": {"agriculture": %s}}}', "weights.channels.agriculture"),
        ('{"weights": {"factors": {"industrial_base": %s}}}', "weights.factors.industrial_base"),
        (
            '{"overrides": [{"region": "harbin", "sector": "grain", "strength": %s}]}',
            "overrides.0.strength",
        ),
    ],
    ids=["channel", "factor", "override"],
)
def test_a_non_finite_number_is_a_422_naming_it(api, literal, template, field):
    error = api.fails(
        "POST",
        "/scenarios/evaluate",
        422,
        "ValidationError",
        content=template % literal,
        headers={"Content-Type": "application/json"},
    )

    assert field in error["detail"]


@pytest.mark.parametrize("capacity", [1, 2])
def test_a_pin_listed_twice_is_a_422_or_the_same_scenario_as_listed_once(api, capacity):
    pin = ["harbin", "beijing"]
    once = api.post("/scenarios/evaluate", {"pinned": [pin], "capacity": capacity})
    assert (
        api.post("/plans", {"pinned": [pin, pin], "capacity": capacity})["pairs"]
        == (api.post("/plans", {"pinned": [pin], "capacity": capacity})["pairs"])
    )

    response = api.client.post(
        "/scenarios/evaluate", json={"pinned": [pin, pin], "capacity": capacity}
    )

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert "pinned" in response.json()["detail"]
    else:
        assert response.json() == once


def test_a_thousand_overrides_are_accepted(api):
    overrides = [{"region": "harbin", "factor": "industrial_base", "value": 0.5}] * 1000

    result = api.post("/scenarios/evaluate", {"overrides": overrides})

    assert result["plan"]["pairs"]


def big_scenario(size):
    """A valid scenario whose JSON is about `size` bytes."""
    override = {"region": "harbin", "factor": "industrial_base", "value": 0.5}
    count = size // len(json.dumps(override))
    return json.dumps({"overrides": [override] * count}).encode()


@pytest.mark.parametrize("path", ["/scenarios/evaluate", "/scenarios"])
@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413(
    open_api, tmp_path, databases, admin_headers, check_error, path, streamed
):
    body = big_scenario(10_000)
    if path == "/scenarios":
        body = b'{"name": "big", "scenario": ' + body + b"}"
    assert len(body) > 4096 * 2
    content = (body[i : i + 1000] for i in range(0, len(body), 1000)) if streamed else body
    headers = {"Content-Type": "application/json", **admin_headers}
    settings = databases.settings(tmp_path, max_body_bytes=4096)

    with open_api(settings) as api:
        small = api.client.post("/scenarios/evaluate", content=big_scenario(3000), headers=headers)
        response = api.client.post(path, content=content, headers=headers)
        saved = api.get("/scenarios")

    assert small.status_code == 200, small.text
    check_error(response, 413, "PayloadTooLarge")
    assert saved["total"] == 0


# Saved scenarios.


def save(api, headers, name, scenario, description=""):
    response = api.client.post(
        "/scenarios",
        json={"name": name, "description": description, "scenario": scenario},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        pytest.param({}, '{"name": "a", "scenario": {}}', id="no-key"),
        pytest.param({}, '{"name": "a", "scenario": {', id="no-key-malformed-json"),
        pytest.param({"Authorization": "Bearer wrong"}, '{"name": "a"}', id="wrong-key"),
    ],
)
def test_saving_without_the_key_is_a_401_and_saves_nothing(api, check_error, headers, content):
    response = api.client.post(
        "/scenarios", content=content, headers={"Content-Type": "application/json", **headers}
    )

    check_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.get("/scenarios")["total"] == 0


def test_saving_answers_201_with_the_scenario_and_its_result(api, admin_headers):
    scenario = {"weights": {"channels": {"agriculture": 0.3}}, "capacity": 1, "k": 3}

    saved = save(api, admin_headers, "agriculture x2", scenario, description="more farming")

    assert isinstance(saved["id"], int) and saved["id"] >= 1
    assert saved["name"] == "agriculture x2"
    assert saved["description"] == "more farming"
    assert datetime.fromisoformat(saved["created_at"]).tzinfo is not None
    assert {key: saved["scenario"][key] for key in scenario} == {
        "weights": {"channels": {"agriculture": 0.3}, "factors": {}},
        "capacity": 1,
        "k": 3,
    }
    assert saved["result"] == api.post("/scenarios/evaluate", scenario)
    assert api.get(f"/scenarios/{saved['id']}") == saved


def test_a_duplicate_name_is_a_409_and_keeps_the_first(api, admin_headers, check_error):
    first = save(api, admin_headers, "plan A", {"capacity": 1})

    response = api.client.post(
        "/scenarios", json={"name": "plan A", "scenario": {"capacity": 3}}, headers=admin_headers
    )

    check_error(response, 409, "Conflict")
    assert api.get("/scenarios")["total"] == 1
    assert api.get(f"/scenarios/{first['id']}")["scenario"]["capacity"] == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "bad", "scenario": {"pinned": [["harbin", "shenzhen"]]}}, id="tie"),
        pytest.param({"name": "", "scenario": {}}, id="empty-name"),
        pytest.param({"name": "bad", "scenario": {"k": 0}}, id="k-0"),
        pytest.param({"name": "bad"}, id="no-scenario"),
    ],
)
def test_saving_an_invalid_scenario_is_a_422_and_saves_nothing(api, admin_headers, body):
    api.fails(
        "POST",
        "/scenarios",
        422,
        ("ValidationError", "InfeasiblePlan"),
        json=body,
        headers=admin_headers,
    )

    assert api.get("/scenarios")["total"] == 0


def test_saved_scenarios_are_listed_newest_first_a_page_at_a_time(api, admin_headers):
    ids = [save(api, admin_headers, name, {"k": k})["id"] for k, name in enumerate("abc", 1)]

    everything = api.get("/scenarios")
    page = api.get("/scenarios", limit=1, offset=1)

    assert [item["id"] for item in everything["items"]] == ids[::-1]
    assert [item["name"] for item in everything["items"]] == ["c", "b", "a"]
    assert (everything["total"], everything["limit"], everything["offset"]) == (3, 50, 0)
    assert set(everything["items"][0]) == {"id", "name", "description", "created_at"}
    assert page["items"] == [everything["items"][1]]
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    assert api.get("/scenarios", offset=3)["items"] == []


def test_a_saved_scenario_reads_as_its_evaluation(api, admin_headers):
    scenario = {
        "overrides": harbin_tianjin_overrides(api),
        "weights": {"channels": {"agriculture": 0.5}},
        "capacity": 1,
        "pinned": [["dalian", "beijing"]],
    }
    ident = save(api, admin_headers, "harbin tianjin", scenario)["id"]

    read = api.get(f"/scenarios/{ident}")

    assert read["result"] == api.post("/scenarios/evaluate", scenario)
    assert read["result"]["dataset_version"] == SHIPPED_VERSION


def test_deleting_needs_the_key_and_then_the_scenario_is_gone(api, admin_headers, check_error):
    ident = save(api, admin_headers, "short-lived", {})["id"]
    path = f"/scenarios/{ident}"

    check_error(api.client.delete(path), 401, "Unauthorized")
    assert api.get(path)["id"] == ident
    deleted = api.client.delete(path, headers=admin_headers)
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    check_error(api.client.get(path), 404, "NotFound")
    check_error(api.client.delete(path, headers=admin_headers), 404, "NotFound")
    assert api.get("/scenarios")["total"] == 0
    again = save(api, admin_headers, "short-lived", {"capacity": 1})
    assert api.get(f"/scenarios/{again['id']}")["scenario"]["capacity"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/scenarios/999"),
        ("DELETE", "/scenarios/999"),
        ("GET", "/scenarios/999/compare/1"),
        ("GET", "/scenarios/1/compare/999"),
    ],
)
def test_an_unknown_id_is_a_404(api, admin_headers, method, path):
    save(api, admin_headers, "the only one", {})

    error = api.fails(method, path, 404, "NotFound", headers=admin_headers)

    assert "999" in error["detail"]


LARGEST_ID = 2**62  # the largest id the API accepts; beyond a 32-bit column on PostgreSQL


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/scenarios/{LARGEST_ID}"),
        ("DELETE", f"/scenarios/{LARGEST_ID}"),
        ("GET", f"/scenarios/1/compare/{LARGEST_ID}"),
        ("GET", f"/outcomes/{LARGEST_ID}"),
        ("DELETE", f"/outcomes/{LARGEST_ID}"),
        ("DELETE", f"/targets/{LARGEST_ID}"),
        ("DELETE", f"/keys/{LARGEST_ID}"),
    ],
)
def test_the_largest_id_is_a_404_on_every_database(api, admin_headers, method, path):
    save(api, admin_headers, "the only one", {})

    error = api.fails(method, path, 404, "NotFound", headers=admin_headers)

    assert str(LARGEST_ID) in error["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/scenarios/0"),
        ("GET", "/scenarios/-1"),
        ("GET", "/scenarios/one"),
        ("DELETE", "/scenarios/0"),
        ("DELETE", "/scenarios/-1"),
        ("GET", "/scenarios/0/compare/1"),
        ("GET", "/scenarios/1/compare/-1"),
    ],
)
def test_an_id_that_is_not_positive_is_a_422(api, admin_headers, method, path):
    api.fails(method, path, 422, "ValidationError", headers=admin_headers)


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 201}, {"offset": -1}])
def test_a_bad_page_is_a_422(api, query):
    api.fails("GET", "/scenarios", 422, "ValidationError", params=query)


def test_saved_scenarios_survive_a_restart(open_api, settings, admin_headers):
    with open_api(settings) as first:
        a = save(first, admin_headers, "a", {"capacity": 1})
        b = save(first, admin_headers, "b", {"weights": {"factors": {"cooperation_status": 0.0}}})

    with open_api(settings) as second:
        listed = second.get("/scenarios")
        read = [second.get(f"/scenarios/{s['id']}") for s in (a, b)]

    assert [item["name"] for item in listed["items"]] == ["b", "a"]
    assert read == [a, b]


@pytest.fixture
def document(api):
    """The active dataset document, ready to edit."""
    return api.get("/dataset/document")


def region_in(document, region_id):
    return next(r for r in document["regions"] if r["id"] == region_id)


def test_a_saved_scenario_is_recomputed_on_a_new_dataset(api, admin_headers, document):
    scenario = {"weights": {"channels": {"agriculture": 0.3}}, "links": LINKS}
    saved = save(api, admin_headers, "on the old data", scenario)
    old_link = by_pair(saved["result"]["links"])[("harbin", "beijing")]
    edited = copy.deepcopy(document)
    edited["version"] = NEW_VERSION
    # Without an industrial base, Harbin loses that factor's part with every partner.
    region_in(edited, "harbin")["factors"]["industrial_base"]["value"] = 0.0
    response = api.client.put("/dataset", json=edited, headers=admin_headers)
    assert response.status_code == 200, response.text

    read = api.get(f"/scenarios/{saved['id']}")

    result = read["result"]
    assert result["dataset_version"] == NEW_VERSION
    assert result == api.post("/scenarios/evaluate", scenario)
    link = by_pair(result["links"])[("harbin", "beijing")]
    assert link["score"] < old_link["score"]
    now = api.get("/links/harbin/beijing", weights="agriculture:0.3")
    assert close(link["score"], now["score"])
    assert close(result["diff"]["baseline_objective"], api.post("/plans", {})["objective"])
    assert api.get(f"/scenarios/{saved['id']}") == read


def without_harbin(document):
    """The document with a new version and without harbin (nor its ties and pairings)."""
    edited = copy.deepcopy(document)
    edited["version"] = NEW_VERSION
    edited["regions"] = [r for r in edited["regions"] if r["id"] != "harbin"]
    edited["ties"] = [t for t in edited["ties"] if "harbin" not in (t["northeast"], t["east"])]
    for region in edited["regions"]:
        if "harbin" in region.get("counterparts", []):
            region["counterparts"].remove("harbin")
    return edited


@pytest.mark.parametrize(
    ("scenario", "read"),
    [
        pytest.param(
            {"overrides": [{"region": "harbin", "factor": "industrial_base", "value": 1.0}]},
            "/scenarios/{stale}",
            id="override",
        ),
        pytest.param(
            {"pinned": [["harbin", "beijing"]]},
            "/scenarios/{stale}",
            id="pinned",
        ),
        pytest.param(
            {"capacities": {"harbin": 1}},
            "/scenarios/{stale}",
            id="capacities",
        ),
        pytest.param(
            {"pinned": [["harbin", "beijing"]]},
            "/scenarios/{fitting}/compare/{stale}",
            id="compare",
        ),
    ],
)
def test_a_saved_scenario_naming_a_dropped_region_is_a_409(
    api, admin_headers, document, check_error, scenario, read
):
    fitting = save(api, admin_headers, "fits", {"capacity": 1})["id"]
    stale = save(api, admin_headers, "names harbin", scenario)["id"]
    response = api.client.put("/dataset", json=without_harbin(document), headers=admin_headers)
    assert response.status_code == 200, response.text

    error = check_error(api.client.get(read.format(fitting=fitting, stale=stale)), 409, "Conflict")

    assert "harbin" in error["detail"]


def test_a_saved_scenario_not_naming_a_dropped_region_is_still_served(api, admin_headers, document):
    fitting = save(api, admin_headers, "fits", {"capacity": 1})["id"]
    response = api.client.put("/dataset", json=without_harbin(document), headers=admin_headers)
    assert response.status_code == 200, response.text

    result = api.get(f"/scenarios/{fitting}")["result"]

    assert result["dataset_version"] == NEW_VERSION
    assert len(result["suggestions"]) == 13
    assert "harbin" not in {
        region for pair in pair_list(result["plan"]["pairs"]) for region in pair
    }


# Comparisons.


def test_comparing_two_saved_scenarios_diffs_the_second_against_the_first(api, admin_headers):
    first = {"capacity": 1, "links": LINKS}
    second = {
        "overrides": harbin_tianjin_overrides(api),
        "weights": {"channels": {"agriculture": 0.5}},
        "capacity": 1,
        "links": LINKS,
    }
    a = save(api, admin_headers, "capacity 1", first)
    b = save(api, admin_headers, "harbin tianjin", second)

    comparison = api.get(f"/scenarios/{a['id']}/compare/{b['id']}")

    assert comparison["dataset_version"] == SHIPPED_VERSION
    assert comparison["scenario"] == {"id": a["id"], "name": "capacity 1"}
    assert comparison["other"] == {"id": b["id"], "name": "harbin tianjin"}
    diff = comparison["diff"]
    plan_a, plan_b = a["result"]["plan"], b["result"]["plan"]
    assert close(diff["baseline_objective"], plan_a["objective"])
    assert close(diff["scenario_objective"], plan_b["objective"])
    assert pair_set(diff["entered"]) == pair_set(plan_b["pairs"]) - pair_set(plan_a["pairs"])
    assert pair_set(diff["left"]) == pair_set(plan_a["pairs"]) - pair_set(plan_b["pairs"])
    assert ("harbin", "tianjin") in pair_set(diff["entered"])
    links_a, links_b = a["result"]["links"], b["result"]["links"]
    before, after = ranks(links_a), ranks(links_b)
    old, new = by_pair(links_a), by_pair(links_b)
    moved = {
        pair
        for pair in before
        if before[pair] != after[pair]
        or not math.isclose(old[pair]["score"], new[pair]["score"], rel_tol=1e-12)
    }
    assert diff["moved_total"] == len(moved) == len(diff["moves"])
    for move in diff["moves"]:
        pair = (move["northeast"], move["east"])
        assert (move["baseline_rank"], move["scenario_rank"]) == (before[pair], after[pair])
        assert close(move["baseline_score"], old[pair]["score"])
        assert close(move["scenario_score"], new[pair]["score"])


def test_comparing_a_scenario_with_itself_is_an_empty_diff(api, admin_headers):
    ident = save(api, admin_headers, "itself", {"weights": {"channels": {"agriculture": 0.5}}})[
        "id"
    ]

    diff = api.get(f"/scenarios/{ident}/compare/{ident}")["diff"]

    assert diff["entered"] == diff["left"] == diff["moves"] == []
    assert diff["moved_total"] == 0
    assert diff["baseline_objective"] == diff["scenario_objective"]


def test_a_deleted_scenario_id_is_never_given_again(api, admin_headers):
    first = save(api, admin_headers, "kept", {"capacity": 1})
    gone = save(api, admin_headers, "gone", {"capacity": 2})
    assert api.client.delete(f"/scenarios/{gone['id']}", headers=admin_headers).status_code == 204
    later = save(api, admin_headers, "later", {"capacity": 3})
    assert later["id"] not in (first["id"], gone["id"])
    assert api.client.get(f"/scenarios/{gone['id']}").status_code == 404


def test_reading_a_saved_scenario_writes_nothing_even_on_a_new_dataset(
    api, admin_headers, document
):
    saved = save(api, admin_headers, "read only", {"capacity": 1})
    edited = copy.deepcopy(document)
    edited["version"] = NEW_VERSION
    assert api.client.put("/dataset", json=edited, headers=admin_headers).status_code == 200
    database = api.client.app.state.database

    def refuse_writes():
        raise AssertionError("a read wrote to the database")

    database.write = refuse_writes
    read = api.client.get(f"/scenarios/{saved['id']}")

    assert read.status_code == 200, read.text
    assert read.json()["result"]["dataset_version"] == NEW_VERSION
