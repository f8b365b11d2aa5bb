"""The response schemas of the spec as a typed client reads them (issue 12).

A field the server always sends is `required` in the spec, so a client generated from it needs no
defaults of its own; a field it may leave out is not. A field whose values form a fixed set has an
`enum`, and every value the server sends is in it. Checked against real answers of the shipped
dataset, walked schema by schema.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ADMIN_KEY, Api

KEY = {"Authorization": f"Bearer {ADMIN_KEY}"}
ENTERPRISE = {
    "id": "ne-schema-1",
    "name": "Harbin Schema Robotics",
    "region": "harbin",
    "offers": {"robotics_intelligent_equipment": 0.9},
    "seeks": {"venture_capital": 0.7},
}
EAST_ENTERPRISE = {
    "id": "ea-schema-1",
    "name": "Shenzhen Schema Capital",
    "region": "shenzhen",
    "offers": {"venture_capital": 0.8},
    "seeks": {"robotics_intelligent_equipment": 0.6},
}
OUTCOME = {
    "northeast": "harbin",
    "east": "beijing",
    "indicator": "projects_signed",
    "value": 12,
    "date": "2019-03-01",
    "channels": ["innovation"],
    "source": "Harbin DRC annual summary 2019",
}
#: Fields the server leaves out when they have no value (the error handlers drop what is None).
MAY_BE_LEFT_OUT = {"ErrorBody": {"errors", "error_count"}, "ErrorItem": {"row"}}


class SchemaWalk:
    """Walks a JSON answer along its schema in the spec, checking every object's `required`."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.seen: set[str] = set()
        self.enum_checks = 0

    def check(self, schema: dict[str, Any], data: Any, where: str, name: str = "") -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            self.seen.add(name)
            self.check(self.schemas[name], data, where, name)
            return
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            if data is None and {"type": "null"} in branches:
                return
            failures = []
            for branch in (b for b in branches if b != {"type": "null"}):
                try:
                    self.check(branch, data, where, name)
                    return
                except AssertionError as failure:
                    failures.append(str(failure))
            raise AssertionError(f"{where}: no branch of {name or schema} fits: {failures}")
        if "enum" in schema:
            self.enum_checks += 1
            assert data in schema["enum"], f"{where}: {data!r} is not in {schema['enum']}"
        if isinstance(data, dict) and "properties" in schema:
            sent = set(data)
            required = set(schema.get("required", []))
            assert sent <= set(schema["properties"]), f"{where}: {name} sends undocumented fields"
            # Everything sent is required, and everything required is sent.
            assert sent - MAY_BE_LEFT_OUT.get(name, set()) == required, (
                f"{where} ({name}): sent {sorted(sent)}, required {sorted(required)}"
            )
            for key, value in data.items():
                self.check(schema["properties"][key], value, f"{where}.{key}")
        elif isinstance(data, dict) and isinstance(schema.get("additionalProperties"), dict):
            for key, value in data.items():
                self.check(schema["additionalProperties"], value, f"{where}.{key}")
        elif isinstance(data, list) and "prefixItems" in schema:
            for index, (part, value) in enumerate(zip(schema["prefixItems"], data, strict=True)):
                self.check(part, value, f"{where}.{index}")
        elif isinstance(data, list) and "items" in schema:
            for index, value in enumerate(data):
                self.check(schema["items"], value, f"{where}.{index}")


def answers(api: Api) -> list[tuple[str, str, Any]]:
    """(method, path template, body) of a real answer of every JSON-returning operation."""
    client = api.client
    found: list[tuple[str, str, Any]] = []

    def call(method: str, path: str, template: str, status: int = 200, **kwargs: Any) -> Any:
        response = client.request(method, path, headers=KEY, **kwargs)
        assert response.status_code == status, (path, response.text)
        found.append((method.lower(), template, response.json()))
        return response.json()

    for path in ("/health", "/ready", "/taxonomy", "/regions", "/links", "/graph", "/dataset"):
        call("GET", path, path)
    call("GET", "/regions/harbin", "/regions/{region_id}")
    call("GET", "/regions/harbin/suggestions", "/regions/{region_id}/suggestions")
    for northeast, east in (("heilongjiang", "guangdong"), ("harbin", "beijing")):
        call("GET", f"/links/{northeast}/{east}", "/links/{northeast_id}/{east_id}")
    call("POST", "/plans", "/plans", json={})
    call("POST", "/scenarios/evaluate", "/scenarios/evaluate", json={})
    first = call("POST", "/scenarios", "/scenarios", 201, json={"name": "a", "scenario": {}})
    second = call(
        "POST",
        "/scenarios",
        "/scenarios",
        201,
        json={"name": "b", "description": "capacity 1", "scenario": {"capacity": 1}},
    )
    call("GET", "/scenarios", "/scenarios")
    call("GET", f"/scenarios/{first['id']}", "/scenarios/{scenario_id}")
    call(
        "GET",
        f"/scenarios/{first['id']}/compare/{second['id']}",
        "/scenarios/{scenario_id}/compare/{other_id}",
    )
    call("POST", "/enterprises", "/enterprises", 201, json=ENTERPRISE)
    call("POST", "/enterprises", "/enterprises", 201, json=EAST_ENTERPRISE)
    call("GET", "/enterprises", "/enterprises")
    call("GET", f"/enterprises/{ENTERPRISE['id']}", "/enterprises/{enterprise_id}")
    call(
        "GET", f"/enterprises/{ENTERPRISE['id']}/partners", "/enterprises/{enterprise_id}/partners"
    )
    call("POST", "/partners/search", "/partners/search", json={"region": "harbin"})
    call(
        "POST",
        "/rounds",
        "/rounds",
        json={"northeast": [ENTERPRISE["id"]], "east": [EAST_ENTERPRISE["id"]]},
    )
    outcome = call("POST", "/outcomes", "/outcomes", 201, json=OUTCOME)
    call("GET", "/outcomes", "/outcomes")
    call("GET", f"/outcomes/{outcome['id']}", "/outcomes/{outcome_id}")
    call("GET", "/targets", "/targets")
    call("GET", "/evaluation/report", "/evaluation/report")
    call("GET", "/evaluation/calibration", "/evaluation/calibration")
    call("POST", "/keys", "/keys", 201, json={"role": "planner", "label": "schema test"})
    call("GET", "/keys", "/keys")
    return found


def response_schema(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    for status, response in spec["paths"][template][method]["responses"].items():
        if status.startswith("2"):
            schema: dict[str, Any] = response["content"]["application/json"]["schema"]
            return schema
    raise AssertionError(f"{method} {template} documents no success")


def test_every_field_a_response_sends_is_required_in_its_schema(api):
    spec = api.get("/openapi.json")
    walk = SchemaWalk(spec)
    for method, template, body in answers(api):
        walk.check(response_schema(spec, method, template), body, f"{method} {template}")
    # The answers reached the schemas a front-end reads most, including those issue 12 names.
    assert {"EnterpriseOut", "TieOut", "LinkDetail", "PlanOut", "SavedScenarioOut"} <= walk.seen
    assert len(walk.seen) >= 40, sorted(walk.seen)


def test_every_value_sent_in_a_field_with_an_enum_is_in_it(api):
    spec = api.get("/openapi.json")
    walk = SchemaWalk(spec)
    for method, template, body in answers(api):
        walk.check(response_schema(spec, method, template), body, f"{method} {template}")
    # Thousands of sides, levels, directions and kinds were checked, not a handful.
    assert walk.enum_checks > 1000, walk.enum_checks


ENUMS = [
    ("ErrorBody", "error", {"UnknownRegion", "ValidationError", "NotFound", "InternalError"}),
    (
        "LinkTermOut",
        "direction",
        {"northeast_to_east", "east_to_northeast", "synergy", "mutual", "ties", "outcomes"},
    ),
    ("MatchTermOut", "direction", {"northeast_to_east", "east_to_northeast", "synergy"}),
    ("SourcedOut", "kind", {"measured", "derived", "estimate"}),
    ("ContributionOut", "kind", {"channel", "factor"}),
    ("WeightIntervalOut", "kind", {"channel", "factor"}),
    ("ChannelOut", "kind", {"docking", "soft"}),
    ("PlanChangeOut", "reason", {"outscored", "threshold"}),
    ("RegionOut", "side", {"northeast", "east"}),
    ("RegionOut", "level", {"province", "city"}),
    ("GraphNode", "side", {"northeast", "east"}),
    ("GraphNode", "level", {"province", "city"}),
    ("SuggestionOut", "level", {"province", "city"}),
    ("SuggestionList", "side", {"northeast", "east"}),
    ("SuggestionList", "level", {"province", "city"}),
    ("EnterpriseOut", "side", {"northeast", "east"}),
]


def enum_of(spec: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """The values of a property's enum, through a `$ref` and a nullable `anyOf`."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        (schema,) = [branch for branch in schema["anyOf"] if branch != {"type": "null"}]
    assert "enum" in schema, schema
    return set(schema["enum"])


@pytest.mark.parametrize(
    ("schema", "field", "values"), ENUMS, ids=[f"{s}.{f}" for s, f, _ in ENUMS]
)
def test_a_field_with_a_fixed_set_of_values_is_an_enum_in_the_spec(api, schema, field, values):
    spec = api.get("/openapi.json")
    found = enum_of(spec, spec["components"]["schemas"][schema]["properties"][field])
    assert values <= found
    if schema != "ErrorBody":
        assert found == values


def test_every_error_code_the_service_raises_is_in_the_enum(api):
    from app.errors import AppError

    spec = api.get("/openapi.json")
    codes = enum_of(spec, spec["components"]["schemas"]["ErrorBody"]["properties"]["error"])
    kinds: list[type[AppError]] = [AppError]
    raised = set()
    while kinds:
        kind = kinds.pop()
        raised.add(kind.code)
        kinds.extend(kind.__subclasses__())
    assert {"InvalidImport", "WorkLimitExceeded", "Conflict"} <= raised
    assert raised <= codes, raised - codes


def test_an_error_answer_leaves_out_only_what_its_schema_does_not_require(api):
    spec = api.get("/openapi.json")
    walk = SchemaWalk(spec)
    error = {"$ref": "#/components/schemas/ErrorBody"}
    walk.check(error, api.fails("GET", "/regions/nowhere", 404, "UnknownRegion"), "404")
    walk.check(
        error, api.fails("POST", "/plans", 422, "ValidationError", json={"capacity": -1}), "422"
    )
    assert set(spec["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "detail"}


@pytest.mark.parametrize(
    ("schema", "field"),
    [("EnterpriseOut", "offers"), ("TieOut", "source"), ("OutcomeOut", "note")],
)
def test_a_request_field_with_a_default_stays_optional_where_it_is_an_input(api, schema, field):
    schemas = api.get("/openapi.json")["components"]["schemas"]
    assert field in schemas[schema]["required"]
    request = {"EnterpriseOut": "EnterpriseIn", "TieOut": None, "OutcomeOut": "OutcomeIn"}[schema]
    if request is not None:
        assert field not in schemas[request].get("required", [])
