"""GET /health, GET /taxonomy, CORS, the OpenAPI document and unknown routes."""

from __future__ import annotations

import math

import pytest

from .conftest import SHIPPED_VERSION

JSON = {"Content-Type": "application/json"}
CHANNELS = [
    "equipment",
    "emerging",
    "agriculture",
    "culture_tourism_health",
    "institutions",
    "innovation",
    "platforms",
]
FACTORS = ["resource_endowment", "industrial_base", "development_level", "cooperation_status"]

ENDPOINTS = {
    ("get", "/health"),
    ("get", "/taxonomy"),
    ("get", "/regions"),
    ("get", "/regions/{region_id}"),
    ("get", "/regions/{region_id}/suggestions"),
    ("get", "/links"),
    ("get", "/links/{northeast_id}/{east_id}"),
    ("post", "/plans"),
    ("get", "/graph"),
    ("get", "/graph.graphml"),
    ("get", "/dataset"),
    ("get", "/dataset/document"),
    ("put", "/dataset"),
}


def preflight(client, origin, method="GET", headers=None):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options("/links", headers=request_headers)


def test_health_names_the_active_dataset_and_counts_its_regions(api):
    health = api.get("/health")

    assert health == {
        "status": "ok",
        "dataset_version": api.get("/dataset")["version"],
        "regions": 14,
    }
    assert health["dataset_version"] == SHIPPED_VERSION


def test_taxonomy_lists_the_channels_and_the_four_factors(api):
    taxonomy = api.get("/taxonomy")

    assert [c["id"] for c in taxonomy["channels"]] == CHANNELS
    assert [f["id"] for f in taxonomy["factors"]] == FACTORS


def test_every_sector_belongs_to_exactly_one_channel(api):
    channels = api.get("/taxonomy")["channels"]
    sectors = [s["id"] for c in channels for s in c["sectors"]]

    assert all(c["sectors"] for c in channels)
    assert len(sectors) == len(set(sectors))


def test_every_sector_a_region_names_is_in_the_taxonomy(api):
    sectors = {s["id"] for c in api.get("/taxonomy")["channels"] for s in c["sectors"]}

    named = {s for r in api.regions().values() for s in [*r["strengths"], *r["needs"]]}

    assert named <= sectors


def test_default_weights_sum_to_one_so_min_score_is_on_the_score_scale(api):
    taxonomy = api.get("/taxonomy")
    weights = [c["default_weight"] for c in taxonomy["channels"] + taxonomy["factors"]]

    assert math.isclose(sum(weights), 1.0, rel_tol=1e-9)
    assert api.get("/links", limit=1)["weights"] == {
        item["id"]: item["default_weight"] for item in taxonomy["channels"] + taxonomy["factors"]
    }


def test_no_origin_is_allowed_by_cors_unless_configured(api):
    # The service's own web app is same-origin; other origins must be listed.
    response = preflight(api.client, "https://planner.example", method="PUT")
    simple = api.client.get("/health", headers={"Origin": "https://planner.example"})

    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in simple.headers


def test_errors_carry_cors_headers_for_a_listed_origin_even_a_413(open_api, strict_cors_settings):
    settings = strict_cors_settings.model_copy(update={"max_body_bytes": 2048})
    origin = {"Origin": "https://app.example"}
    with open_api(settings) as api:
        too_large = api.client.post(
            "/plans", content=b"{" + b" " * 4096 + b"}", headers={**origin, **JSON}
        )
        unauthorised = api.client.put("/dataset", json={}, headers=origin)
        missing = api.client.get("/regions/atlantis", headers=origin)

    assert (too_large.status_code, unauthorised.status_code, missing.status_code) == (413, 401, 404)
    for response in (too_large, unauthorised, missing):
        assert response.headers["access-control-allow-origin"] == "https://app.example"


@pytest.fixture
def strict_cors_settings(settings):
    return settings.model_copy(update={"cors_origins": ["https://app.example"]})


def test_cors_preflight_from_a_listed_origin_is_allowed_with_the_admin_header(
    open_api, strict_cors_settings
):
    with open_api(strict_cors_settings) as api:
        response = preflight(
            api.client, "https://app.example", method="PUT", headers="authorization,content-type"
        )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_cors_refuses_an_origin_that_is_not_listed(open_api, strict_cors_settings):
    with open_api(strict_cors_settings) as api:
        response = preflight(api.client, "https://evil.example")
        simple = api.client.get("/health", headers={"Origin": "https://evil.example"})

    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in simple.headers


def test_openapi_documents_every_endpoint(api):
    paths = api.get("/openapi.json")["paths"]

    documented = {(method, path) for path, item in paths.items() for method in item}

    assert ENDPOINTS <= documented


def test_openapi_declares_the_bearer_key_on_the_write(api):
    document = api.get("/openapi.json")

    assert document["paths"]["/dataset"]["put"]["security"] == [{"HTTPBearer": []}]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_openapi_documents_every_error_response_in_the_error_shape(api):
    paths = api.get("/openapi.json")["paths"]
    error_schemas = {
        (method.upper(), path, status): response["content"]["application/json"]["schema"]
        for path, item in paths.items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if status.startswith("4")
    }

    wrong = {
        key: schema
        for key, schema in error_schemas.items()
        if schema != {"$ref": "#/components/schemas/ErrorBody"}
    }

    assert wrong == {}


def test_unknown_route_is_a_404_in_the_error_shape(api):
    api.fails("GET", "/nowhere", 404, "NotFound")


def test_wrong_method_is_a_405_in_the_error_shape(api):
    api.fails("DELETE", "/health", 405, "MethodNotAllowed")


# Response headers.


def test_every_answer_carries_the_security_headers(api):
    for response in (
        api.client.get("/taxonomy"),
        api.client.get("/regions/atlantis"),
        api.client.post("/plans", json={"capacity": -1}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("path", ["/taxonomy", "/regions", "/links?limit=5", "/dataset", "/graph"])
def test_gets_revalidate_with_an_etag_and_answer_304_when_unchanged(api, path):
    first = api.client.get(path)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"

    again = api.client.get(path, headers={"If-None-Match": etag})
    other = api.client.get(path, headers={"If-None-Match": '"something-else"'})

    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    assert other.status_code == 200 and other.content == first.content


def test_the_etag_changes_when_the_dataset_does(api, admin_headers):
    etag = api.client.get("/regions/harbin").headers["etag"]
    document = api.get("/dataset/document")
    document["version"] = f"{document['version']}-etag"
    harbin = next(r for r in document["regions"] if r["id"] == "harbin")
    harbin["name_en"] = "Harbin City"
    assert api.client.put("/dataset", json=document, headers=admin_headers).status_code == 200

    changed = api.client.get("/regions/harbin", headers={"If-None-Match": etag})

    assert changed.status_code == 200 and changed.headers["etag"] != etag
