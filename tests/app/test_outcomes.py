"""Outcomes and targets over HTTP: seeded, recorded, imported all or nothing, feeding scores."""

from __future__ import annotations

import json
from typing import Any

import pytest

from matching import load_dataset, load_outcomes

from .conftest import ADMIN_KEY

KEY = {"Authorization": f"Bearer {ADMIN_KEY}"}
PUBLISHED = load_outcomes(load_dataset())[1]


def body(**changes: Any) -> dict[str, Any]:
    outcome = {
        "northeast": "harbin",
        "east": "beijing",
        "indicator": "projects_signed",
        "value": 12,
        "date": "2019-03-01",
        "channels": ["innovation"],
        "source": "Harbin DRC annual summary 2019",
    }
    return {**outcome, **changes}


def test_the_published_outcomes_are_seeded_once(api: Any, settings: Any, open_api: Any) -> None:
    listed = api.get("/outcomes", limit=1000)
    assert listed["total"] == len(PUBLISHED)
    first = listed["items"][0]
    assert first["source"].startswith("report-") and first["unit"]
    assert [o["date"] for o in listed["items"]] == sorted(o["date"] for o in listed["items"])
    recorded = api.client.post("/outcomes", json=body(), headers=KEY)
    assert recorded.status_code == 201
    # Another start on the same database seeds nothing again and keeps what was recorded.
    with open_api(settings) as again:
        assert again.get("/outcomes", limit=1000)["total"] == len(PUBLISHED) + 1


def test_record_read_correct_and_delete_an_outcome(api: Any, check_error: Any) -> None:
    check_error(api.client.post("/outcomes", json=body()), 401, "Unauthorized")
    created = api.client.post("/outcomes", json=body(), headers=KEY)
    assert created.status_code == 201, created.text
    outcome = created.json()
    assert outcome["year"] == 2019 and outcome["unit"] == "projects"
    assert api.get(f"/outcomes/{outcome['id']}") == outcome
    changed = api.client.put(
        f"/outcomes/{outcome['id']}", json=body(value=15, channels=["innovation", "platforms"]),
        headers=KEY,
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["value"] == 15
    assert changed.json()["channels"] == ["innovation", "platforms"]
    only = api.get("/outcomes", northeast="harbin", east="beijing")
    assert [o["id"] for o in only["items"]] == [outcome["id"]]
    gone = api.client.delete(f"/outcomes/{outcome['id']}", headers=KEY)
    assert gone.status_code == 204
    api.fails("GET", f"/outcomes/{outcome['id']}", 404, "NotFound")
    api.fails("DELETE", f"/outcomes/{outcome['id']}", 404, "NotFound", headers=KEY)
    api.fails("PUT", f"/outcomes/{outcome['id']}", 404, "NotFound", json=body(), headers=KEY)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"east": "atlantis"}, "body.east", "no region with id 'atlantis'"),
        ({"east": "harbin"}, "body.east", "'harbin' is a northeast region, not east"),
        ({"channels": ["tourism"]}, "body.channels", "unknown channel 'tourism'"),
        ({"indicator": "jobs"}, "body.indicator", "unknown indicator 'jobs'"),
        ({"value": -1}, "body.value", "greater than or equal to 0"),
        ({"date": "2019-02-30"}, "body.date", "date"),
        ({"channels": []}, "body.channels", "at least 1"),
    ],
)
def test_a_bad_outcome_is_a_422_naming_the_field(
    api: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    error = api.fails("POST", "/outcomes", 422, ("InvalidRequest", "ValidationError"),
                      json=body(**changes), headers=KEY)  # fmt: skip
    assert any(e["field"] == field and message in e["error"] for e in error["errors"]), error
    assert api.get("/outcomes")["total"] == len(PUBLISHED)


CSV_HEADER = "northeast,east,indicator,value,date,channels,source,note\n"


def test_an_import_is_all_or_nothing_and_names_every_bad_row(api: Any) -> None:
    good = "harbin,beijing,projects_signed,3,2020-01-01,equipment;innovation,HRB DRC 2020,\n"
    bad = (
        CSV_HEADER
        + good
        + "harbin,atlantis,projects_signed,3,2020-01-01,equipment,x,\n"
        + "harbin,beijing,jobs,x,2020-13-01,equipment,x,\n"
        + good
    )
    error = api.fails("POST", "/outcomes/import", 422, "InvalidImport", content=bad,
                      headers={**KEY, "Content-Type": "text/csv"})  # fmt: skip
    rows = {(e["row"], e["field"]) for e in error["errors"]}
    assert {(3, "east"), (4, "value"), (4, "indicator"), (4, "date")} <= rows
    assert "2 row(s) are invalid" in error["detail"]
    assert api.get("/outcomes")["total"] == len(PUBLISHED)
    done = api.client.post("/outcomes/import", content=CSV_HEADER + good + good,
                           headers={**KEY, "Content-Type": "text/csv"})  # fmt: skip
    assert done.status_code == 201, done.text
    assert done.json()["imported"] == 2 and len(done.json()["ids"]) == 2
    imported = api.get(f"/outcomes/{done.json()['ids'][0]}")
    assert imported["channels"] == ["equipment", "innovation"] and imported["note"] == ""
    lines = "\n".join(json.dumps(body(value=v)) for v in (1, 2)) + "\n{not json\n"
    error = api.fails("POST", "/outcomes/import", 422, "InvalidImport", content=lines,
                      headers={**KEY, "Content-Type": "application/x-ndjson"})  # fmt: skip
    assert [e["row"] for e in error["errors"]] == [3]
    jsonl = "\n".join(json.dumps(body(value=v)) for v in (1, 2))
    done = api.client.post("/outcomes/import", content=jsonl,
                           headers={**KEY, "Content-Type": "application/x-ndjson"})  # fmt: skip
    assert done.status_code == 201 and done.json()["imported"] == 2
    assert api.get("/outcomes")["total"] == len(PUBLISHED) + 4


def test_targets_are_set_replaced_listed_and_deleted(api: Any, check_error: Any) -> None:
    target = {"northeast": "harbin", "east": "shenzhen", "year": 2024, "indicator":
              "projects_signed", "value": 100}  # fmt: skip
    check_error(api.client.put("/targets", json=target), 401, "Unauthorized")
    first = api.client.put("/targets", json=target, headers=KEY)
    assert first.status_code == 201
    again = api.client.put("/targets", json={**target, "value": 150}, headers=KEY)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert [t["value"] for t in api.get("/targets")["items"]] == [150]
    assert api.get("/targets", year=2023)["items"] == []
    api.fails("PUT", "/targets", 422, "InvalidRequest", json={**target, "east": "harbin"},
              headers=KEY)  # fmt: skip
    assert api.client.delete(f"/targets/{first.json()['id']}", headers=KEY).status_code == 204
    assert api.get("/targets")["items"] == []


def test_an_outcome_dated_after_the_evaluation_date_has_no_effect(api: Any) -> None:
    before = api.get("/links/harbin/beijing", as_of="2019-02-28")
    recorded = api.client.post("/outcomes", json=body(date="2019-03-01"), headers=KEY)
    assert recorded.status_code == 201
    assert api.get("/links/harbin/beijing", as_of="2019-02-28") == before
    after = api.get("/links/harbin/beijing", as_of="2019-03-01")
    assert after["as_of"] == "2019-03-01" and after["score"] > before["score"]
    (drawn,) = after["outcomes"]
    assert drawn["id"] == recorded.json()["id"] and drawn["weight"] == 1.0
    cooperation = next(c for c in after["explanation"] if c["component"] == "cooperation_status")
    term = next(t for t in cooperation["terms"] if t["direction"] == "outcomes")
    assert term["value"] == pytest.approx(drawn["contribution"])
    # Other scoring reads move with the date too.
    links = api.get("/links", northeast="harbin", east="beijing", as_of="2019-03-01")
    assert links["links"][0]["score"] == pytest.approx(after["score"])
    picks = api.get("/regions/harbin/suggestions", k=7, as_of="2019-03-01")
    assert picks["as_of"] == "2019-03-01"
    beijing = next(p for p in picks["suggestions"] if p["partner"] == "beijing")
    assert beijing["score"] == pytest.approx(after["score"])
    # By default scores are at the adoption: the published outcomes are all later.
    default = api.get("/links/harbin/beijing")
    assert default["as_of"] == api.get("/dataset")["adopted"] and default["outcomes"] == []


def test_plans_at_a_later_date_leave_out_the_ties_formed_by_then(api: Any) -> None:
    # The Shenzhen (Harbin) park tied Heilongjiang and Shenzhen in 2019: a plan may add the
    # pair at the adoption, not in 2020.
    pin = {"pinned": [["heilongjiang", "shenzhen"]]}
    adopted = api.post("/plans", pin)
    assert adopted["as_of"] == api.get("/dataset")["adopted"]
    assert ["heilongjiang", "shenzhen"] in [[p["northeast"], p["east"]] for p in adopted["pairs"]]
    error = api.fails("POST", "/plans", 422, "InfeasiblePlan", json={**pin, "as_of": "2020-01-01"})
    assert "(heilongjiang, shenzhen) is an existing tie" in error["detail"]
    later = api.post("/plans", {"capacity": 3, "as_of": "2020-01-01"})
    assert later["as_of"] == "2020-01-01"
    assert ("heilongjiang", "shenzhen") not in {(p["northeast"], p["east"]) for p in later["pairs"]}


def test_coverage_rules_in_plans_and_scenarios(api: Any) -> None:
    plan = api.post("/plans", {"capacity": 3, "coverage": {"min_channels": 3}})
    assert "coverage MILP" in plan["message"]
    error = api.fails(
        "POST", "/plans", 422, "InfeasiblePlan", json={"coverage": {"per_docking": True}}
    )
    assert error["errors"][0]["error"].startswith("`per_docking`: liaoning has no partner")
    error = api.fails("POST", "/plans", 422, "InfeasiblePlan",
                      json={"capacity": 2, "coverage": {"min_channels": 4}})  # fmt: skip
    assert "`min_channels`: liaoning cannot get 4 partners" in error["detail"]
    error = api.fails("POST", "/scenarios/evaluate", 422, "InvalidRequest",
                      json={"coverage": {"min_channels": 2}})  # fmt: skip
    assert "sensitivity intervals assume the flow model" in error["detail"]
    capped = api.post("/scenarios/evaluate", {"capacity": 3, "coverage": {"max_new_per_east": 1}})
    east = [p["east"] for p in capped["plan"]["pairs"]]
    assert len(east) == len(set(east))
    error = api.fails("POST", "/scenarios", 422, "InvalidRequest", headers=KEY,
                      json={"name": "later", "scenario": {"as_of": "2020-01-01"}})  # fmt: skip
    assert "saved scenarios are evaluated at the plan's adoption" in error["detail"]


def test_a_state_per_evaluation_date_is_cached_per_outcome_revision() -> None:
    import datetime

    from app.services.datasets import shipped_document, standalone_state

    state = standalone_state(shipped_document(), origin="test")
    # Nothing is known by the adoption: the default state is the state itself.
    assert state.dated(None, PUBLISHED, 1) is state
    later = state.dated(datetime.date(2020, 1, 1), PUBLISHED, 1)
    assert later is not state and later.as_of == datetime.date(2020, 1, 1)
    assert state.dated(datetime.date(2020, 1, 1), PUBLISHED, 1) is later
    # A new revision of the outcomes is a new state.
    assert state.dated(datetime.date(2020, 1, 1), PUBLISHED[:3], 2) is not later
    assert later.evidence is not None and {d.outcome.date.year for d in later.evidence.drawn} == {
        2018, 2019
    }  # fmt: skip
