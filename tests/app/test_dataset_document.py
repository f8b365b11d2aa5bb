"""The dataset document's schema says what the engine accepts: the same fields and required ones.

The engine checks an uploaded document itself (a 422 naming record and field); the schema is
for clients. These tests hold the two together, against the engine's own field lists and its
parser, and the live spec against the document the service serves.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import matching.dataset as engine
from matching import DatasetError, load_taxonomy, parse_dataset
from schemas.dataset_document import (
    DatasetDocument,
    IndicatorDoc,
    MeasureDoc,
    RegionDoc,
    SourceDoc,
    TieDoc,
    ValueDoc,
)

SHIPPED: dict[str, Any] = json.loads(
    (Path(engine.__file__).parent / "data" / "regions.json").read_text("utf-8")
)


def fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def required(model: type[BaseModel]) -> set[str]:
    return {name for name, field in model.model_fields.items() if field.is_required()}


def test_the_models_have_the_engines_fields_and_no_others():
    assert fields(RegionDoc) == set(engine._REGION_FIELDS)
    assert fields(TieDoc) == set(engine._TIE_FIELDS)
    assert fields(MeasureDoc) == set(engine._MEASURE_FIELDS)
    assert fields(ValueDoc) == {"value", "kind", "source", "note", "measure", "range"}
    assert fields(IndicatorDoc) == {"value", "unit", "year", "source", "note"}
    assert fields(SourceDoc) == {
        "title",
        "kind",
        "url",
        "published",
        "repository",
        "commit",
        "path",
    }
    assert fields(DatasetDocument) == {
        "version", "title", "description", "adopted", "sources", "regions", "ties",
    }  # fmt: skip


def test_the_shipped_document_fits_the_schema():
    DatasetDocument.model_validate(SHIPPED)


def records(document: dict[str, Any]) -> dict[type[BaseModel], dict[str, Any]]:
    """One record of each kind in a document, to take fields out of."""
    region = document["regions"][0]
    measured = next(v for r in document["regions"] for v in r["factors"].values() if "measure" in v)
    return {
        DatasetDocument: document,
        RegionDoc: region,
        TieDoc: document["ties"][0],
        SourceDoc: next(iter(document["sources"].values())),
        IndicatorDoc: region["indicators"]["gdp"],
        ValueDoc: measured,
        MeasureDoc: measured["measure"],
    }


MODELS = [DatasetDocument, RegionDoc, TieDoc, SourceDoc, IndicatorDoc, ValueDoc, MeasureDoc]


@pytest.mark.parametrize(
    ("model", "name"),
    [(m, n) for m in MODELS for n in sorted(required(m))],
    ids=lambda x: x.__name__ if isinstance(x, type) else x,
)
def test_a_field_the_schema_requires_is_one_the_engine_requires(model, name):
    document = copy.deepcopy(SHIPPED)
    record = records(document)[model]
    if name not in record:
        pytest.skip(f"the shipped {model.__name__} record has no {name}")
    del record[name]
    with pytest.raises(DatasetError):
        parse_dataset(document, taxonomy=load_taxonomy())


@pytest.mark.parametrize(
    ("model", "name"),
    [(TieDoc, "note"), (SourceDoc, "url"), (DatasetDocument, "description"), (ValueDoc, "kind")],
    ids=lambda x: x.__name__ if isinstance(x, type) else x,
)
def test_a_field_the_schema_leaves_optional_the_engine_accepts_without(model, name):
    document = copy.deepcopy(SHIPPED)
    record = records(document)[model]
    if model is ValueDoc:  # without a kind a value is an estimate: give it a range instead
        record = document["regions"][0]["strengths"][
            next(iter(document["regions"][0]["strengths"]))
        ]
        assert record["kind"] == "estimate"
    del record[name]
    parse_dataset(document, taxonomy=load_taxonomy())


def test_the_spec_describes_both_directions_of_the_document(api):
    spec = api.client.get("/openapi.json").json()
    ref = {"$ref": "#/components/schemas/DatasetDocument"}
    put = spec["paths"]["/dataset"]["put"]["requestBody"]["content"]["application/json"]
    get = spec["paths"]["/dataset/document"]["get"]["responses"]["200"]["content"]
    assert put["schema"]["$ref"] == ref["$ref"]
    assert get["application/json"]["schema"] == ref
    served = api.client.get("/dataset/document").json()
    DatasetDocument.model_validate(served)
