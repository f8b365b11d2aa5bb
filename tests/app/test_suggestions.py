"""GET /regions/{id}/suggestions: the best additional partners of one region."""

from __future__ import annotations

import math

import pytest

from .conftest import SHIPPED_VERSION

REGIONS = [
    "liaoning",
    "jilin",
    "heilongjiang",
    "shenyang",
    "dalian",
    "changchun",
    "harbin",
    "jiangsu",
    "zhejiang",
    "guangdong",
    "beijing",
    "shanghai",
    "tianjin",
    "shenzhen",
]


def pair_of(region, side, partner):
    return (region, partner) if side == "northeast" else (partner, region)


def test_suggests_k_new_eastern_partners_best_first_scored_as_in_links(api):
    regions = api.regions()
    ties = api.ties()
    links = api.links()

    body = api.get("/regions/harbin/suggestions", k=3)
    picks = body["suggestions"]

    assert (body["region"], body["side"], body["dataset_version"]) == (
        "harbin",
        "northeast",
        SHIPPED_VERSION,
    )
    assert len(picks) == 3
    assert all(a["score"] >= b["score"] for a, b in zip(picks, picks[1:], strict=False))
    for pick in picks:
        assert regions[pick["partner"]]["side"] == "east"
        assert ("harbin", pick["partner"]) not in ties
        assert pick["partner"] != "shenzhen"
        link = links[("harbin", pick["partner"])]
        assert math.isclose(pick["score"], link["score"], rel_tol=1e-9)
        assert pick["contributions"] == link["contributions"]
        assert pick["level"] == regions[pick["partner"]]["level"]
        assert pick["channel_score"] is None


@pytest.mark.parametrize("k", [0, 101, -1])
def test_k_out_of_range_is_a_422(api, k):
    api.fails("GET", "/regions/harbin/suggestions", 422, "ValidationError", params={"k": k})


def test_level_filter_keeps_only_partners_of_that_level(api):
    regions = api.regions()

    picks = api.get("/regions/harbin/suggestions", k=100, level="province")["suggestions"]

    assert picks
    assert {regions[p["partner"]]["level"] for p in picks} == {"province"}


def test_channel_ranks_by_the_channels_contribution(api):
    picks = api.get("/regions/harbin/suggestions", k=100, channel="agriculture")["suggestions"]

    values = [p["channel_score"] for p in picks]
    assert picks
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    assert all(v > 0 for v in values)
    for pick in picks:
        assert math.isclose(pick["channel_score"], pick["contributions"]["agriculture"])


def test_unknown_channel_is_a_422_naming_it(api):
    body = api.fails(
        "GET",
        "/regions/harbin/suggestions",
        422,
        "InvalidRequest",
        params={"channel": "tourism"},
    )

    assert "tourism" in body["detail"]


def test_an_eastern_region_is_suggested_northeast_partners(api):
    regions = api.regions()
    ties = api.ties()

    body = api.get("/regions/shanghai/suggestions", k=100)

    assert body["side"] == "east"
    assert body["suggestions"]
    for pick in body["suggestions"]:
        assert regions[pick["partner"]]["side"] == "northeast"
        assert (pick["partner"], "shanghai") not in ties


def test_unknown_region_is_a_404(api):
    body = api.fails("GET", "/regions/nowhere/suggestions", 404, "UnknownRegion")

    assert "nowhere" in body["detail"]


@pytest.mark.parametrize("k", [1, 3, 100])
def test_suggestions_are_the_top_links_of_the_region_without_its_ties(api, k):
    regions = api.regions()
    links = api.links()

    for region in REGIONS:
        side = regions[region]["side"]
        candidates = sorted(
            (
                link["score"]
                for (northeast, east), link in links.items()
                if region in (northeast, east) and not link["existing"] and link["score"] > 0
            ),
            reverse=True,
        )

        picks = api.get(f"/regions/{region}/suggestions", k=k)["suggestions"]

        assert [p["score"] for p in picks] == pytest.approx(candidates[:k], rel=1e-9), region
        for pick in picks:
            assert not links[pair_of(region, side, pick["partner"])]["existing"]
