"""GET /links and GET /links/{northeast_id}/{east_id}: ranking, explanations and weights."""

from __future__ import annotations

import math

import pytest

from .conftest import SHIPPED_VERSION

COMPONENTS = [
    "equipment",
    "emerging",
    "agriculture",
    "culture_tourism_health",
    "institutions",
    "innovation",
    "platforms",
    "resource_endowment",
    "industrial_base",
    "development_level",
    "cooperation_status",
]
DIRECTIONS = {"northeast_to_east", "east_to_northeast", "synergy", "mutual", "ties"}


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def non_increasing(values):
    return all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_links_are_best_first_and_each_score_is_the_sum_of_its_contributions(api):
    body = api.get("/links", limit=100)
    links = body["links"]

    assert body["dataset_version"] == SHIPPED_VERSION
    assert body["total"] == len(links) == 49
    assert len({(link["northeast"], link["east"]) for link in links}) == 49
    assert non_increasing([link["score"] for link in links])
    for link in links:
        assert link["score"] > 0
        assert close(sum(link["contributions"].values()), link["score"])
        assert all(value >= 0 for value in link["contributions"].values())


def test_existing_flag_marks_exactly_the_ties_listed_by_regions(api):
    ties = api.ties()

    existing = {pair for pair, link in api.links().items() if link["existing"]}

    assert existing == ties
    assert ("harbin", "shenzhen") in existing


def test_limit_keeps_the_best_links(api):
    everything = api.get("/links", limit=100)

    top = api.get("/links", limit=5)

    assert top["links"] == everything["links"][:5]
    assert top["total"] == 49


def test_links_of_one_northeast_region(api):
    links = api.get("/links", northeast="harbin")["links"]

    assert len(links) == 7
    assert {link["northeast"] for link in links} == {"harbin"}
    assert len({link["east"] for link in links}) == 7
    assert non_increasing([link["score"] for link in links])


def test_links_of_one_eastern_region(api):
    links = api.get("/links", east="beijing")["links"]

    assert len(links) == 7
    assert {link["east"] for link in links} == {"beijing"}


def test_region_on_the_wrong_side_of_the_filter_is_a_422(api):
    body = api.fails("GET", "/links", 422, "InvalidRequest", params={"northeast": "beijing"})

    assert "beijing" in body["detail"]


def test_unknown_region_in_the_filter_is_a_422_naming_the_filter(api):
    # A region named by a parameter makes the request invalid, as in a body; 404 is for a path.
    error = api.fails("GET", "/links", 422, "InvalidRequest", params={"east": "nowhere"})
    assert error["errors"] == [{"field": "query.east", "error": "no region with id 'nowhere'"}]


def test_channel_ranks_by_that_channels_contribution_and_keeps_only_positive_ones(api):
    everything = api.links()

    body = api.get("/links", channel="agriculture", limit=100)
    values = [link["contributions"]["agriculture"] for link in body["links"]]

    assert body["channel"] == "agriculture"
    assert non_increasing(values)
    assert all(value > 0 for value in values)
    positive = [p for p, link in everything.items() if link["contributions"]["agriculture"] > 0]
    assert body["total"] == len(body["links"]) == len(positive)


@pytest.mark.parametrize("limit", [0, 10_001, -1])
def test_limit_out_of_range_is_a_422(api, limit):
    api.fails("GET", "/links", 422, "ValidationError", params={"limit": limit})


def test_unknown_channel_is_a_422_naming_it(api):
    body = api.fails("GET", "/links", 422, "InvalidRequest", params={"channel": "tourism"})

    assert "tourism" in body["detail"]


def test_a_factor_is_not_a_channel(api):
    api.fails("GET", "/links", 422, "InvalidRequest", params={"channel": "cooperation_status"})


def test_explanation_adds_up_to_the_score_listed_in_links(api):
    listed = api.links()[("harbin", "beijing")]

    link = api.get("/links/harbin/beijing")

    assert (link["northeast"], link["east"], link["existing"]) == ("harbin", "beijing", False)
    assert link["dataset_version"] == SHIPPED_VERSION
    assert close(link["score"], listed["score"])
    assert link["contributions"].keys() == listed["contributions"].keys()
    for component, value in link["contributions"].items():
        assert close(value, listed["contributions"][component])
    assert close(sum(link["contributions"].values()), link["score"])
    assert [c["component"] for c in link["explanation"]] == COMPONENTS
    for contribution in link["explanation"]:
        assert contribution["value"] == link["contributions"][contribution["component"]]
        assert close(sum(t["value"] for t in contribution["terms"]), contribution["value"])
        assert contribution["weight"] == link["weights"][contribution["component"]]


def test_explanation_terms_are_positive_labelled_parts(api):
    synergy_channels = {c["id"] for c in api.get("/taxonomy")["channels"] if c["synergy"]}

    link = api.get("/links/harbin/beijing")

    for contribution in link["explanation"]:
        assert contribution["kind"] in ("channel", "factor")
        for term in contribution["terms"]:
            assert term["value"] > 0
            assert term["direction"] in DIRECTIONS
            assert (term["sector"] is None) == (contribution["kind"] == "factor")
            if term["direction"] == "synergy":
                assert contribution["component"] in synergy_channels


def test_explanation_of_a_channel_term_quotes_the_profile_values(api):
    harbin, beijing = api.get("/regions/harbin"), api.get("/regions/beijing")

    link = api.get("/links/harbin/beijing")
    terms = [t for c in link["explanation"] if c["kind"] == "channel" for t in c["terms"]]

    for term in terms:
        ne_table, east_table = {
            "northeast_to_east": ("strengths", "needs"),
            "east_to_northeast": ("needs", "strengths"),
            "synergy": ("strengths", "strengths"),
        }[term["direction"]]
        assert term["northeast_value"] == harbin[ne_table][term["sector"]]["value"]
        assert term["east_value"] == beijing[east_table][term["sector"]]["value"]


@pytest.mark.parametrize(
    ("pair", "existing"), [("harbin/shenzhen", True), ("harbin/beijing", False)]
)
def test_only_an_existing_tie_has_a_ties_term(api, pair, existing):
    link = api.get(f"/links/{pair}")

    directions = {t["direction"] for c in link["explanation"] for t in c["terms"]}

    assert link["existing"] is existing
    assert ("ties" in directions) is existing


def test_pair_given_the_wrong_way_round_is_a_422_saying_so(api):
    body = api.fails("GET", "/links/beijing/harbin", 422, "InvalidRequest")

    assert "wrong way round" in body["detail"]


def test_two_regions_of_one_side_is_a_422(api):
    api.fails("GET", "/links/harbin/dalian", 422, "InvalidRequest")


@pytest.mark.parametrize("pair", ["harbin/nowhere", "nowhere/beijing"])
def test_unknown_region_of_a_link_is_a_404(api, pair):
    body = api.fails("GET", f"/links/{pair}", 404, "UnknownRegion")

    assert "nowhere" in body["detail"]


def test_zero_weight_leaves_a_component_out(api):
    links = api.get("/links", weights="agriculture:0", limit=100)
    link = api.get("/links/harbin/beijing", weights="agriculture:0")

    assert links["weights"]["agriculture"] == 0
    assert all("agriculture" not in item["contributions"] for item in links["links"])
    assert "agriculture" not in link["contributions"]
    assert "agriculture" not in [c["component"] for c in link["explanation"]]
    assert close(sum(link["contributions"].values()), link["score"])


def test_changing_one_weight_changes_scores_by_that_component_only(api):
    default = api.get("/links", limit=1)["weights"]["agriculture"]
    before = api.links()

    after = api.links(weights=f"agriculture:{3 * default!r}")

    for pair, link in after.items():
        old = before[pair]
        assert close(link["contributions"]["agriculture"], 3 * old["contributions"]["agriculture"])
        assert close(link["score"], old["score"] + 2 * old["contributions"]["agriculture"])


@pytest.mark.parametrize(
    ("weights", "named"),
    [
        ("agriculture:-1", "agriculture"),
        ("agriculture:nan", "agriculture"),
        ("agriculture:inf", "agriculture"),
        ("tourism:1", "tourism"),
        ("garbage", "garbage"),
        ("agriculture:", "agriculture"),
        ("agriculture:0.3,,", "''"),
    ],
)
@pytest.mark.parametrize("path", ["/links", "/links/harbin/beijing", "/graph"])
def test_invalid_weights_are_a_422_naming_the_component(api, path, weights, named):
    body = api.fails("GET", path, 422, "InvalidRequest", params={"weights": weights})

    assert named in body["detail"]


def test_all_weights_zero_is_a_422(api):
    weights = ",".join(f"{c}:0" for c in COMPONENTS)

    body = api.fails("GET", "/links", 422, "InvalidRequest", params={"weights": weights})

    assert "zero" in body["detail"]


def test_scores_are_linear_in_the_weights(api):
    defaults = api.get("/links", limit=1)["weights"]
    doubled = ",".join(f"{c}:{2 * w!r}" for c, w in defaults.items())

    before = api.get("/links", limit=100)["links"]
    after = api.get("/links", limit=100, weights=doubled)["links"]

    assert [(a["northeast"], a["east"]) for a in after] == [
        (b["northeast"], b["east"]) for b in before
    ]
    for a, b in zip(after, before, strict=True):
        assert close(a["score"], 2 * b["score"])


def test_huge_finite_weights_give_a_finite_explanation_or_a_422(api, check_error):
    weights = ",".join(f"{factor}:1e308" for factor in COMPONENTS[-4:])

    response = api.client.get("/links/harbin/beijing", params={"weights": weights})

    if response.status_code == 422:
        check_error(response, 422, "InvalidRequest")
    else:
        assert response.status_code == 200, response.text
        assert math.isfinite(response.json()["score"])


def test_huge_finite_weights_give_finite_scores_or_a_422(api, check_error):
    weights = ",".join(f"{factor}:1e308" for factor in COMPONENTS[-4:])

    response = api.client.get("/links", params={"weights": weights, "limit": 100})

    if response.status_code == 422:
        check_error(response, 422, "InvalidRequest")
    else:
        assert response.status_code == 200, response.text
        scores = [link["score"] for link in response.json()["links"]]
        assert all(isinstance(s, float) and math.isfinite(s) for s in scores), scores
