"""Text with the NUL character is refused before it reaches the database, on every database.

PostgreSQL's text cannot hold U+0000 (a write was a 500 there, and stored on SQLite): every
stored text field refuses it with a 422 that names the field, and nothing is written.
"""

from __future__ import annotations

import pytest

NUL = "a\u0000b"
PROFILE = {
    "id": "ne-nul-1",
    "name": "Harbin Demo",
    "region": "harbin",
    "offers": {"grain": 0.5},
    "seeks": {},
    "size": "small",
    "ownership": "private",
}
OUTCOME = {
    "northeast": "harbin",
    "east": "beijing",
    "indicator": "projects_signed",
    "value": 1,
    "date": "2020-01-01",
    "channels": ["equipment"],
    "source": "a report",
}


@pytest.mark.parametrize("field", ["name", "description", "contact"])
def test_an_enterprise_with_nul_is_a_422_naming_the_field(api, admin_headers, check_error, field):
    profile = {**PROFILE, field: NUL}

    body = check_error(
        api.client.put("/enterprises/ne-nul-1", json=profile, headers=admin_headers),
        422,
        "ValidationError",
    )

    assert field in body["detail"] and "NUL" in body["detail"]
    check_error(api.client.get("/enterprises/ne-nul-1"), 404, ("NotFound", "UnknownEnterprise"))


def test_a_patch_with_nul_changes_nothing(api, admin_headers, check_error):
    assert api.client.put("/enterprises/ne-nul-1", json=PROFILE, headers=admin_headers).is_success

    body = check_error(
        api.client.patch("/enterprises/ne-nul-1", json={"name": NUL}, headers=admin_headers),
        422,
        "ValidationError",
    )

    assert "name" in body["detail"] and "NUL" in body["detail"]
    assert api.get("/enterprises/ne-nul-1")["name"] == PROFILE["name"]


def test_an_import_row_with_nul_is_listed_and_nothing_is_imported(api, admin_headers, check_error):
    csv = (
        "id,name,region,offers,seeks,size,ownership\n"
        "ne-ok,Fine,harbin,grain:0.5,,small,private\n"
        "ne-bad,a\x00b,harbin,grain:0.5,,small,private\n"
    )
    headers = {**admin_headers, "Content-Type": "text/csv"}

    body = check_error(
        api.client.post("/enterprises/import", content=csv.encode(), headers=headers),
        422,
        "InvalidImport",
    )

    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, "name")]
    assert api.get("/enterprises", limit=10)["items"] == []


@pytest.mark.parametrize("field", ["source", "note"])
def test_an_outcome_with_nul_is_a_422_naming_the_field(api, admin_headers, check_error, field):
    before = api.get("/outcomes", limit=1)["total"]

    body = check_error(
        api.client.post("/outcomes", json={**OUTCOME, field: NUL}, headers=admin_headers),
        422,
        "ValidationError",
    )

    assert field in body["detail"] and "NUL" in body["detail"]
    assert api.get("/outcomes", limit=1)["total"] == before


@pytest.mark.parametrize("field", ["name", "description"])
def test_a_scenario_with_nul_is_a_422_naming_the_field(api, admin_headers, check_error, field):
    saved = {"name": "fine", "scenario": {}, field: NUL}

    body = check_error(
        api.client.post("/scenarios", json=saved, headers=admin_headers), 422, "ValidationError"
    )

    assert field in body["detail"] and "NUL" in body["detail"]
    assert api.get("/scenarios")["total"] == 0


def test_a_dataset_version_with_nul_is_a_422(api, admin_headers, check_error):
    document = api.get("/dataset/document")
    shipped = document["version"]
    document["version"] = NUL

    body = check_error(
        api.client.put("/dataset", json=document, headers=admin_headers), 422, "InvalidDataset"
    )

    assert "version" in body["detail"] and "NUL" in body["detail"]
    assert api.get("/health")["dataset_version"] == shipped
