"""GET /regions and GET /regions/{id}: profiles, official counterparts, ties and provenance."""

from __future__ import annotations

import pytest

from .conftest import SHIPPED_VERSION

NORTHEAST = ["liaoning", "jilin", "heilongjiang", "shenyang", "dalian", "changchun", "harbin"]
EAST = ["jiangsu", "zhejiang", "guangdong", "beijing", "shanghai", "tianjin", "shenzhen"]
OFFICIAL_PAIRS = [
    ("liaoning", "jiangsu"),
    ("jilin", "zhejiang"),
    ("heilongjiang", "guangdong"),
    ("shenyang", "beijing"),
    ("dalian", "shanghai"),
    ("changchun", "tianjin"),
    ("harbin", "shenzhen"),
]


def test_lists_the_fourteen_regions_northeast_first(api):
    body = api.get("/regions")

    assert body["dataset_version"] == SHIPPED_VERSION
    assert [r["id"] for r in body["regions"]] == NORTHEAST + EAST
    assert [r["side"] for r in body["regions"]] == ["northeast"] * 7 + ["east"] * 7
    for region in body["regions"]:
        assert region["level"] in ("province", "city")
        assert isinstance(region["counterparts"], list)
        assert isinstance(region["ties"], list)


def test_harbin_is_officially_paired_with_shenzhen(api):
    harbin = api.get("/regions/harbin")

    assert harbin["counterparts"] == ["shenzhen"]
    official = [(t["northeast"], t["east"]) for t in harbin["ties"] if t["kind"] == "official"]
    assert official == [("harbin", "shenzhen")]


@pytest.mark.parametrize(("northeast", "east"), OFFICIAL_PAIRS)
def test_official_counterparts_name_each_other_and_are_official_ties(api, northeast, east):
    regions = api.regions()

    assert regions[northeast]["counterparts"] == [east]
    assert regions[east]["counterparts"] == [northeast]
    official = {
        (t["northeast"], t["east"]) for t in regions[northeast]["ties"] if t["kind"] == "official"
    }
    assert official == {(northeast, east)}


def test_a_tie_is_listed_under_both_of_its_regions(api):
    regions = api.regions()

    for region_id, region in regions.items():
        for tie in region["ties"]:
            assert region_id in (tie["northeast"], tie["east"])
            assert regions[tie["northeast"]]["side"] == "northeast"
            assert regions[tie["east"]]["side"] == "east"
            other = tie["east"] if region_id == tie["northeast"] else tie["northeast"]
            assert tie in regions[other]["ties"]
            assert 0 <= tie["strength"] <= 1


def test_every_profile_value_is_in_range_with_a_known_source_and_a_note(api):
    sources = api.get("/dataset")["sources"]

    for region in api.regions().values():
        assert region["strengths"] and region["needs"]
        assert sorted(region["factors"]) == sorted(
            ["resource_endowment", "industrial_base", "development_level", "cooperation_status"]
        )
        for table in ("strengths", "needs", "factors"):
            for key, item in region[table].items():
                where = f"{region['id']}.{table}.{key}"
                assert 0 <= item["value"] <= 1, where
                assert item["source"] in sources, where
                assert item["note"].strip(), where
        for key, indicator in region["indicators"].items():
            assert indicator["value"] > 0, key
            assert indicator["source"] in sources, key


def test_one_region_is_its_entry_in_the_list(api):
    assert api.get("/regions/shenzhen") == api.regions()["shenzhen"]


@pytest.mark.parametrize(("side", "expected"), [("east", EAST), ("northeast", NORTHEAST)])
def test_filters_by_side(api, side, expected):
    regions = api.get("/regions", side=side)["regions"]

    assert [r["id"] for r in regions] == expected
    assert {r["side"] for r in regions} == {side}


def test_filters_by_side_and_level(api):
    regions = api.get("/regions", side="east", level="city")["regions"]

    assert [r["id"] for r in regions] == ["beijing", "shanghai", "tianjin", "shenzhen"]


def test_unknown_region_is_a_404_naming_it(api):
    body = api.fails("GET", "/regions/nowhere", 404, "UnknownRegion")

    assert "nowhere" in body["detail"]


def test_unknown_side_is_a_422(api):
    api.fails("GET", "/regions", 422, "ValidationError", params={"side": "west"})
