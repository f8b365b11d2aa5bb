"""GET /dataset, GET /dataset/document and PUT /dataset: replacing the dataset, all or nothing."""

from __future__ import annotations

import base64
import copy
from datetime import datetime

import pytest

from app.settings import Settings

from .conftest import ADMIN_KEY, SHIPPED_VERSION

NEW_VERSION = f"{SHIPPED_VERSION}-test.2"


def region_in(document, region_id):
    return next(r for r in document["regions"] if r["id"] == region_id)


def first_strength(document, region_id):
    return next(iter(region_in(document, region_id)["strengths"]))


@pytest.fixture
def document(api):
    """The active dataset document, ready to edit."""
    return api.get("/dataset/document")


@pytest.fixture
def sector(document):
    """A sector harbin is strong in and beijing needs: changing it changes their link."""
    needs = region_in(document, "beijing")["needs"]
    return next(s for s in region_in(document, "harbin")["strengths"] if s in needs)


@pytest.fixture
def edited(document, sector):
    """The document with a new version and harbin's strength in `sector` changed."""
    new = copy.deepcopy(document)
    new["version"] = NEW_VERSION
    value = region_in(new, "harbin")["strengths"][sector]
    value["value"] = 0.123
    if value["kind"] == "estimate":
        value["range"] = [0.1, 0.2]
    return new


def test_dataset_names_version_digest_origin_and_sources(api):
    info = api.get("/dataset")

    assert info["version"] == SHIPPED_VERSION
    assert len(info["digest"]) == 64 and int(info["digest"], 16) >= 0
    assert info["origin"] == "shipped"
    assert info["regions"] == 14
    for source in info["sources"].values():
        assert source["title"] and source["kind"]
    # Tables copied into the repository say where they came from, down to the commit.
    tables = [s for s in info["sources"].values() if s["path"]]
    assert len(tables) >= 6 and all(s["repository"] and s["commit"] for s in tables)
    assert info["adopted"] == "2017-03-07"


def test_document_is_the_active_dataset(api, document):
    assert document["version"] == api.get("/dataset")["version"]
    assert [r["id"] for r in document["regions"]] == list(api.regions())


def test_write_without_a_key_is_a_401_asking_for_a_bearer_token(api, edited, check_error):
    response = api.client.put("/dataset", json=edited)

    check_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.get("/health")["dataset_version"] == SHIPPED_VERSION


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong-key-0123456789abcdef",
        f"Basic {base64.b64encode(ADMIN_KEY.encode()).decode()}",
        ADMIN_KEY,
        "Bearer \xa0",
        "Bearer ",
    ],
)
def test_write_with_a_wrong_key_is_a_401(api, edited, authorization, check_error):
    header = authorization.encode("latin-1")
    response = api.client.put("/dataset", json=edited, headers={"Authorization": header})

    check_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.get("/health")["dataset_version"] == SHIPPED_VERSION


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_admin_key_means_writes_are_refused(open_api, settings, edited, key, check_error):
    with open_api(settings.model_copy(update={"admin_key": None})) as api:
        assert Settings(data_dir=settings.data_dir, admin_key=key).admin_key is None
        for authorization in ("Bearer \xa0", "Bearer ", f"Bearer {key}"):
            # A non-breaking space, sent as the raw byte 0xA0 a careless client might send.
            header = authorization.encode("latin-1")
            response = api.client.put("/dataset", json=edited, headers={"Authorization": header})
            check_error(response, 401, "Unauthorized")


@pytest.mark.parametrize("key", ["short", " test-key-0123456789abcdef", "x" * 15])
def test_a_weak_admin_key_is_refused_at_start_naming_the_setting(key, tmp_path):
    with pytest.raises(ValueError, match="COUNTERPART_ADMIN_KEY must be at least 16 characters"):
        Settings(data_dir=tmp_path, admin_key=key)


def test_writes_are_refused_when_the_server_has_no_admin_key(
    open_api, settings, edited, admin_headers, check_error
):
    with open_api(settings.model_copy(update={"admin_key": None})) as api:
        response = api.client.put("/dataset", json=edited, headers=admin_headers)

        check_error(response, 401, "Unauthorized")
        assert api.get("/health")["dataset_version"] == SHIPPED_VERSION


def test_replacement_is_served_by_every_endpoint(api, edited, sector, admin_headers):
    before = api.get("/links/harbin/beijing")

    response = api.client.put("/dataset", json=edited, headers=admin_headers)

    assert response.status_code == 200, response.text
    info = response.json()
    assert (info["version"], info["origin"]) == (NEW_VERSION, "uploaded")
    assert api.get("/dataset") == info
    assert api.get("/dataset/document") == edited
    assert api.get("/health")["dataset_version"] == NEW_VERSION
    assert api.get("/regions")["dataset_version"] == NEW_VERSION
    assert api.get("/regions/harbin")["strengths"][sector]["value"] == 0.123
    assert api.get("/links")["dataset_version"] == NEW_VERSION
    assert api.get("/regions/harbin/suggestions")["dataset_version"] == NEW_VERSION
    assert api.post("/plans", {})["dataset_version"] == NEW_VERSION
    assert api.get("/graph")["graph"]["dataset_version"] == NEW_VERSION
    after = api.get("/links/harbin/beijing")
    assert after["dataset_version"] == NEW_VERSION
    quoted = {
        t["northeast_value"]
        for c in after["explanation"]
        for t in c["terms"]
        if t["sector"] == sector and t["direction"] == "northeast_to_east"
    }
    assert quoted == {0.123}
    assert after["score"] != before["score"]


def test_uploading_the_same_document_twice_is_accepted(api, edited, admin_headers):
    first = api.client.put("/dataset", json=edited, headers=admin_headers)
    second = api.client.put("/dataset", json=edited, headers=admin_headers)

    assert first.status_code == second.status_code == 200
    assert first.json()["digest"] == second.json()["digest"]


def harbin_strength_above_one(document):
    region_in(document, "harbin")["strengths"][first_strength(document, "harbin")]["value"] = 1.5


def harbin_unknown_sector(document):
    region_in(document, "harbin")["strengths"]["warp_drives"] = {
        "value": 0.5,
        "source": "estimate",
        "note": "no such sector",
    }


def harbin_unknown_counterpart(document):
    region_in(document, "harbin")["counterparts"] = ["shenzhen", "atlantis"]


def harbin_duplicated(document):
    document["regions"].append(copy.deepcopy(region_in(document, "harbin")))


def harbin_one_sided_counterpart(document):
    region_in(document, "harbin")["counterparts"] = ["shenzhen", "beijing"]


def tie_with_unknown_region(document):
    document["ties"][0]["northeast"] = "atlantis"


@pytest.mark.parametrize(
    ("corrupt", "record", "field", "named"),
    [
        pytest.param(
            harbin_unknown_sector,
            "region[harbin]",
            "strengths.warp_drives",
            "warp_drives",
            id="unknown-sector",
        ),
        pytest.param(
            harbin_strength_above_one, "region[harbin]", "strengths.", "1.5", id="value-above-1"
        ),
        pytest.param(
            harbin_unknown_counterpart,
            "region[harbin]",
            "counterparts",
            "atlantis",
            id="unknown-counterpart",
        ),
        pytest.param(harbin_duplicated, "region[harbin]", "id", "harbin", id="duplicate-region"),
        pytest.param(
            harbin_one_sided_counterpart,
            "region[",
            "counterparts",
            "beijing",
            id="one-sided-counterpart",
        ),
        pytest.param(
            tie_with_unknown_region, "ties[0]", "northeast", "atlantis", id="tie-unknown-region"
        ),
    ],
)
def test_invalid_dataset_is_a_422_naming_record_and_field_and_nothing_is_written(
    api, edited, admin_headers, check_error, corrupt, record, field, named
):
    before = api.get("/dataset")
    harbin_before = api.get("/regions/harbin")
    corrupt(edited)

    response = api.client.put("/dataset", json=edited, headers=admin_headers)

    body = check_error(response, 422, "InvalidDataset")
    assert record in body["detail"] and field in body["detail"] and named in body["detail"]
    assert body["errors"][0]["field"].startswith(f"body.{record}")
    assert api.get("/dataset") == before
    assert api.get("/health")["dataset_version"] == SHIPPED_VERSION
    assert api.get("/regions/harbin") == harbin_before


@pytest.mark.parametrize("length", [200, 201])
def test_a_version_is_at_most_200_characters_on_every_database(
    api, edited, admin_headers, check_error, length
):
    # PostgreSQL enforces the column's length where SQLite does not: a longer version was a
    # 500 there and stored on SQLite.
    edited["version"] = "v" * length

    response = api.client.put("/dataset", json=edited, headers=admin_headers)

    if length == 200:
        assert response.status_code == 200, response.text
        assert api.get("/health")["dataset_version"] == edited["version"]
    else:
        body = check_error(response, 422, "InvalidDataset")
        assert "version" in body["detail"] and "at most 200 characters, got 201" in body["detail"]
        assert api.get("/health")["dataset_version"] == SHIPPED_VERSION


def test_a_document_that_is_not_an_object_is_a_422(api, admin_headers, check_error):
    response = api.client.put("/dataset", json=["not", "a", "dataset"], headers=admin_headers)

    check_error(response, 422, ("ValidationError", "InvalidDataset"))
    assert api.get("/health")["dataset_version"] == SHIPPED_VERSION


def test_same_version_with_other_content_is_a_409_and_keeps_the_stored_one(
    api, edited, admin_headers, check_error
):
    before = api.get("/dataset")
    edited["version"] = SHIPPED_VERSION

    response = api.client.put("/dataset", json=edited, headers=admin_headers)

    body = check_error(response, 409, "Conflict")
    assert SHIPPED_VERSION in body["detail"]
    assert api.get("/dataset") == before


def test_replacement_survives_a_restart(open_api, settings, edited, admin_headers):
    with open_api(settings) as first:
        response = first.client.put("/dataset", json=edited, headers=admin_headers)
        assert response.status_code == 200, response.text

    with open_api(settings) as restarted:
        info = restarted.get("/dataset")
        assert (info["version"], info["origin"]) == (NEW_VERSION, "uploaded")
        assert restarted.get("/health")["dataset_version"] == NEW_VERSION
        assert restarted.get("/dataset/document") == edited


def test_a_replacement_by_one_worker_is_served_by_the_others(
    open_api, settings, edited, sector, admin_headers
):
    with open_api(settings) as writer, open_api(settings) as reader:
        assert reader.get("/health")["dataset_version"] == SHIPPED_VERSION

        response = writer.client.put("/dataset", json=edited, headers=admin_headers)

        assert response.status_code == 200, response.text
        assert reader.get("/dataset")["version"] == NEW_VERSION
        assert reader.get("/dataset")["digest"] == response.json()["digest"]
        # /health answers from memory (liveness): it shows the version once the worker serves it.
        assert reader.get("/health")["dataset_version"] == NEW_VERSION
        assert reader.get("/regions/harbin")["strengths"][sector]["value"] == 0.123


def test_activated_at_is_timezone_aware_and_the_same_on_every_worker(
    open_api, settings, edited, admin_headers
):
    with open_api(settings) as writer, open_api(settings) as reader:
        written = writer.client.put("/dataset", json=edited, headers=admin_headers).json()
        seen = reader.get("/dataset")

    assert datetime.fromisoformat(seen["activated_at"]).tzinfo is not None
    assert seen["activated_at"] == written["activated_at"]


def test_a_write_without_a_key_is_a_401_whatever_its_body(api, check_error):
    response = api.client.put(
        "/dataset", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    check_error(response, 401, "Unauthorized")
