"""The request contract: every error encodes and stays small, parsing is strict, statuses are
documented.

Each test here reproduces a report of issue 9 (a 500, an undocumented status, nonsense accepted)
and checks the answer a front-end gets instead.
"""

from __future__ import annotations

import json

import pytest

from .conftest import error_body

JSON = {"Content-Type": "application/json"}
ENTERPRISE = {
    "id": "ne-contract-1",
    "name": "Harbin Contract Robotics",
    "region": "harbin",
    "offers": {"robotics_intelligent_equipment": 0.9},
    "seeks": {"venture_capital": 0.7},
}


def raw(text: str) -> bytes:
    """A JSON body as a client may send it: `\\ud800` stays an escape (a lone surrogate)."""
    return text.encode("ascii")


# A lone UTF-16 surrogate anywhere in the input gets a 422 that encodes.


@pytest.mark.parametrize(
    ("method", "path", "body", "write"),
    [
        ("POST", "/partners/search", r'{"region": "harbin", "offers": {"\ud800": 0.5}}', False),
        ("POST", "/partners/search", r'{"region": "harbin", "off\ud800ers": {}}', False),
        ("POST", "/plans", r'{"capacities": {"\udfff": 1}}', False),
        (
            "POST",
            "/enterprises",
            r'{"name": "x", "region": "harbin", "seeks": {"\ud800": 1}}',
            True,
        ),
        ("PUT", "/dataset", r'{"version": "x", "\ud800": 1}', True),
    ],
)
def test_a_lone_surrogate_gets_a_422_that_names_it_escaped(
    api, admin_headers, method, path, body, write
):
    headers = {**JSON, **(admin_headers if write else {})}
    response = api.client.request(method, path, content=raw(body), headers=headers)
    found = error_body(response, 422, ("ValidationError", "InvalidRequest", "InvalidDataset"))
    # Where the answer echoes the input, the surrogate is escaped, not dropped.
    assert "\ud800" not in response.text and "\udfff" not in response.text
    assert r"\ud800" in found["detail"] or r"\udfff" in found["detail"] or "body" in found["detail"]


def test_a_lone_surrogate_in_an_ndjson_import_gets_a_422(api, admin_headers):
    line = json.dumps({**ENTERPRISE, "offers": {"\ud800": 0.5}})
    response = api.client.post(
        "/enterprises/import",
        content=line.encode("ascii") + b"\n",
        headers={**admin_headers, "Content-Type": "application/x-ndjson"},
    )
    found = error_body(response, 422, "InvalidImport")
    assert found["errors"][0]["field"] == r"offers.\ud800"


# An error lists at most 50 problems and counts them all.


@pytest.mark.parametrize("per_side", [5_000, 50_000])
def test_a_request_with_thousands_of_problems_gets_a_small_422_that_counts_them(api, per_side):
    body = {"northeast": list(range(per_side)), "east": list(range(per_side))}
    response = api.client.post("/rounds", json=body)
    found = error_body(response, 422, "ValidationError")
    assert len(response.content) < 20_000, len(response.content)
    assert len(found["errors"]) <= 50
    assert found["error_count"] >= len(found["errors"])
    if per_side == 5_000:
        # Every id is a number, not a string: each one is a problem, counted.
        assert found["error_count"] == 2 * per_side
        assert found["errors"][0]["field"] == "body.northeast.0"
        assert "and 9950 more" in found["detail"]


def test_an_error_with_one_problem_counts_one(api):
    found = api.fails("POST", "/plans", 422, "ValidationError", json={"capacity": -1})
    assert found["error_count"] == 1 and len(found["errors"]) == 1


# A body that is not JSON the API accepts is a 422 in the error shape, never a 400.


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"capacity": "\xff"}', "not UTF-8"),
        (b'{"capacity": ' + b"9" * 5_000 + b"}", "5000 digits"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"capacity": 1, "capacity": 2}', "'capacity' given more than once"),
        (b'{"weights": {"channels": {"agriculture": 1, "agriculture": 0}}}', "'agriculture'"),
        (b'{"capacity": }', "Expecting value (at character 13)"),
        # Over 64 KiB: decoded in a worker thread, refused the same way.
        (
            b'{"capacities": {' + b"".join(b'"r%d": 1, ' % i for i in range(9_000)) + b'"r1": 2}}',
            "'r1' given more than once",
        ),
    ],
    ids=[
        "not-utf8",
        "huge-integer",
        "deep",
        "duplicate-key",
        "nested-duplicate",
        "syntax",
        "large",
    ],
)
def test_a_body_that_is_not_acceptable_json_is_a_422_saying_why(api, body, reason):
    found = api.fails("POST", "/plans", 422, "ValidationError", content=body, headers=JSON)
    assert found["errors"] == [{"field": "body", "error": found["errors"][0]["error"]}]
    assert reason in found["detail"], found


# No silent coercion.


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/scenarios/evaluate", {"k": "5"}, "body.k"),
        ("/scenarios/evaluate", {"k": True}, "body.k"),
        ("/scenarios/evaluate", {"links": 5.0}, "body.links"),
        ("/plans", {"same_level": 1}, "body.same_level"),
        ("/plans", {"same_level": "true"}, "body.same_level"),
        ("/plans", {"min_score": "0.1"}, "body.min_score"),
        ("/plans", {"min_score": False}, "body.min_score"),
        ("/plans", {"as_of": 0}, "body.as_of"),
        ("/partners/search", {"region": "harbin", "k": "5"}, "body.k"),
        ("/partners/search", {"region": "harbin", "offers": {"grain": "0.5"}}, "body.offers.grain"),
    ],
)
def test_a_number_or_boolean_of_the_wrong_type_is_refused(api, path, body, field):
    found = api.fails("POST", path, 422, "ValidationError", json=body)
    assert [e["field"] for e in found["errors"]] == [field], found


def test_query_integers_are_still_read_from_their_text(api):
    body = api.get("/links", limit="3")
    assert len(body["links"]) == 3


def test_an_iso_date_in_a_body_is_accepted(api):
    assert api.post("/plans", {"as_of": "2020-01-01"})["as_of"] == "2020-01-01"


@pytest.mark.parametrize("founded", ["2_012", "2012", 2012.0, True])
def test_founded_is_an_integer_year_and_nothing_else(api, admin_headers, founded):
    body = {**ENTERPRISE, "founded": founded}
    found = api.fails("POST", "/enterprises", 422, "ValidationError", json=body,
                      headers=admin_headers)  # fmt: skip
    assert [e["field"] for e in found["errors"]] == ["body.founded"]


@pytest.mark.parametrize("field", ["name", "description", "contact"])
@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_refused_in_names_and_text(api, admin_headers, field, character):
    body = {**ENTERPRISE, field: f"Harbin{character}Robotics"}
    found = api.fails("POST", "/enterprises", 422, "ValidationError", json=body,
                      headers=admin_headers)  # fmt: skip
    assert found["errors"][0]["field"] == f"body.{field}"
    assert f"U+{ord(character):04X}" in found["detail"]


def test_line_breaks_and_tabs_stay_allowed_in_free_text(api, admin_headers):
    body = {**ENTERPRISE, "description": "Robots.\n\tAnd arms.\r\n"}
    response = api.client.post("/enterprises", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text


def test_a_control_character_in_a_scenario_name_is_refused(api, admin_headers):
    body = {"name": "agri\x00x2", "scenario": {}}
    found = api.fails("POST", "/scenarios", 422, "ValidationError", json=body,
                      headers=admin_headers)  # fmt: skip
    assert found["errors"][0]["field"] == "body.name"


# Query strings: unknown or repeated parameters, repeated weights, weights too small to mean it.


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/links", "northest=harbin", "query.northest"),
        ("/links", "limit=1&limit=2", "query.limit"),
        ("/taxonomy", "lang=zh", "query.lang"),
        ("/health", "verbose=1", "query.verbose"),
        ("/regions/harbin/suggestions", "k=3&kk=4", "query.kk"),
    ],
)
def test_an_unknown_or_repeated_query_parameter_is_a_422_naming_it(api, path, query, field):
    found = api.fails("GET", f"{path}?{query}", 422, "ValidationError")
    assert [e["field"] for e in found["errors"]] == [field], found


def test_an_unknown_query_parameter_message_lists_those_taken(api):
    found = api.fails("GET", "/links?northest=harbin", 422, "ValidationError")
    assert "northeast" in found["errors"][0]["error"]


def test_a_weight_given_twice_in_the_query_is_a_422_naming_it(api):
    found = api.fails(
        "GET",
        "/links",
        422,
        "InvalidRequest",
        params={"weights": "agriculture:0.3,agriculture:0.5"},
    )
    assert found["errors"] == [
        {"field": "query.weights", "error": "'agriculture' is given more than once"}
    ]


@pytest.mark.parametrize("weight", ["1e-320", "1e-7", "9.9e-7"])
def test_a_positive_weight_below_the_minimum_is_refused(api, weight):
    found = api.fails(
        "GET", "/links", 422, "InvalidRequest", params={"weights": f"equipment:{weight}"}
    )
    assert "at least 1e-06" in found["detail"]
    body = {"weights": {"channels": {"equipment": float(weight)}}}
    found = api.fails("POST", "/plans", 422, "InvalidRequest", json=body)
    assert "at least 1e-06" in found["detail"]


def test_zero_and_the_minimum_weight_are_accepted(api):
    api.get("/links", weights="equipment:0,agriculture:1e-6")


# CSV cells: a sector given twice, a year that only int() reads.


def test_a_csv_row_with_a_sector_twice_or_an_odd_year_names_both(api, admin_headers):
    csv = b"id,name,region,offers,founded\nne-9,X,harbin,grain:0.5;grain:0.9,2_012\n"
    response = api.client.post(
        "/enterprises/import", content=csv, headers={**admin_headers, "Content-Type": "text/csv"}
    )
    found = error_body(response, 422, "InvalidImport")
    assert found["errors"] == [
        {"field": "offers", "error": "sector 'grain' is given more than once", "row": 2},
        {"field": "founded", "error": "'2_012' is not a year", "row": 2},
    ]


# An enterprise's partners: never itself, each once.


@pytest.mark.parametrize(
    ("partners", "error"),
    [
        (["ne-contract-1"], "an enterprise is not its own partner"),
        (["ea-contract-1", "ea-contract-1"], "'ea-contract-1' listed more than once"),
    ],
    ids=["itself", "twice"],
)
def test_a_partner_list_naming_itself_or_an_id_twice_is_a_422(api, admin_headers, partners, error):
    body = {**ENTERPRISE, "partners": partners}
    found = api.fails("POST", "/enterprises", 422, "InvalidRequest", json=body,
                      headers=admin_headers)  # fmt: skip
    assert found["errors"] == [{"field": "body.partners", "error": error}]
    # Nothing was written; a PATCH is held to the same rules.
    api.fails("GET", "/enterprises/ne-contract-1", 404, "NotFound")
    assert (
        api.client.post("/enterprises", json=ENTERPRISE, headers=admin_headers).status_code == 201
    )
    found = api.fails("PATCH", "/enterprises/ne-contract-1", 422, "InvalidRequest",
                      json={"partners": partners}, headers=admin_headers)  # fmt: skip
    assert found["errors"] == [{"field": "body.partners", "error": error}]


# A read writes nothing, whatever it reads (saved scenarios' results included).

#: A concrete path for every GET of the API, its parameters filled with what the test stores.
READS = {
    "/regions/{region_id}": "/regions/harbin",
    "/regions/{region_id}/suggestions": "/regions/harbin/suggestions",
    "/links/{northeast_id}/{east_id}": "/links/harbin/beijing",
    "/scenarios/{scenario_id}": "/scenarios/{scenario}",
    "/scenarios/{scenario_id}/compare/{other_id}": "/scenarios/{scenario}/compare/{scenario}",
    "/enterprises/{enterprise_id}": "/enterprises/ne-contract-1",
    "/enterprises/{enterprise_id}/partners": "/enterprises/ne-contract-1/partners",
    "/outcomes/{outcome_id}": "/outcomes/{outcome}",
    "/evaluation/charts/{chart}.{fmt}": "/evaluation/charts/trend.svg",
}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def test_no_get_without_a_key_writes_to_the_database(api, admin_headers):
    from sqlalchemy import event

    scenario = api.client.post(
        "/scenarios", json={"name": "read-only", "scenario": {}}, headers=admin_headers
    ).json()["id"]
    outcome = api.client.post(
        "/outcomes",
        json={"northeast": "harbin", "east": "shenzhen", "indicator": "projects_signed",
              "value": 119, "date": "2024-08-07", "channels": ["equipment"], "source": "x"},
        headers=admin_headers,
    ).json()["id"]  # fmt: skip
    api.client.post("/enterprises", json=ENTERPRISE, headers=admin_headers)
    # A new dataset version: every saved scenario's result must be computed again on read.
    document = api.get("/dataset/document")
    document["version"] = f"{document['version']}-contract"
    assert api.client.put("/dataset", json=document, headers=admin_headers).status_code == 200

    spec = api.client.get("/openapi.json").json()
    paths = {
        path: item["get"].get("security") == [{"HTTPBearer": []}]
        for path, item in spec["paths"].items()
        if "get" in item
    }
    written: list[str] = []
    engine = api.client.app.state.database.engine

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(WRITES):
            written.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for path, needs_key in paths.items():
            url = READS.get(path, path).format(scenario=scenario, outcome=outcome)
            assert "{" not in url, f"add a concrete path for {path} to READS"
            response = api.client.get(url)
            assert response.status_code == (401 if needs_key else 200), (url, response.text)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert written == []


# The spec: every status documented, operation ids a generated client can use.


def test_every_operation_documents_its_error_statuses(api):
    spec = api.client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            statuses = operation["responses"].keys()
            name = f"{method.upper()} {path}"
            assert "422" in statuses, name
            assert "400" not in statuses, name
            if "{" in path:
                assert "404" in statuses, name
            if method in ("post", "put", "patch"):
                assert "413" in statuses, name
            if operation.get("security") == [{"HTTPBearer": []}]:
                assert {"401", "403"} <= statuses, name
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (name, status)


def test_operation_ids_are_the_endpoints_names_and_unique(api):
    spec = api.client.get("/openapi.json").json()
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert all(i.isidentifier() and not i.endswith(("_get", "_post")) for i in ids), ids
    assert spec["paths"]["/links/{northeast_id}/{east_id}"]["get"]["operationId"] == "get_link"


def test_open_operations_say_so_and_the_spec_names_its_server(api):
    spec = api.client.get("/openapi.json").json()
    assert spec["servers"] == [{"url": "/", "description": "This service."}]
    security = {
        f"{method.upper()} {path}": operation.get("security")
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    assert security["GET /links"] == [] and security["POST /plans"] == []
    assert security["PUT /dataset"] == [{"HTTPBearer": []}]
    assert security["GET /enterprises"] == [{}, {"HTTPBearer": []}]
    assert None not in security.values()


def test_an_ndjson_import_is_held_to_the_same_rules_as_a_single_write(api, admin_headers):
    line = json.dumps({"id": "ne-1", "name": "A\x00", "region": "harbin", "founded": "2012"})
    response = api.client.post(
        "/enterprises/import",
        content=line.encode() + b"\n",
        headers={**admin_headers, "Content-Type": "application/x-ndjson"},
    )
    found = error_body(response, 422, "InvalidImport")
    assert [(e["field"], e["row"]) for e in found["errors"]] == [("name", 1), ("founded", 1)]


def test_a_422_described_by_its_detail_alone_still_lists_its_problem(api):
    found = api.fails("GET", "/links", 422, "InvalidRequest", params={"channel": "espionage"})
    assert found["errors"][0]["field"] == "query.channel"
    assert found["errors"][0]["error"].startswith("unknown channel 'espionage'")
    assert found["error_count"] == 1


# Non-JSON answers and bodies are typed: a generated client gets text or bytes, not nothing.

TEXT = {"type": "string"}
BINARY = {"type": "string", "format": "binary"}


def _responses(spec, method, path):
    return spec["paths"][path][method]["responses"]["200"]["content"]


def test_every_non_json_answer_has_a_string_schema_and_json_only_the_model(api):
    spec = api.client.get("/openapi.json").json()
    graphml = _responses(spec, "get", "/graph.graphml")
    assert graphml == {"application/graphml+xml": {"schema": TEXT}}
    charts = _responses(spec, "get", "/evaluation/charts/{chart}.{fmt}")
    assert charts == {"image/svg+xml": {"schema": TEXT}, "image/png": {"schema": BINARY}}
    report = _responses(spec, "get", "/evaluation/report")
    assert report["text/csv"] == {"schema": TEXT}
    assert report["application/json"]["schema"] == {"$ref": "#/components/schemas/ReportOut"}
    rounds = _responses(spec, "post", "/rounds")
    assert rounds["text/csv"] == {"schema": TEXT}
    assert rounds["application/json"]["schema"] == {"$ref": "#/components/schemas/RoundOut"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for media, content in response.get("content", {}).items():
                    where = (method, path, status, media)
                    assert content.get("schema"), where
                    if media != "application/json":
                        assert content["schema"] in (TEXT, BINARY), where
                    else:
                        assert "string" not in json.dumps(content["schema"].get("anyOf")), where


@pytest.mark.parametrize(
    ("path", "columns"),
    [
        ("/enterprises/import", ("id", "name", "region", "offers", "contact", "partners")),
        ("/outcomes/import", ("northeast", "east", "indicator", "channels", "east_enterprise")),
    ],
)
def test_an_import_body_is_documented_as_csv_or_ndjson_with_its_columns(api, path, columns):
    spec = api.client.get("/openapi.json").json()
    body = spec["paths"][path]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        "text/csv": {"schema": TEXT},
        "application/x-ndjson": {"schema": TEXT},
    }
    for column in columns:
        assert f"`{column}`" in body["description"], column


# One naming scheme for `errors[].field`: where the parameter is, then its path.


@pytest.mark.parametrize(
    ("method", "path", "request_args", "field"),
    [
        # pydantic, on a body and on a query parameter
        ("POST", "/plans", {"json": {"capacities": "x"}}, "body.capacities"),
        ("GET", "/links", {"params": {"limit": "abc"}}, "query.limit"),
        # app.parsing: a query parameter the operation does not take
        ("GET", "/links", {"params": {"bogus": "1"}}, "query.bogus"),
        # the engine, naming a parameter in its message
        ("GET", "/graph", {"params": {"weights": "agriculture:-5"}}, "query.weights.agriculture"),
        ("POST", "/plans", {"json": {"capacities": {"nowhere": 1}}}, "body.capacities"),
        # a service's check and an unknown region named by a parameter
        ("GET", "/links", {"params": {"channel": "espionage"}}, "query.channel"),
        ("GET", "/links", {"params": {"east": "nowhere"}}, "query.east"),
        ("POST", "/partners/search", {"json": {"region": "nowhere", "offers": {}}}, "body.region"),
        # a path parameter
        ("GET", "/enterprises/" + "x" * 500, {}, "path.enterprise_id"),
    ],
)
def test_every_422_names_its_field_by_where_it_is(api, method, path, request_args, field):
    response = api.client.request(method, path, **request_args)
    found = error_body(response, 422, ("ValidationError", "InvalidRequest"))
    fields = [e["field"] for e in found["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), found
    assert all(f.split(".")[0] in ("body", "query", "path") for f in fields), found
