"""The dataset is validated whole; errors name the file, the record and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matching import DatasetError, Taxonomy, load_dataset, parse_dataset
from matching.dataset import OFFICIAL_TIE_STRENGTH

OFFICIAL_PAIRS = {
    ("liaoning", "jiangsu"),
    ("jilin", "zhejiang"),
    ("heilongjiang", "guangdong"),
    ("shenyang", "beijing"),
    ("dalian", "shanghai"),
    ("changchun", "tianjin"),
    ("harbin", "shenzhen"),
}


def region(doc: dict[str, Any], region_id: str) -> dict[str, Any]:
    return next(r for r in doc["regions"] if r["id"] == region_id)


def test_shipped_dataset_has_the_fourteen_regions_of_the_plan() -> None:
    ds = load_dataset()
    assert len(ds.regions) == 14
    assert {r.side for r in ds.regions} == {"northeast", "east"}
    official = {(t.northeast, t.east) for t in ds.ties if t.kind == "official"}
    assert official == OFFICIAL_PAIRS
    assert all(t.strength == OFFICIAL_TIE_STRENGTH for t in ds.ties if t.kind == "official")
    # Ties beyond the official pairs exist: cooperation status is one of the four factors.
    assert {(t.northeast, t.east) for t in ds.ties} - OFFICIAL_PAIRS
    levels = {r.id: r.level for r in ds.regions}
    assert levels["liaoning"] == "province" and levels["harbin"] == "city"
    assert ds.region("harbin").parent == "heilongjiang"
    assert ds.region("beijing").parent is None


def test_every_value_carries_provenance() -> None:
    ds = load_dataset()
    for r in ds.regions:
        items = [*r.factors.values(), *r.strengths.values(), *r.needs.values()]
        items += list(r.indicators.values())
        for item in items:
            assert item.source in ds.sources
            assert item.note.strip()
        assert {"gdp", "population"} <= set(r.indicators)


def test_development_level_is_derived_from_gdp_per_capita() -> None:
    ds = load_dataset()
    per_capita = {
        r.id: r.indicators["gdp"].value * 1e8 / (r.indicators["population"].value * 1e4)
        for r in ds.regions
    }
    top = max(per_capita.values())
    for r in ds.regions:
        assert r.factors["development_level"].value == pytest.approx(
            per_capita[r.id] / top, abs=5e-4
        )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: region(d, "harbin")["strengths"].update(
                {"teleportation": {"value": 0.5, "source": "estimate", "note": "x"}}
            ),
            "test.json: region[harbin]: strengths.teleportation: unknown sector",
        ),
        (
            lambda d: region(d, "harbin")["strengths"]["biomedicine"].update(value=1.3),
            "test.json: region[harbin]: strengths.biomedicine.value: must be in [0, 1], got 1.3",
        ),
        (
            lambda d: region(d, "harbin")["needs"]["finance_capital"].update(value=-0.1),
            "test.json: region[harbin]: needs.finance_capital.value: must be in [0, 1], got -0.1",
        ),
        (
            lambda d: region(d, "harbin").update(counterparts=["atlantis"]),
            "test.json: region[harbin]: counterparts: no region with id 'atlantis'",
        ),
        (
            lambda d: region(d, "harbin").update(counterparts=["shenzhen", "beijing"]),
            "test.json: region[harbin]: counterparts: 'beijing' does not list 'harbin' back",
        ),
        (
            lambda d: region(d, "harbin").update(counterparts=["dalian"]),
            "test.json: region[harbin]: counterparts: 'dalian' is on the same side",
        ),
        (
            lambda d: d["regions"].append(dict(region(d, "harbin"))),
            "test.json: region[harbin]: id: duplicate id 'harbin'",
        ),
        (
            lambda d: region(d, "harbin").update(parent="shenzhen"),
            "test.json: region[harbin]: parent: 'shenzhen' must be a province on the northeast",
        ),
        (
            lambda d: region(d, "harbin")["factors"]["industrial_base"].update(source="rumour"),
            "test.json: region[harbin]: factors.industrial_base.source: unknown source 'rumour'",
        ),
        (
            lambda d: region(d, "harbin").update(strenghts={}),
            "test.json: region[harbin]: strenghts: unknown field",
        ),
        (
            lambda d: region(d, "harbin").update(side="west"),
            "test.json: region[harbin]: side: must be one of ['east', 'northeast'], got 'west'",
        ),
        (
            lambda d: d["ties"].append({**d["ties"][0], "northeast": "beijing"}),
            "'beijing' is a east region, not northeast",
        ),
        (
            lambda d: d["ties"].append({**d["ties"][0], "east": "atlantis"}),
            "east: no region with id 'atlantis'",
        ),
        (
            lambda d: d["ties"].append({**d["ties"][0], "kind": "official"}),
            "official ties come from the regions' 'counterparts'",
        ),
        (
            lambda d: region(d, "harbin")["indicators"]["gdp"].update(value=float("nan")),
            "region[harbin]: indicators.gdp.value: must be finite",
        ),
        (lambda d: d.pop("version"), "test.json: dataset: version: is required"),
    ],
)
def test_invalid_dataset_errors_name_file_record_and_field(
    document: dict[str, Any], taxonomy: Taxonomy, mutate: Any, message: str
) -> None:
    mutate(document)
    with pytest.raises(DatasetError) as caught:
        parse_dataset(document, taxonomy=taxonomy, origin="test.json")
    assert message in str(caught.value)


def test_load_dataset_names_the_file(tmp_path: Path, document: dict[str, Any]) -> None:
    region(document, "dalian")["needs"]["private_economy"]["value"] = 2
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DatasetError, match=r"broken\.json: region\[dalian\]: needs"):
        load_dataset(path)
    path.write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_dataset(path)


def test_more_regions_than_the_fourteen_are_allowed(
    document: dict[str, Any], taxonomy: Taxonomy
) -> None:
    extra = json.loads(json.dumps(region(document, "harbin")))
    extra.update(id="inner_mongolia", name_en="Inner Mongolia", level="province", parent=None)
    extra["counterparts"] = []
    document["regions"].append(extra)
    ds = parse_dataset(document, taxonomy=taxonomy)
    assert len(ds.regions) == 15
    assert ds.ties_of("inner_mongolia") == ()
