"""POST /rounds: the engine's round over HTTP, as JSON and CSV, with its 422 cases."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.dependencies import participant_source
from app.errors import InvalidInput, Problem
from app.main import create_app
from app.services import rounds as rounds_service
from app.services.rounds import Participant
from app.settings import Settings
from matching import (
    Enterprise,
    EnterpriseModel,
    Weights,
    build_population,
    load_dataset,
    network_from_dataset,
    propose_round,
    score_components,
)


class InMemoryParticipants:
    """A participant source over a fixed population (the enterprise store's stand-in)."""

    def __init__(self, participants: Iterable[Participant]) -> None:
        self.by_id = {p.enterprise.id: p for p in participants}

    def __call__(self, ids: list[str], side: str) -> list[Participant]:
        unknown = [i for i in ids if i not in self.by_id]
        if unknown:
            error = "no enterprise with id " + ", ".join(repr(i) for i in unknown)
            raise InvalidInput.listing([Problem(f"body.{side}", error)])
        return [self.by_id[i] for i in ids]


def population(seed: int = 1, n: int = 30) -> list[Participant]:
    """n northeast and n eastern participants with random profiles, named after their ids."""
    net = network_from_dataset(load_dataset())
    sectors = net.taxonomy.sector_ids
    rng = np.random.default_rng(seed)
    out = []
    for side, prefix in (("northeast", "ne"), ("east", "ea")):
        for i in range(n):

            def profile() -> dict[str, float]:
                chosen = rng.choice(len(sectors), size=int(rng.integers(1, 4)), replace=False)
                return {sectors[s]: float(rng.choice([0.25, 0.5, 1.0])) for s in chosen}

            enterprise = Enterprise(
                id=f"{prefix}{i:03d}",
                region=str(rng.choice(net.side(side).ids)),
                offers=profile(),
                seeks=profile(),
            )
            out.append(Participant(enterprise, f"{side.title()} Co {i}", ()))
    return out


PARTICIPANTS = population()
NORTHEAST = [p.enterprise.id for p in PARTICIPANTS if p.enterprise.id.startswith("ne")]
EAST = [p.enterprise.id for p in PARTICIPANTS if p.enterprise.id.startswith("ea")]


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.dependency_overrides[participant_source] = lambda: InMemoryParticipants(PARTICIPANTS)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as running:
        yield running


def engine_round(participants: list[Participant], **options):
    """The same round straight from the engine, on the shipped dataset and default weights."""
    net = network_from_dataset(load_dataset())
    model = EnterpriseModel.build(net, score_components(net), Weights.resolve(net.taxonomy))
    by_side = {
        side: [p.enterprise for p in participants if p.enterprise.id.startswith(prefix)]
        for side, prefix in (("northeast", "ne"), ("east", "ea"))
    }
    return propose_round(
        model,
        build_population(by_side["northeast"], net, "northeast"),
        build_population(by_side["east"], net, "east"),
        **options,
    )


def meetings_of(body) -> list[tuple[str, str]]:
    return [(m["northeast"], m["east"]) for m in body["meetings"]]


def test_a_round_is_the_engine_round(client: TestClient) -> None:
    response = client.post("/rounds", json={"northeast": NORTHEAST, "east": EAST, "b": 2})

    assert response.status_code == 200, response.text
    body = response.json()
    expected = engine_round(PARTICIPANTS, b=2)
    assert body["dataset_version"] == client.get("/health").json()["dataset_version"]
    assert body["status"] == "optimal"
    assert body["objective"] == expected.objective
    assert body["slots"] == expected.slots == 2
    assert body["candidates"] == expected.candidates
    assert body["meetings"] == [
        {
            "northeast": m.northeast,
            "east": m.east,
            "score": m.score,
            "slot": m.slot + 1,
            "pinned": m.pinned,
        }
        for m in expected.meetings
    ]


def test_the_rules_reach_the_engine(client: TestClient) -> None:
    first = client.post("/rounds", json={"northeast": NORTHEAST, "east": EAST, "b": 1}).json()
    (a, x), (c, y) = meetings_of(first)[:2]
    request = {
        "northeast": NORTHEAST,
        "east": EAST,
        "b": 1,
        "b_overrides": {c: 3},
        "min_score": 0.01,
        "pinned": [[a, y]],
        "forbidden": [[c, y]],
        "candidates": 5,
    }
    response = client.post("/rounds", json=request)

    assert response.status_code == 200, response.text
    body = response.json()
    expected = engine_round(
        PARTICIPANTS,
        b=1,
        b_overrides={c: 3},
        min_score=0.01,
        pinned=[(a, y)],
        forbidden=[(c, y)],
        candidates=5,
    )
    assert meetings_of(body) == [(m.northeast, m.east) for m in expected.meetings]
    assert body["objective"] == expected.objective
    assert [a, y] in [list(p) for p in meetings_of(body)]
    assert [m["pinned"] for m in body["meetings"]].count(True) == 1
    assert (c, y) not in meetings_of(body)
    assert all(m["score"] >= 0.01 for m in body["meetings"] if not m["pinned"])


def test_the_schedule_as_csv(client: TestClient) -> None:
    request = {"northeast": NORTHEAST, "east": EAST, "b": 3}
    as_json = client.post("/rounds", json=request).json()
    names = {p.enterprise.id: p.name for p in PARTICIPANTS}

    for response in (
        client.post("/rounds", params={"format": "csv"}, json=request),
        client.post("/rounds", headers={"Accept": "text/csv"}, json=request),
        client.post("/rounds", headers={"Accept": "text/html, text/csv;q=0.9"}, json=request),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "round.csv" in response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["slot", "northeast", "northeast_name", "east", "east_name", "score"]
        assert rows[1:] == [
            [
                str(m["slot"]),
                m["northeast"],
                names[m["northeast"]],
                m["east"],
                names[m["east"]],
                repr(m["score"]),
            ]
            for m in as_json["meetings"]
        ]
        assert {int(row[0]) for row in rows[1:]} == set(range(1, as_json["slots"] + 1))


def test_format_json_wins_over_the_accept_header(client: TestClient) -> None:
    response = client.post(
        "/rounds",
        params={"format": "json"},
        headers={"Accept": "text/csv"},
        json={"northeast": NORTHEAST, "east": EAST},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


def test_csv_names_cannot_run_as_formulas(app: FastAPI) -> None:
    tricky = [
        Participant(Enterprise("a", "harbin", {"grain": 1.0}, {}), "=HYPERLINK(1)", ()),
        Participant(Enterprise("x", "shanghai", {}, {"grain": 1.0}), 'Acme, "East" Ltd', ()),
    ]
    app.dependency_overrides[participant_source] = lambda: InMemoryParticipants(tricky)
    with TestClient(app) as client:
        response = client.post("/rounds?format=csv", json={"northeast": ["a"], "east": ["x"]})
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[1][2] == "'=HYPERLINK(1)"
    assert rows[1][4] == 'Acme, "East" Ltd'


def test_existing_partners_are_left_out_either_way_they_are_listed(
    app: FastAPI, check_error
) -> None:
    with TestClient(app) as client:
        plain = client.post("/rounds", json={"northeast": NORTHEAST, "east": EAST, "b": 1}).json()
    (a, x), (c, y) = meetings_of(plain)[:2]
    # a lists x as a partner; y lists c: each pair is existing, whoever recorded it.
    listed = [
        p._replace(partners=[x] if p.enterprise.id == a else [c] if p.enterprise.id == y else [])
        for p in PARTICIPANTS
    ]
    app.dependency_overrides[participant_source] = lambda: InMemoryParticipants(listed)
    with TestClient(app) as client:
        kept = client.post("/rounds", json={"northeast": NORTHEAST, "east": EAST, "b": 1}).json()
        excluded = client.post(
            "/rounds",
            json={"northeast": NORTHEAST, "east": EAST, "b": 1, "exclude_existing": True},
        ).json()
        pinned = client.post(
            "/rounds",
            json={
                "northeast": NORTHEAST,
                "east": EAST,
                "pinned": [[a, x]],
                "exclude_existing": True,
            },
        )
    assert kept == plain
    assert {(a, x), (c, y)} <= set(meetings_of(plain))
    assert not {(a, x), (c, y)} & set(meetings_of(excluded))
    body = check_error(pinned, 422, "InfeasiblePlan")
    assert body["errors"] == [
        {
            "field": "body",
            "error": f"pinned pair ({a}, {x}) are existing partners, which are excluded",
        }
    ]


def test_an_empty_round_has_no_meetings(client: TestClient) -> None:
    body = client.post("/rounds", json={"northeast": [], "east": EAST}).json()
    assert body["meetings"] == [] and body["slots"] == 0 and body["objective"] == 0


def test_unknown_ids_are_a_422_naming_them(client: TestClient, check_error) -> None:
    # Ids in a body that name nothing make the request invalid (404 is for a path).
    response = client.post(
        "/rounds", json={"northeast": [*NORTHEAST, "ne-gone"], "east": ["ea-gone", *EAST]}
    )
    body = check_error(response, 422, "InvalidRequest")
    assert body["errors"] == [
        {"field": "body.northeast", "error": "no enterprise with id 'ne-gone'"},
        {"field": "body.east", "error": "no enterprise with id 'ea-gone'"},
    ]


def test_a_pair_pinned_or_forbidden_twice_is_a_422_naming_it(client: TestClient, check_error):
    pair = [NORTHEAST[0], EAST[0]]
    response = client.post(
        "/rounds",
        json={
            "northeast": NORTHEAST,
            "east": EAST,
            "pinned": [pair, pair],
            "forbidden": [pair] * 3,
        },
    )
    body = check_error(response, 422, "InvalidRequest")
    assert body["errors"] == [
        {"field": "body.pinned", "error": f"{pair} is listed 2 times"},
        {"field": "body.forbidden", "error": f"{pair} is listed 3 times"},
    ]


@pytest.mark.parametrize(
    ("request_body", "field", "error"),
    [
        (
            {"northeast": [*NORTHEAST, EAST[0]], "east": EAST[1:]},
            "body.northeast",
            f"'{EAST[0]}' is an eastern enterprise",
        ),
        (
            {"northeast": NORTHEAST[1:], "east": [NORTHEAST[0]]},
            "body.east",
            f"'{NORTHEAST[0]}' is a northeast enterprise",
        ),
        (
            {"northeast": [NORTHEAST[0], NORTHEAST[0]], "east": EAST},
            "body.northeast",
            f"'{NORTHEAST[0]}' is listed twice",
        ),
        (
            {"northeast": NORTHEAST, "east": [*EAST, NORTHEAST[0]]},
            "body.east",
            f"'{NORTHEAST[0]}' is listed twice",
        ),
    ],
)
def test_misplaced_ids_are_a_422_naming_them(
    client, request_body, field, error, check_error
) -> None:
    body = check_error(client.post("/rounds", json=request_body), 422, "InvalidRequest")
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["error"].startswith(error)


def test_contradictions_are_a_422_naming_each(client: TestClient, check_error) -> None:
    a, c = NORTHEAST[:2]
    x = EAST[0]
    response = client.post(
        "/rounds",
        json={
            "northeast": NORTHEAST[2:] + [a, c],
            "east": EAST,
            "b": 1,
            "pinned": [[a, x], [c, x], [a, "ea-elsewhere"]],
            "forbidden": [[a, x]],
        },
    )
    body = check_error(response, 422, "InfeasiblePlan")
    assert [e["error"] for e in body["errors"]] == [
        f"pair ({a}, {x}) is both pinned and forbidden",
        f"pinned pair ({a}, ea-elsewhere): 'ea-elsewhere' is not an eastern participant",
        f"{x} has 2 pinned meetings, more than its limit of 1",
    ]


def test_a_forbidden_pair_must_name_participants(client: TestClient, check_error) -> None:
    response = client.post(
        "/rounds",
        json={"northeast": NORTHEAST, "east": EAST, "forbidden": [[EAST[0], NORTHEAST[0]]]},
    )
    body = check_error(response, 422, "InvalidRequest")
    assert "is not a northeast participant (it is an eastern one)" in body["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"b": 0}, "body.b"),
        ({"b": 51}, "body.b"),
        ({"b": "3"}, "body.b"),
        ({"candidates": 0}, "body.candidates"),
        ({"candidates": 101}, "body.candidates"),
        ({"min_score": -0.1}, "body.min_score"),
        ({"b_overrides": {"ne000": 51}}, "body.b_overrides.ne000"),
        ({"pinned": [["ne000"]]}, "body.pinned.0.1"),
        ({"pinned": [["ne000", "ea000"]] * 10_001}, "body.pinned"),
        ({"forbidden": [["ne000", "bad id"]]}, "body.forbidden.0.1"),
        ({"northeast": ["bad id"]}, "body.northeast.0"),
        ({"colour": "red"}, "body.colour"),
    ],
)
def test_malformed_requests_are_a_422(client, change, field, check_error) -> None:
    request = {"northeast": NORTHEAST[:3], "east": EAST[:3], **change}
    body = check_error(client.post("/rounds", json=request), 422, "ValidationError")
    assert field in [e["field"] for e in body["errors"]]


def test_too_many_participants_are_a_422(client: TestClient, check_error) -> None:
    ids = [f"ne{i:06d}" for i in range(50_001)]
    body = check_error(
        client.post("/rounds", json={"northeast": ids, "east": []}), 422, "ValidationError"
    )
    assert body["errors"][0]["field"] == "body.northeast"


def test_rounds_read_participants_from_the_enterprise_store(api, admin_headers) -> None:
    api_client, admin = api.client, admin_headers
    for participant in PARTICIPANTS[:6] + PARTICIPANTS[-6:]:
        e = participant.enterprise
        body = {"id": e.id, "name": participant.name, "region": e.region, "offers": dict(e.offers),
                "seeks": dict(e.seeks), "size": e.size, "ownership": e.ownership}  # fmt: skip
        assert api_client.post("/enterprises", json=body, headers=admin).status_code == 201
    ne = [p.enterprise.id for p in PARTICIPANTS[:6] if p.enterprise.id.startswith("ne")]
    ea = [p.enterprise.id for p in PARTICIPANTS[-6:] if p.enterprise.id.startswith("ea")]
    response = api_client.post("/rounds", json={"northeast": ne, "east": ea, "b": 1})
    assert response.status_code == 200, response.text
    expected = engine_round([p for p in PARTICIPANTS if p.enterprise.id in set(ne + ea)], b=1)
    assert response.json()["objective"] == pytest.approx(expected.objective)
    missing = api_client.post("/rounds", json={"northeast": ["ne-nobody"], "east": ea})
    assert missing.status_code == 422 and "ne-nobody" in missing.json()["detail"]


def test_the_csv_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/rounds"]["post"]
    assert {"application/json", "text/csv"} <= operation["responses"]["200"]["content"].keys()
    assert "422" in operation["responses"]


# Work limits: a large round runs in a process of its own, within the work budget.

LARGE = population(seed=4, n=600)  # 1,200 participants x 20 candidates: past the worker's share


def large_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.dependency_overrides[participant_source] = lambda: InMemoryParticipants(LARGE)
    return app


def test_a_round_too_large_for_the_worker_is_the_same_round_computed_apart(settings) -> None:
    ids = {side: [p.enterprise.id for p in LARGE if p.enterprise.id.startswith(side)]
           for side in ("ne", "ea")}  # fmt: skip
    assert 20 * len(LARGE) > rounds_service.INLINE_EDGES
    with TestClient(large_app(settings)) as client:
        response = client.post("/rounds", json={"northeast": ids["ne"], "east": ids["ea"]})

    assert response.status_code == 200, response.text
    expected = engine_round(LARGE, b=3)
    assert response.json()["objective"] == expected.objective
    assert meetings_of(response.json()) == [(m.northeast, m.east) for m in expected.meetings]


def test_a_round_past_the_time_budget_is_a_422_naming_the_budget(settings, check_error) -> None:
    ids = {side: [p.enterprise.id for p in LARGE if p.enterprise.id.startswith(side)]
           for side in ("ne", "ea")}  # fmt: skip
    tight = settings.model_copy(update={"work_seconds": 0.01})
    with TestClient(large_app(tight), raise_server_exceptions=False) as client:
        response = client.post("/rounds", json={"northeast": ids["ne"], "east": ids["ea"]})

    body = check_error(response, 422, "WorkLimitExceeded")
    assert "time budget of 0.01 s" in body["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("b", 11), ("candidates", 51), ("northeast", [f"ne{i}" for i in range(5001)])],
)
def test_rounds_beyond_the_limits_are_refused_naming_the_limit(client, field, value, check_error):
    body = {"northeast": NORTHEAST, "east": EAST, field: value}

    error = check_error(client.post("/rounds", json=body), 422, "ValidationError")

    assert any(field in item["field"] for item in error["errors"])
