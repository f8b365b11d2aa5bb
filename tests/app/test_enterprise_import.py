"""POST /enterprises/import: CSV and JSON Lines, all or nothing, through the body cap."""

from __future__ import annotations

import io
import json
import math

import pytest

from app.enterprise_files import write_csv, write_jsonl
from matching import Enterprise, explain_match, generate_enterprises, load_dataset

from .conftest import ADMIN_KEY

CSV_HEADER = "id,name,region,offers,seeks,size,ownership,founded,description,contact,partners"
CSV = "text/csv"
JSONL = "application/x-ndjson"

PROFILES = [
    {
        "id": "ne-harbin-tools",
        "name": "Harbin Machine Tools Co., Ltd.",
        "region": "harbin",
        "offers": {"machine_tools": 0.8, "heavy_machinery": 0.5},
        "seeks": {"venture_capital": 0.6},
        "size": "large",
        "ownership": "state",
        "founded": 1952,
        "description": "Lathes, milling machines\nand machining centres.",
        "contact": "sales@example.com",
        "partners": ["ea-shanghai-fund", "ea-other"],
    },
    {
        "id": "ea-shanghai-fund",
        "name": 'Shanghai "Growth" Fund',
        "region": "shanghai",
        "offers": {"venture_capital": 1.0},
        "seeks": {"machine_tools": 0.4},
        "size": "medium",
        "ownership": "foreign",
        "founded": 2011,
        "description": "",
        "contact": None,
        "partners": [],
    },
    {
        "id": "ea-jiangsu-grain",
        "name": "Jiangsu Grain Trading",
        "region": "jiangsu",
        "offers": {},
        "seeks": {"grain": 0.9, "forest_products": 0.3},
        "size": "micro",
        "ownership": "private",
        "founded": None,
        "description": "Buys rice, soy; and maize.",
        "contact": "+86 25 0000 0000",
        "partners": [],
    },
    {
        "id": "ne-dalian-port",
        "name": "Dalian Port",
        "region": "dalian",
        "offers": {"ports_logistics": 0.9},
        "seeks": {},
        "size": "small",
        "ownership": "mixed",
        "founded": 1999,
        "description": "",
        "contact": None,
        "partners": [],
    },
]


def csv_text(records):
    out = io.StringIO()
    write_csv(records, out)
    return out.getvalue()


def jsonl_text(records):
    out = io.StringIO()
    write_jsonl(records, out)
    return out.getvalue()


FORMATS = {
    "csv": (csv_text, CSV),
    "csv with charset": (csv_text, "text/csv; charset=utf-8"),
    "jsonl": (jsonl_text, JSONL),
}


def stored_fields(item):
    return {key: value for key, value in item.items() if key not in ("side", "updated_at")}


@pytest.fixture
def upload(api, admin_headers):
    """POST a file to /enterprises/import with the admin key; return the response."""

    def send(text, content_type, *, headers=None):
        body = text.encode() if isinstance(text, str) else text
        sent = {**admin_headers, "content-type": content_type} if headers is None else headers
        return api.client.post("/enterprises/import", content=body, headers=sent)

    return send


def assert_imported(response, imported, created):
    assert response.status_code == 200, response.text
    assert response.json() == {
        "imported": imported,
        "created": created,
        "updated": imported - created,
    }


@pytest.mark.parametrize("file_format", FORMATS.values(), ids=FORMATS)
def test_an_import_creates_then_upserts_by_id(api, upload, all_enterprises, file_format):
    to_text, content_type = file_format

    assert_imported(upload(to_text(PROFILES[:3]), content_type), imported=3, created=3)
    for profile in PROFILES[:3]:
        assert stored_fields(api.get(f"/enterprises/{profile['id']}", key=True)) == profile
    changed = {**PROFILES[0], "name": "Harbin Tools Group", "offers": {"grain": 0.25}}
    moved = {**PROFILES[1], "region": "tianjin", "partners": ["ne-harbin-tools"]}

    assert_imported(
        upload(to_text([changed, PROFILES[3], moved]), content_type), imported=3, created=1
    )

    expected = {p["id"]: p for p in (changed, moved, PROFILES[2], PROFILES[3])}
    items = all_enterprises(api)
    assert {item["id"]: stored_fields(item) for item in items} == expected
    sides = {item["id"]: item["side"] for item in items}
    assert sides == {
        "ne-harbin-tools": "northeast",
        "ea-shanghai-fund": "east",
        "ea-jiangsu-grain": "east",
        "ne-dalian-port": "northeast",
    }


@pytest.mark.parametrize("file_format", FORMATS.values(), ids=FORMATS)
def test_imported_enterprises_are_found_as_partners(
    api, upload, admin_headers, enterprise_model, file_format
):
    to_text, content_type = file_format
    query = {"id": "q", "name": "Q", "region": "harbin", "offers": {"grain": 1.0}}
    assert api.client.put("/enterprises/q", json=query, headers=admin_headers).status_code == 201
    before = api.get("/enterprises/q/partners", channel="agriculture")["partners"]

    assert_imported(upload(to_text(PROFILES), content_type), imported=4, created=4)

    partners = api.get("/enterprises/q/partners", channel="agriculture")["partners"]
    assert before == []
    assert [p["id"] for p in partners] == ["ea-jiangsu-grain"]
    grain = PROFILES[2]
    explained = explain_match(
        enterprise_model,
        Enterprise("q", "harbin", query["offers"], {}),
        Enterprise(grain["id"], grain["region"], grain["offers"], grain["seeks"]),
    )
    assert math.isclose(partners[0]["score"], explained.contributions["agriculture"])
    # The fund offers nothing q seeks and seeks nothing q offers: without a fit it is nobody's
    # partner, however close the regions.
    everyone = api.get("/enterprises/q/partners", k=100)["partners"]
    assert {p["id"] for p in everyone} == {"ea-jiangsu-grain"}


def test_a_csv_may_have_some_columns_in_any_order(api, upload):
    text = "region,name,id\nharbin,Harbin One,ne1\nshanghai,Shanghai One,ea1\n"

    assert_imported(upload(text, CSV), imported=2, created=2)

    assert stored_fields(api.get("/enterprises/ne1", key=True)) == {
        "id": "ne1",
        "name": "Harbin One",
        "region": "harbin",
        "offers": {},
        "seeks": {},
        "size": "small",
        "ownership": "private",
        "founded": None,
        "description": "",
        "contact": None,
        "partners": [],
    }
    assert api.get("/enterprises/ea1", key=True)["side"] == "east"


def test_csv_cells_are_parsed_as_documented(api, upload):
    text = (
        "id,name,region,offers,seeks,size,ownership,founded,description,contact,partners\n"
        'ne1,"Harbin, ""Ice"" Co.",harbin, grain:0.8 ; forest_products:0.5 ,ice_snow_tourism:1,'
        'medium,mixed,1988,"Two lines,\nwith commas, and ""quotes""",,ea1;ea2\n'
    )

    assert_imported(upload(text, CSV), imported=1, created=1)

    assert stored_fields(api.get("/enterprises/ne1", key=True)) == {
        "id": "ne1",
        "name": 'Harbin, "Ice" Co.',
        "region": "harbin",
        "offers": {"grain": 0.8, "forest_products": 0.5},
        "seeks": {"ice_snow_tourism": 1.0},
        "size": "medium",
        "ownership": "mixed",
        "founded": 1988,
        "description": 'Two lines,\nwith commas, and "quotes"',
        "contact": None,
        "partners": ["ea1", "ea2"],
    }


def test_a_csv_with_bad_rows_is_rejected_whole_listing_every_bad_row(
    api, upload, admin_headers, all_enterprises, check_error
):
    existing = PROFILES[0]
    assert (
        api.client.put(
            f"/enterprises/{existing['id']}", json=existing, headers=admin_headers
        ).status_code
        == 201
    )
    before = all_enterprises(api)
    rows = [
        "good-1,Good One,harbin,grain:0.5,,,,,,,",  # row 2: valid, new
        f"{existing['id']},Renamed,harbin,,,,,,,,",  # row 3: valid, would update
        "bad-region,Bad,atlantis,,,,,,,,",  # row 4
        "bad-intensity,Bad,harbin,grain:2,,,,,,,",  # row 5
        "bad-sector,Bad,harbin,,unobtainium:0.5,,,,,,",  # row 6
        "bad-cell,Bad,harbin,grain=0.5,,,,,,,",  # row 7
        "good-1,Again,dalian,,,,,,,,",  # row 8: duplicate id
        "bad-count,Bad,harbin",  # row 9
        ",No Id,harbin,,,,,,,,",  # row 10
        '"multi-line","Two\nlines",harbin,,,,,,,,',  # row 11: valid, spans two lines
        "bad-founded,Bad,harbin,,,,,1700,,,",  # row 12
        "bad-size,Bad,harbin,,,huge,,,,,",  # row 13
        "good-2,Good Two,shanghai,,grain:1,,,,,,",  # row 14: valid
    ]
    text = CSV_HEADER + "\n" + "\n".join(rows) + "\n"

    body = check_error(upload(text, CSV), 422, "InvalidImport")

    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (4, "region"),
        (5, "offers.grain"),
        (6, "seeks.unobtainium"),
        (7, "offers"),
        (8, "id"),
        (9, "row"),
        (10, "id"),
        (12, "founded"),
        (13, "size"),
    }, body
    assert all(e["error"] for e in body["errors"])
    assert all_enterprises(api) == before


def test_a_jsonl_file_with_bad_lines_is_rejected_whole_listing_every_bad_line(
    api, upload, all_enterprises, check_error
):
    lines = [
        json.dumps({"id": "good-1", "name": "Good", "region": "harbin"}),  # line 1
        '{"id": "broken", "name": ',  # line 2
        json.dumps({"id": "bad-region", "name": "Bad", "region": "atlantis"}),  # line 3
        "",  # line 4: blank, skipped
        json.dumps({"id": "bad", "name": "Bad", "region": "harbin", "offers": {"grain": 2}}),
        json.dumps({"id": "good-1", "name": "Again", "region": "dalian"}),  # line 6
        json.dumps({"name": "No Id", "region": "harbin"}),  # line 7
        json.dumps(["not", "an", "object"]),  # line 8
        json.dumps({"id": "extra", "name": "X", "region": "harbin", "revenue": 5}),  # line 9
        json.dumps({"id": "good-2", "name": "Good", "region": "shanghai"}),  # line 10
        json.dumps({"id": "bad-seeks", "name": "X", "region": "harbin", "seeks": "grain"}),
        json.dumps({"id": "bad-sector", "name": "X", "region": "harbin", "offers": {"xx": 1}}),
    ]

    body = check_error(upload("\n".join(lines) + "\n", JSONL), 422, "InvalidImport")

    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (2, "row"),
        (3, "region"),
        (5, "offers.grain"),
        (6, "id"),
        (7, "id"),
        (8, "row"),
        (9, "revenue"),
        (11, "seeks"),
        (12, "offers.xx"),
    }, body
    assert all_enterprises(api) == []


def test_a_bad_row_after_more_rows_than_one_write_batch_writes_nothing(
    api, upload, all_enterprises, check_error
):
    records = list(generate_enterprises(load_dataset(), 6000, seed=2))
    text = csv_text(records) + "last,Last,atlantis,,,,,,,,\n"

    body = check_error(upload(text, CSV), 422, "InvalidImport")

    assert [(e["row"], e["field"]) for e in body["errors"]] == [(6002, "region")]
    assert all_enterprises(api) == []


def test_csv_rows_are_counted_as_records_from_the_header(api, upload, check_error):
    text = (
        CSV_HEADER
        + '\nfirst,"A name\nover\nthree lines",harbin,,,,,,,,\nsecond,B,atlantis,,,,,,,,\n'
    )

    body = check_error(upload(text, CSV), 422, "InvalidImport")

    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "region")]


@pytest.mark.parametrize(
    "header",
    [
        "id,name,region,revenue",
        "id,name,offers",
        "name,region",
        "ID,Name,Region",
        "id;name;region",
    ],
)
def test_a_csv_with_a_bad_header_is_a_422_and_writes_nothing(
    api, upload, all_enterprises, check_error, header
):
    text = header + "\nne1,Harbin One,harbin,x\n"

    body = check_error(upload(text, CSV), 422, ("InvalidImport", "InvalidRequest"))

    assert "header" in body["detail"] or any(e["field"] == "header" for e in body["errors"])
    assert all_enterprises(api) == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/json", "", "multipart/form-data"]
)
def test_an_unsupported_content_type_is_a_422_and_writes_nothing(
    api, upload, all_enterprises, check_error, content_type
):
    check_error(upload(csv_text(PROFILES), content_type), 422, ("InvalidImport", "InvalidRequest"))
    assert all_enterprises(api) == []


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", ADMIN_KEY])
def test_an_import_without_a_valid_key_is_a_401_and_writes_nothing(
    api, upload, all_enterprises, check_error, authorization
):
    headers = {"content-type": CSV}
    if authorization is not None:
        headers["Authorization"] = authorization

    check_error(upload(csv_text(PROFILES), CSV, headers=headers), 401, "Unauthorized")
    assert all_enterprises(api) == []


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("", CSV),
        (CSV_HEADER + "\n", CSV),
        ("id,name,region\n\n\n", CSV),
        ("", JSONL),
        ("\n\n", JSONL),
    ],
    ids=["empty csv", "header only", "blank rows", "empty jsonl", "blank lines"],
)
def test_an_empty_file_imports_nothing(api, upload, all_enterprises, text, content_type):
    assert_imported(upload(text, content_type), imported=0, created=0)
    assert all_enterprises(api) == []


def test_a_large_import_passes_the_body_cap_that_other_writes_meet(
    settings, open_api, admin_headers, all_enterprises, check_error
):
    records = list(generate_enterprises(load_dataset(), 20_000, seed=9))
    text = csv_text(records)
    small_cap = settings.model_copy(update={"max_body_bytes": 64 * 1024})
    assert len(text.encode()) > 90 * small_cap.max_body_bytes

    with open_api(small_cap) as api:
        response = api.client.post(
            "/enterprises/import",
            content=text.encode(),
            headers={**admin_headers, "content-type": CSV},
        )
        assert_imported(response, imported=20_000, created=20_000)

        large = {"name": "Big", "region": "harbin", "description": "x" * (70 * 1024)}
        check_error(
            api.client.post("/enterprises", json=large, headers=admin_headers),
            413,
            "PayloadTooLarge",
        )
        items = all_enterprises(api)
        assert [item["id"] for item in items] == sorted(r["id"] for r in records)
        by_id = {item["id"]: stored_fields(item) for item in items}
        for record in records[::997]:
            assert by_id[record["id"]] == record
        northeast = next(r for r in records if r["id"].startswith("ne"))
        partners = api.get(f"/enterprises/{northeast['id']}/partners", k=5)["partners"]
        assert len(partners) == 5 and all(p["id"].startswith("ea") for p in partners)


def test_an_enterprise_whose_id_starts_with_import_is_still_under_the_body_cap(
    settings, open_api, admin_headers, check_error
):
    with open_api(settings.model_copy(update={"max_body_bytes": 64 * 1024})) as api:
        large = {"name": "Big", "region": "harbin", "description": "x" * (70 * 1024)}

        response = api.client.put("/enterprises/imported", json=large, headers=admin_headers)

        check_error(response, 413, "PayloadTooLarge")


@pytest.mark.parametrize(
    "body",
    [
        "id,name,region\nne1,哈尔滨机床,harbin\n".encode("gbk"),
        b"id,name,region,description\nne1,Harbin,harbin," + b"x" * 140_000 + b"\n",
    ],
    ids=["gbk", "huge cell"],
)
def test_an_unreadable_csv_is_a_422_and_writes_nothing(
    api, upload, all_enterprises, check_error, body
):
    check_error(upload(body, CSV), 422, ("InvalidImport", "InvalidRequest"))
    assert all_enterprises(api) == []
