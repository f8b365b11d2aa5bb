"""Measures against hand computation, the symmetric transform's properties, input errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.profiles import (
    build_dataset_document,
    location_quotient,
    need_from_ratio,
    per_capita_ratio,
    strength_from_ratio,
)


def test_location_quotient_by_hand() -> None:
    # 30% of the region against 20% of the reference.
    assert location_quotient(30, 100, reference_part=200, reference_total=1000) == pytest.approx(
        1.5
    )


def test_per_capita_ratio_by_hand() -> None:
    # Heilongjiang 2016: 7,416.13 (10,000 t) grain for 3,799 residents; 9-province pool.
    m = per_capita_ratio(7416.13, 3799, reference_supply=17558.87, reference_population=37394)
    assert m == pytest.approx((7416.13 / 3799) / (17558.87 / 37394))


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_transform_is_bounded_and_one_sided(m: float) -> None:
    s, n = strength_from_ratio(m), need_from_ratio(m)
    assert 0 <= s < 1 and 0 <= n <= 1
    assert s == 0 or n == 0


@given(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))
def test_transform_is_symmetric_in_the_ratio(m: float) -> None:
    assert strength_from_ratio(m) == pytest.approx(need_from_ratio(1 / m), abs=1e-12)


def test_transform_fixed_points() -> None:
    assert strength_from_ratio(1) == 0 and need_from_ratio(1) == 0
    assert strength_from_ratio(3) == pytest.approx(0.5)
    assert need_from_ratio(0) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: strength_from_ratio(-0.5), "`ratio` must be non-negative, got -0.5"),
        (lambda: need_from_ratio(float("nan")), "`ratio` must be a finite number"),
        (
            lambda: location_quotient(1, 0, reference_part=1, reference_total=1),
            "`total` must be positive, got 0",
        ),
        (
            lambda: location_quotient(1, 1, reference_part=0, reference_total=1),
            "`reference_part` must be positive, got 0",
        ),
        (
            lambda: per_capita_ratio(1, 1, reference_supply=1, reference_population=-2),
            "`reference_total` must be non-negative, got -2",
        ),
        (
            lambda: build_dataset_document({}, {"tables": {"crops": {}}, "regions": []}),
            "`tables` has no table 'crops'",
        ),
    ],
)
def test_bad_input_names_the_parameter(call: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        call()  # type: ignore[operator]
    assert message in str(caught.value)


def _tiny_inputs() -> tuple[dict[str, list[dict[str, str]]], dict[str, object]]:
    """Two provinces and a city; grain per capita and a city share."""
    tables = {
        "crops": [
            {"p": "A", "y": "2016", "i": "grain", "v": "30"},
            {"p": "B", "y": "2016", "i": "grain", "v": "10"},
        ],
        "pop": [
            {"p": "A", "y": "2016", "i": "pop", "v": "10"},
            {"p": "B", "y": "2016", "i": "pop", "v": "30"},
        ],
        "cities": [
            {"c": "a1", "y": "2016", "i": "gdp", "v": "100"},
            {"c": "a1", "y": "2016", "i": "sec", "v": "40"},
            {"c": "a2", "y": "2016", "i": "gdp", "v": "100"},
            {"c": "a2", "y": "2016", "i": "sec", "v": "20"},
        ],
    }
    long = {"year_column": "y", "indicator_column": "i", "value_column": "v"}
    region = {"side": "northeast", "counterparts": [], "name_zh": "x"}
    inputs: dict[str, object] = {
        "version": "t",
        "title": "t",
        "description": "t",
        "adopted": "2017-03-07",
        "factor_order": ["industrial_base"],
        "sources": {},
        "tables": {
            "crops": {"file": "c.csv", "source": "s", "place_column": "p", **long},
            "pop": {"file": "p.csv", "source": "s", "place_column": "p", **long},
            "cities": {"file": "x.csv", "source": "s", "place_column": "c", **long},
        },
        "regions": [
            {
                **region,
                "id": "a",
                "name_en": "A",
                "level": "province",
                "parent": None,
                "places": {"province": "A"},
                "pooled_cities": ["a1", "a2"],
            },
            {
                **region,
                "id": "a1",
                "name_en": "A1",
                "level": "city",
                "parent": "a",
                "places": {"city": "a1"},
            },
            {
                **region,
                "id": "b",
                "name_en": "B",
                "level": "province",
                "parent": None,
                "places": {"province": "B"},
                "pooled_cities": ["a2"],
            },
        ],
        "indicators": {
            "gdp": {
                "table": "cities",
                "indicator": "gdp",
                "year": 2016,
                "level": "city",
                "unit": "u",
                "note": "n",
            },
            "population": {
                "table": "pop",
                "indicator": "pop",
                "year": 2016,
                "level": "province",
                "unit": "u",
                "note": "n",
            },
            "reported": {
                "a": {"gdp": {"value": 200, "unit": "u", "year": 2016, "source": "s", "note": "n"}},
                "a1": {
                    "population": {
                        "value": 5,
                        "unit": "u",
                        "year": 2016,
                        "source": "s",
                        "note": "n",
                    }
                },
                "b": {"gdp": {"value": 100, "unit": "u", "year": 2016, "source": "s", "note": "n"}},
            },
        },
        "measures": [
            {
                "id": "grain",
                "level": "province",
                "year": 2016,
                "source": "s",
                "numerators": [{"table": "crops", "indicator": "grain", "label": "g"}],
                "denominator": {"table": "pop", "indicator": "pop", "label": "p"},
                "reference": "pooled",
                "reference_text": "both",
                "statistic": "grain per head",
                "outputs": [
                    {"profile": "strengths", "key": "grain", "transform": "strength"},
                    {"profile": "needs", "key": "grain", "transform": "need"},
                ],
            },
            {
                "id": "base",
                "level": "city",
                "year": 2016,
                "source": "s",
                "numerators": [{"table": "cities", "indicator": "sec", "label": "sec"}],
                "denominator": {"table": "cities", "indicator": "gdp", "label": "gdp"},
                "reference": None,
                "statistic": "secondary share",
                "outputs": [
                    {"profile": "factors", "key": "industrial_base", "transform": "identity"}
                ],
            },
        ],
        "derived": [],
        "estimates": [],
        "ties": [],
    }
    return tables, inputs


def test_builder_by_hand_and_the_province_city_rule() -> None:
    tables, inputs = _tiny_inputs()
    doc = build_dataset_document(tables, inputs)
    by_id = {r["id"]: r for r in doc["regions"]}
    # Reference: 40 / 40 = 1 per head. A: 3 per head, M = 3, strength 0.5; B: 1/3, need 0.5.
    assert by_id["a"]["strengths"]["grain"]["value"] == 0.5
    assert by_id["a"]["strengths"]["grain"]["kind"] == "measured"
    assert by_id["b"]["needs"]["grain"]["value"] == 0.5
    # The city is not in the province table: it inherits its province's ratio.
    city = by_id["a1"]["strengths"]["grain"]
    assert city["kind"] == "derived" and city["measure"]["ratio"] == 3.0
    assert "inherited from a" in city["measure"]["rule"]
    # Provinces are not in the city table: A pools a1 and a2 (60 / 200), B pools a2 (20 / 100).
    assert by_id["a1"]["factors"]["industrial_base"]["value"] == 0.4
    assert by_id["a"]["factors"]["industrial_base"]["value"] == 0.3
    assert by_id["a"]["factors"]["industrial_base"]["kind"] == "derived"
    assert by_id["b"]["factors"]["industrial_base"]["value"] == 0.2


def test_an_estimate_outside_its_range_is_refused() -> None:
    tables, inputs = _tiny_inputs()
    inputs["estimates"] = [
        {
            "region": "a",
            "profile": "needs",
            "key": "talent",
            "value": 0.9,
            "range": [0.1, 0.5],
            "source": "s",
            "note": "n",
        }
    ]
    with pytest.raises(ValueError, match="outside its range"):
        build_dataset_document(tables, inputs)


def test_a_value_cannot_be_both_measured_and_estimated() -> None:
    tables, inputs = _tiny_inputs()
    inputs["estimates"] = [
        {
            "region": "a",
            "profile": "strengths",
            "key": "grain",
            "value": 0.5,
            "range": [0.1, 0.6],
            "source": "s",
            "note": "n",
        }
    ]
    with pytest.raises(ValueError, match="both measured and estimated"):
        build_dataset_document(tables, inputs)
