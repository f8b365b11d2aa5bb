"""Enterprise files in the import format: what the generator writes parses back, field by field."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.enterprise_files import ENTERPRISE_FIELDS, write_csv, write_jsonl
from matching import generate_enterprises, load_dataset
from schemas.enterprises import EnterpriseIn


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


@pytest.fixture(scope="module")
def population(dataset):
    return list(generate_enterprises(dataset, 5000, seed=0))


def test_every_record_is_a_valid_profile_with_exactly_the_api_fields(dataset, population):
    assert set(EnterpriseIn.model_fields) == set(ENTERPRISE_FIELDS)
    for record in population:
        assert tuple(record) == ENTERPRISE_FIELDS
        model = EnterpriseIn.model_validate(record)
        assert model.model_dump() == record


def parse_sectors(cell):
    return {s: float(v) for s, v in (part.split(":") for part in cell.split(";") if part)}


def from_csv_row(row):
    return {
        "id": row["id"],
        "name": row["name"],
        "region": row["region"],
        "offers": parse_sectors(row["offers"]),
        "seeks": parse_sectors(row["seeks"]),
        "size": row["size"],
        "ownership": row["ownership"],
        "founded": int(row["founded"]) if row["founded"] else None,
        "description": row["description"],
        "contact": row["contact"] or None,
        "partners": [p for p in row["partners"].split(";") if p],
    }


def test_csv_parses_back_to_the_records(population):
    records = population[:3000]
    out = io.StringIO(newline="")
    assert write_csv(records, out) == len(records)
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(ENTERPRISE_FIELDS)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [from_csv_row(row) for row in rows] == records


def test_jsonl_parses_back_to_the_records(population):
    records = population[:3000]
    out = io.StringIO()
    assert write_jsonl(records, out) == len(records)
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == records
    assert all(line.startswith('{"id":') for line in lines)


AWKWARD = {
    "id": "ne.1",
    "name": 'Harbin "Bingxue", Ltd.',
    "region": "harbin",
    "offers": {"ice_snow_tourism": 0.8, "grain": 1.0},
    "seeks": {},
    "size": "small",
    "ownership": "private",
    "founded": None,
    "description": "Two lines,\nand a comma; 冰雪.",
    "contact": None,
    "partners": ["ea1", "ea2"],
}


def test_csv_quotes_only_where_needed_and_leaves_nulls_empty():
    out = io.StringIO(newline="")
    write_csv([AWKWARD], out)
    assert out.getvalue().split("\n", 1)[1] == (
        'ne.1,"Harbin ""Bingxue"", Ltd.",harbin,ice_snow_tourism:0.8;grain:1.0,,small,private,,'
        '"Two lines,\nand a comma; 冰雪.",,ea1;ea2\n'
    )
    (row,) = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert from_csv_row(row) == AWKWARD


def test_files_written_to_a_path_are_utf8_and_match_the_stream(tmp_path):
    for write in (write_csv, write_jsonl):
        out = io.StringIO(newline="")
        write([AWKWARD], out)
        path = tmp_path / f"file.{write.__name__}"
        assert write([AWKWARD], path) == 1
        assert path.read_bytes().decode("utf-8") == out.getvalue()
    assert json.loads((tmp_path / "file.write_jsonl").read_text("utf-8")) == AWKWARD


@pytest.mark.parametrize("write", [write_csv, write_jsonl])
def test_writers_refuse_unknown_fields(write):
    with pytest.raises(ValueError) as info:
        write([AWKWARD, {**AWKWARD, "side": "northeast"}], io.StringIO())
    assert str(info.value) == (
        "`records` item 2 has unknown field 'side'; fields are id, name, region, offers, seeks, "
        "size, ownership, founded, description, contact, partners"
    )
