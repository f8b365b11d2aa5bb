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
