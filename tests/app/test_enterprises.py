"""Enterprise profiles (/enterprises) and partner search, checked against brute force."""

from __future__ import annotations

import io
import math
import random
from datetime import UTC, datetime

import pytest

from app.enterprise_files import write_jsonl
from matching import Enterprise, explain_match, generate_enterprises, load_dataset

from .conftest import ADMIN_KEY, SHIPPED_VERSION

NORTHEAST = ("liaoning", "jilin", "heilongjiang", "shenyang", "dalian", "changchun", "harbin")
EAST = ("jiangsu", "zhejiang", "guangdong", "beijing", "shanghai", "tianjin", "shenzhen")
SIDE_OF = {**dict.fromkeys(NORTHEAST, "northeast"), **dict.fromkeys(EAST, "east")}
OTHER_SIDE = {"northeast": "east", "east": "northeast"}
SIZES = ("micro", "small", "medium", "large")
OWNERSHIPS = ("state", "private", "foreign", "mixed")

# The random population lives in three regions a side and a few sectors of four channels
# (emerging is a synergy channel), with coarse intensities, so that equal scores are common.
POPULATION_REGIONS = {
    "northeast": ("harbin", "shenyang", "dalian"),
    "east": ("shanghai", "jiangsu", "shenzhen"),
}
POPULATION_SECTORS = (
    "machine_tools",
    "heavy_machinery",
    "biomedicine",
    "software_digital",
    "grain",
    "forest_products",
    "venture_capital",
)
INTENSITIES = (0.25, 0.5, 1.0)
TOLERANCE = 1e-9


def close(a, b):
    return math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE)


def side(profile):
    return SIDE_OF[profile["region"]]


def aware(stamp):
    moment = datetime.fromisoformat(stamp)
    assert moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0, stamp
    return moment


def profile_fields(profile):
    """The fields of a profile as GET returns them (defaults filled in), without side and time."""
    return {
        "name": profile["name"],
        "region": profile["region"],
        "offers": profile.get("offers", {}),
        "seeks": profile.get("seeks", {}),
        "size": profile.get("size", "small"),
        "ownership": profile.get("ownership", "private"),
        "founded": profile.get("founded"),
        "description": profile.get("description", ""),
        "contact": profile.get("contact"),
        "partners": profile.get("partners", []),
    }


def assert_stored(item, profile):
    assert {key: item[key] for key in profile_fields(profile)} == profile_fields(profile), item
    assert item["id"] == profile["id"]
    assert item["side"] == side(profile)
    aware(item["updated_at"])


def random_sectors(rng):
    chosen = rng.sample(POPULATION_SECTORS, rng.randint(0, 3))
    return {sector: rng.choice(INTENSITIES) for sector in chosen}


def random_profile(rng, ident, side_name):
    return {
        "id": ident,
        "name": f"Enterprise {ident}",
        "region": rng.choice(POPULATION_REGIONS[side_name]),
        "offers": random_sectors(rng),
        "seeks": random_sectors(rng),
        "size": rng.choice(SIZES),
        "ownership": rng.choice(OWNERSHIPS),
    }


def random_population(rng, count):
    """`count` profiles, about half on each side, with ids that interleave the two sides."""
    profiles = {}
    for number in rng.sample(range(1000), count):
        side_name = rng.choice(("northeast", "east"))
        ident = f"{'n' if side_name == 'northeast' else 'e'}{number:03d}"
        profiles[ident] = random_profile(rng, ident, side_name)
    return profiles


# The brute force: every candidate scored one by one with explain_match.


def enterprise(profile):
    return Enterprise(
        id=profile.get("id") or "",
        region=profile["region"],
        offers=profile.get("offers", {}),
        seeks=profile.get("seeks", {}),
        size=profile.get("size", "small"),
        ownership=profile.get("ownership", "private"),
    )


def explain(model, query, partner):
    pair = (enterprise(query), enterprise(partner))
    return explain_match(model, *(pair if side(query) == "northeast" else pair[::-1]))


def brute_force(
    model, query, profiles, *, channel=None, region=None, ownership=None, size=None, min_score=None
):
    """(score, id) of every qualifying partner of `query`, best first, equal scores by id."""
    found = []
    for partner in profiles.values():
        if side(partner) == side(query) or partner["id"] == query.get("id"):
            continue
        if region is not None and partner["region"] != region:
            continue
        if ownership is not None and partner.get("ownership", "private") != ownership:
            continue
        if size is not None and partner.get("size", "small") != size:
            continue
        explained = explain(model, query, partner)
        score = explained.score if channel is None else explained.contributions.get(channel, 0.0)
        if score > 0 and (min_score is None or score >= min_score):
            found.append((score, partner["id"]))
    return sorted(found, key=lambda item: (-item[0], item[1]))


def assert_same_ranking(partners, expected, k):
    """`partners` (the API's) are the top `k` of `expected` (the brute force's).

    Scores must agree to 1e-9. Candidates whose scores agree to 1e-9 are a tie: any of them may
    take a tied place (the two computations may round the last bit differently); every other
    place must hold exactly the expected id.
    """
    top = expected[:k]
    assert len(partners) == len(top), (partners, top)
    brute = {ident: score for score, ident in expected}
    assert len({p["id"] for p in partners}) == len(partners), partners
    for place, (partner, (score, ident)) in enumerate(zip(partners, top, strict=True)):
        assert partner["id"] in brute, (place, partner, top)
        assert close(partner["score"], score), (place, partner, top)
        assert close(brute[partner["id"]], score), (place, partner, top)
        tied = sum(close(score, other) for other, _ in expected) > 1
        if not tied:
            assert partner["id"] == ident, (place, partner, top)
    # Best first, equal scores in id order, by the scores the API reports.
    assert partners == sorted(partners, key=lambda p: (-p["score"], p["id"])), partners


def channel_of(model, sector):
    return model.taxonomy.sectors[model.taxonomy.sector_index[sector]].channel


def assert_explained(model, query, partners, profiles, channel=None):
    """Each partner is another side's enterprise, as stored, with parts adding up to its score."""
    for partner in partners:
        stored = profiles[partner["id"]]
        assert partner["id"] != query.get("id")
        assert side(stored) == OTHER_SIDE[side(query)], partner
        for key in ("name", "region", "size", "ownership"):
            assert partner[key] == stored[key], (key, partner, stored)
        explained = explain(model, query, stored)
        expected = explained.contributions
        expected_terms = explained.terms
        if channel is not None:
            expected = {channel: expected[channel]}
            expected_terms = [t for t in expected_terms if channel_of(model, t[0]) == channel]
        contributions = partner["contributions"]
        assert contributions.keys() == expected.keys(), (partner, expected)
        assert all(close(contributions[c], expected[c]) for c in expected), (partner, expected)
        assert close(sum(contributions.values()), partner["score"]), partner
        terms = {(t["sector"], t["direction"]): t["value"] for t in partner["terms"]}
        assert len(terms) == len(partner["terms"]), partner
        assert terms.keys() == {(s, d) for s, d, _ in expected_terms}, (partner, expected_terms)
        assert all(close(terms[(s, d)], v) and v > 0 for s, d, v in expected_terms), partner
        for name, value in contributions.items():
            if name != "region":
                in_channel = [v for (s, _), v in terms.items() if channel_of(model, s) == name]
                assert close(math.fsum(in_channel), value), (name, partner)
    # Partners explained alike score alike, to the last bit (and so come in id order).
    by_explanation = {}
    for partner in partners:
        key = tuple(sorted(partner["contributions"].items()))
        assert by_explanation.setdefault(key, partner)["score"] == partner["score"], partner


# Profiles: writes, reads and their errors.

HARBIN_TOOLS = {
    "id": "ne-harbin-tools",
    "name": "Harbin Machine Tools Co., Ltd.",
    "region": "harbin",
    "offers": {"machine_tools": 0.8, "heavy_machinery": 0.5},
    "seeks": {"venture_capital": 0.6},
    "size": "large",
    "ownership": "state",
    "founded": 1952,
    "description": "Lathes and machining centres.",
    "contact": "sales@example.com",
    "partners": ["ea-shanghai-fund"],
}
SHANGHAI_FUND = {
    "id": "ea-shanghai-fund",
    "name": "Shanghai Growth Fund",
    "region": "shanghai",
    "offers": {"venture_capital": 1.0},
    "seeks": {"machine_tools": 0.4},
}


@pytest.fixture
def write(api, admin_headers):
    """Send a write with the admin key; return the response."""

    def send(method, path, body=None):
        return api.client.request(method, path, json=body, headers=admin_headers)

    return send


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key"])
@pytest.mark.parametrize(
    ("method", "path", "request_kwargs"),
    [
        ("POST", "/enterprises", {"json": SHANGHAI_FUND}),
        ("POST", "/enterprises", {"content": b'{"name": "x", "region": '}),
        ("POST", "/enterprises", {"json": {"name": "", "region": "nowhere", "size": "huge"}}),
        ("PUT", "/enterprises/ea-shanghai-fund", {"json": SHANGHAI_FUND}),
        ("PUT", f"/enterprises/{HARBIN_TOOLS['id']}", {"json": {"name": "x", "region": "dalian"}}),
        ("PATCH", f"/enterprises/{HARBIN_TOOLS['id']}", {"json": {"name": "Renamed"}}),
        ("DELETE", f"/enterprises/{HARBIN_TOOLS['id']}", {}),
    ],
)
def test_a_write_without_a_valid_key_is_a_401_and_writes_nothing(
    api, write, check_error, all_enterprises, method, path, request_kwargs, authorization
):
    stored = write("POST", "/enterprises", HARBIN_TOOLS).json()
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization

    response = api.client.request(method, path, headers=headers, **request_kwargs)

    check_error(response, 401, "Unauthorized")
    assert all_enterprises(api) == [stored]


@pytest.mark.parametrize(("region", "side_name"), [("harbin", "northeast"), ("shanghai", "east")])
def test_post_stores_the_profile_and_derives_the_side_from_the_region(
    api, write, region, side_name
):
    before = datetime.now(UTC)
    profile = {**HARBIN_TOOLS, "region": region}

    response = write("POST", "/enterprises", profile)

    assert response.status_code == 201, response.text
    created = response.json()
    assert_stored(created, profile)
    assert created["side"] == side_name
    assert before <= aware(created["updated_at"]) <= datetime.now(UTC)
    assert api.get(f"/enterprises/{profile['id']}", key=True) == created


def test_post_fills_in_defaults(api, write):
    response = write("POST", "/enterprises", {"id": "e1", "name": "  Padded  ", "region": "dalian"})

    assert response.status_code == 201, response.text
    assert_stored(response.json(), {"id": "e1", "name": "Padded", "region": "dalian"})


def test_post_without_an_id_gets_a_new_server_made_id(api, write, all_enterprises):
    body = {key: value for key, value in SHANGHAI_FUND.items() if key != "id"}

    first = write("POST", "/enterprises", body)
    second = write("POST", "/enterprises", body)

    assert first.status_code == second.status_code == 201, (first.text, second.text)
    ids = [first.json()["id"], second.json()["id"]]
    assert ids[0] != ids[1] and all(ids), ids
    for ident in ids:
        assert_stored(api.get(f"/enterprises/{ident}", key=True), {**body, "id": ident})
    assert sorted(item["id"] for item in all_enterprises(api)) == sorted(ids)


def test_post_with_a_taken_id_is_a_409_and_keeps_the_stored_profile(api, write, check_error):
    stored = write("POST", "/enterprises", HARBIN_TOOLS).json()

    response = write("POST", "/enterprises", {**SHANGHAI_FUND, "id": HARBIN_TOOLS["id"]})

    check_error(response, 409, "Conflict")
    assert api.get(f"/enterprises/{HARBIN_TOOLS['id']}", key=True) == stored


# Every sector of the equipment, emerging and agriculture channels: one more than a profile holds.
TWENTY_ONE_SECTORS = (
    "machine_tools", "heavy_machinery", "power_equipment", "automotive", "rail_transit_equipment",
    "shipbuilding_marine", "aviation_aerospace", "petrochemicals", "metallurgy", "energy_minerals",
    "robotics_intelligent_equipment", "biomedicine", "new_materials", "ict_electronics",
    "software_digital", "optoelectronics_satellites", "new_energy_vehicles",
    "grain", "specialty_agri_products", "agri_food_processing", "livestock_dairy",
)  # fmt: skip
INVALID_PROFILES = {
    "unknown region": ({"region": "atlantis"}, "region"),
    "unknown sector offered": (
        {"offers": {"grain": 0.5, "unobtainium": 0.5}},
        "offers.unobtainium",
    ),
    "unknown sector sought": ({"seeks": {"unobtainium": 0.5}}, "seeks.unobtainium"),
    "intensity 0": ({"offers": {"grain": 0}}, "offers.grain"),
    "intensity 1.5": ({"seeks": {"grain": 1.5}}, "seeks.grain"),
    "negative intensity": ({"offers": {"grain": -0.5}}, "offers.grain"),
    "intensity not a number": ({"offers": {"grain": "much"}}, "offers.grain"),
    "21 sectors": ({"offers": dict.fromkeys(TWENTY_ONE_SECTORS, 0.5)}, "offers"),
    "id starting with a dot": ({"id": ".hidden"}, "id"),
    "id with a space": ({"id": "two words"}, "id"),
    "id of 65 characters": ({"id": "x" * 65}, "id"),
    "size": ({"size": "huge"}, "size"),
    "ownership": ({"ownership": "public"}, "ownership"),
    "founded 1700": ({"founded": 1700}, "founded"),
    "founded next century": ({"founded": 2200}, "founded"),
    "founded as text": ({"founded": "1990"}, "founded"),
    "empty name": ({"name": "   "}, "name"),
    "description too long": ({"description": "x" * 2001}, "description"),
    "unknown field": ({"revenue": 10**9}, "revenue"),
    "partners not ids": ({"partners": ["ok", "not ok"]}, "partners.1"),
}


@pytest.mark.parametrize(("changes", "field"), INVALID_PROFILES.values(), ids=INVALID_PROFILES)
def test_an_invalid_profile_is_a_422_naming_the_field_and_writes_nothing(
    api, write, check_error, all_enterprises, changes, field
):
    profile = {**HARBIN_TOOLS, **changes}

    response = write("POST", "/enterprises", profile)

    body = check_error(response, 422, ("ValidationError", "InvalidRequest"))
    fields = [item["field"] for item in body["errors"]]
    assert any(f == field or f.endswith(f".{field}") for f in fields), body
    assert field in body["detail"], body
    assert all_enterprises(api) == []


def test_a_profile_missing_name_or_region_is_a_422_naming_both(api, write, check_error):
    response = write("POST", "/enterprises", {"id": "e1", "offers": {"grain": 0.5}})

    body = check_error(response, 422, "ValidationError")
    assert {item["field"] for item in body["errors"]} == {"body.name", "body.region"}, body


def test_get_of_an_unknown_enterprise_is_a_404(api, check_error):
    check_error(api.client.get("/enterprises/nobody"), 404, "NotFound")


def test_put_creates_then_replaces_the_whole_profile(api, write, all_enterprises):
    created = write("PUT", f"/enterprises/{HARBIN_TOOLS['id']}", HARBIN_TOOLS)
    assert created.status_code == 201, created.text
    assert_stored(created.json(), HARBIN_TOOLS)

    replacement = {"name": "Harbin Tools", "region": "dalian", "seeks": {"grain": 0.5}}
    replaced = write("PUT", f"/enterprises/{HARBIN_TOOLS['id']}", replacement)

    assert replaced.status_code == 200, replaced.text
    # Fields the replacement leaves out take their defaults: nothing of the old profile remains.
    assert_stored(replaced.json(), {**replacement, "id": HARBIN_TOOLS["id"]})
    assert aware(replaced.json()["updated_at"]) >= aware(created.json()["updated_at"])
    assert all_enterprises(api) == [replaced.json()]


def test_put_with_the_same_id_in_body_and_path_is_accepted(api, write):
    response = write("PUT", f"/enterprises/{HARBIN_TOOLS['id']}", HARBIN_TOOLS)

    assert response.status_code == 201, response.text
    assert api.get(f"/enterprises/{HARBIN_TOOLS['id']}", key=True) == response.json()


def test_put_with_another_id_in_the_body_is_a_422_and_writes_nothing(
    api, write, check_error, all_enterprises
):
    body = check_error(
        write("PUT", "/enterprises/other-id", HARBIN_TOOLS),
        422,
        ("ValidationError", "InvalidRequest"),
    )
    assert "id" in body["detail"], body
    assert all_enterprises(api) == []


@pytest.mark.parametrize("path_id", ["-leading-dash", "x" * 65, "semi;colon"])
def test_put_at_an_invalid_id_is_a_422(api, write, check_error, all_enterprises, path_id):
    body = {key: value for key, value in SHANGHAI_FUND.items() if key != "id"}

    check_error(write("PUT", f"/enterprises/{path_id}", body), 422, "ValidationError")
    assert all_enterprises(api) == []


def test_patch_changes_only_the_fields_given_and_replaces_sector_maps_whole(api, write):
    stored = write("POST", "/enterprises", HARBIN_TOOLS).json()

    response = write(
        "PATCH",
        f"/enterprises/{HARBIN_TOOLS['id']}",
        {"name": "Harbin Tools Group", "offers": {"robotics_intelligent_equipment": 0.7}},
    )

    assert response.status_code == 200, response.text
    expected = {
        **HARBIN_TOOLS,
        "name": "Harbin Tools Group",
        "offers": {"robotics_intelligent_equipment": 0.7},
    }
    assert_stored(response.json(), expected)
    assert aware(response.json()["updated_at"]) >= aware(stored["updated_at"])
    assert api.get(f"/enterprises/{HARBIN_TOOLS['id']}", key=True) == response.json()


def test_patch_of_the_region_moves_the_enterprise_to_the_other_side(api, write):
    write("POST", "/enterprises", HARBIN_TOOLS)

    response = write("PATCH", f"/enterprises/{HARBIN_TOOLS['id']}", {"region": "shenzhen"})

    assert response.status_code == 200, response.text
    assert_stored(response.json(), {**HARBIN_TOOLS, "region": "shenzhen"})
    assert response.json()["side"] == "east"


def test_patch_with_null_clears_an_optional_field(api, write):
    write("POST", "/enterprises", HARBIN_TOOLS)

    response = write("PATCH", f"/enterprises/{HARBIN_TOOLS['id']}", {"contact": None})

    assert response.status_code == 200, response.text
    assert_stored(response.json(), {**HARBIN_TOOLS, "contact": None})


def test_patch_of_an_unknown_enterprise_is_a_404_and_creates_nothing(
    api, write, check_error, all_enterprises
):
    check_error(write("PATCH", "/enterprises/nobody", {"name": "New"}), 404, "NotFound")
    assert all_enterprises(api) == []


INVALID_PATCHES = {
    "intensity 2": ({"offers": {"grain": 2}}, "offers.grain"),
    "unknown sector": ({"seeks": {"unobtainium": 0.5}}, "seeks.unobtainium"),
    "unknown region": ({"region": "atlantis"}, "region"),
    "empty name": ({"name": ""}, "name"),
    "null name": ({"name": None}, "name"),
    "size": ({"size": "huge"}, "size"),
    "founded 1700 with a valid name": ({"name": "Fine", "founded": 1700}, "founded"),
    "unknown field": ({"revenue": 1}, "revenue"),
    "id": ({"id": "new-id"}, "id"),
}


@pytest.mark.parametrize(("changes", "field"), INVALID_PATCHES.values(), ids=INVALID_PATCHES)
def test_an_invalid_patch_is_a_422_and_changes_nothing(api, write, check_error, changes, field):
    stored = write("POST", "/enterprises", HARBIN_TOOLS).json()

    response = write("PATCH", f"/enterprises/{HARBIN_TOOLS['id']}", changes)

    body = check_error(response, 422, ("ValidationError", "InvalidRequest"))
    fields = [item["field"] for item in body.get("errors", [])]
    assert any(f == field or f.endswith(f".{field}") for f in fields), body
    assert api.get(f"/enterprises/{HARBIN_TOOLS['id']}", key=True) == stored


def test_delete_removes_the_enterprise_for_good(api, write, check_error, all_enterprises):
    write("POST", "/enterprises", HARBIN_TOOLS)
    fund = write("POST", "/enterprises", SHANGHAI_FUND).json()
    assert [p["id"] for p in api.get(f"/enterprises/{fund['id']}/partners")["partners"]] == [
        HARBIN_TOOLS["id"]
    ]

    response = write("DELETE", f"/enterprises/{HARBIN_TOOLS['id']}")

    assert response.status_code == 204 and response.content == b"", response.text
    check_error(api.client.get(f"/enterprises/{HARBIN_TOOLS['id']}"), 404, "NotFound")
    check_error(write("DELETE", f"/enterprises/{HARBIN_TOOLS['id']}"), 404, "NotFound")
    check_error(
        write("PATCH", f"/enterprises/{HARBIN_TOOLS['id']}", {"name": "x"}), 404, "NotFound"
    )
    assert all_enterprises(api) == [fund]
    assert api.get(f"/enterprises/{fund['id']}/partners")["partners"] == []


def test_a_deleted_id_can_be_registered_again(api, write):
    write("POST", "/enterprises", HARBIN_TOOLS)
    write("DELETE", f"/enterprises/{HARBIN_TOOLS['id']}")

    response = write("POST", "/enterprises", {**HARBIN_TOOLS, "name": "Reborn"})

    assert response.status_code == 201, response.text
    assert api.get(f"/enterprises/{HARBIN_TOOLS['id']}", key=True)["name"] == "Reborn"


def test_everything_accepted_survives_a_restart(
    api, settings, open_api, write, all_enterprises, put_enterprises
):
    population = random_population(random.Random(5), 30)
    put_enterprises(api, population.values())
    write("POST", "/enterprises", HARBIN_TOOLS)
    write("PATCH", f"/enterprises/{HARBIN_TOOLS['id']}", {"offers": {"grain": 0.4}})
    gone = sorted(population)[:3]
    for ident in gone:
        write("DELETE", f"/enterprises/{ident}")
    listed = all_enterprises(api)
    queries = [p["id"] for p in listed[::5]]
    partners = {q: api.get(f"/enterprises/{q}/partners", k=100) for q in queries}

    with open_api(settings) as restarted:
        assert all_enterprises(restarted) == listed
        assert {q: restarted.get(f"/enterprises/{q}/partners", k=100) for q in queries} == partners

    assert len(listed) == len(population) + 1 - len(gone)
    assert api.get(f"/enterprises/{HARBIN_TOOLS['id']}", key=True)["offers"] == {"grain": 0.4}


# A shared random population, read through three workers: one that registered it (its index
# holds every enterprise as a later change), one that started after it and then saw more
# changes (a built index plus changes and removals), and one started after everything.


@pytest.fixture(scope="module")
def population(tmp_path_factory, databases, launch_api, put_enterprises):
    settings = databases.settings(tmp_path_factory.mktemp("population"))
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    rng = random.Random(20170301)
    profiles = random_population(rng, 120)
    with launch_api(settings) as first:
        put_enterprises(first, profiles.values())
        with launch_api(settings) as second:
            for ident in rng.sample(sorted(profiles), 12):
                stored = profiles[ident]
                changes = {"offers": random_sectors(rng), "size": rng.choice(SIZES)}
                if rng.random() < 0.3:
                    changes["region"] = rng.choice(POPULATION_REGIONS[OTHER_SIDE[side(stored)]])
                response = second.client.patch(
                    f"/enterprises/{ident}", json=changes, headers=headers
                )
                assert response.status_code == 200, response.text
                stored.update(changes)
            for ident in rng.sample(sorted(profiles), 5):
                response = second.client.delete(f"/enterprises/{ident}", headers=headers)
                assert response.status_code == 204, response.text
                del profiles[ident]
            added = {
                f"x{n}": random_profile(rng, f"x{n}", rng.choice(("northeast", "east")))
                for n in range(6)
            }
            put_enterprises(second, added.values())
            profiles.update(added)
            with launch_api(settings) as third:
                yield profiles, {"registering": first, "changed": second, "restarted": third}


WORKERS = ("registering", "changed", "restarted")


def query_ids(profiles):
    """Some enterprises of each side to search partners for (the same ones every time)."""
    rng = random.Random(7)
    by_side = {
        name: sorted(i for i, p in profiles.items() if side(p) == name)
        for name in ("northeast", "east")
    }
    return rng.sample(by_side["northeast"], 4) + rng.sample(by_side["east"], 4)


@pytest.mark.parametrize("worker", WORKERS)
@pytest.mark.parametrize("limit", [1, 2, 500])
def test_pages_walk_every_enterprise_once_in_id_order(population, all_enterprises, worker, limit):
    profiles, apis = population

    items = all_enterprises(apis[worker], limit=limit)

    assert [item["id"] for item in items] == sorted(profiles)
    for item in items:
        assert_stored(item, profiles[item["id"]])


LIST_FILTERS = [
    {"region": "harbin"},
    {"region": "shanghai"},
    {"region": "beijing"},
    {"side": "northeast"},
    {"side": "east"},
    {"sector": "grain"},
    {"sector": "biomedicine"},
    {"sector": "talent"},
    {"ownership": "state"},
    {"size": "micro"},
    {"side": "east", "sector": "machine_tools", "size": "large"},
    {"region": "dalian", "ownership": "private", "sector": "venture_capital"},
    {"side": "northeast", "ownership": "foreign", "size": "medium"},
    {"side": "east", "region": "harbin"},
]


def listed(profile, filters):
    return (
        filters.get("region", profile["region"]) == profile["region"]
        and filters.get("side", side(profile)) == side(profile)
        and filters.get("ownership", profile["ownership"]) == profile["ownership"]
        and filters.get("size", profile["size"]) == profile["size"]
        and (
            "sector" not in filters
            or filters["sector"] in profile["offers"]
            or filters["sector"] in profile["seeks"]
        )
    )


@pytest.mark.parametrize("worker", WORKERS)
@pytest.mark.parametrize(
    "filters", LIST_FILTERS, ids=lambda f: "+".join(f"{k}={v}" for k, v in f.items())
)
def test_list_filters_select_exactly_the_matching_enterprises(
    population, all_enterprises, worker, filters
):
    profiles, apis = population
    expected = sorted(ident for ident, p in profiles.items() if listed(p, filters))

    items = all_enterprises(apis[worker], limit=3, **filters)

    assert [item["id"] for item in items] == expected
    for item in items:
        assert_stored(item, profiles[item["id"]])


def test_list_filters_are_not_vacuous(population):
    profiles, _ = population
    sizes = [sum(listed(p, f) for p in profiles.values()) for f in LIST_FILTERS]
    # Most filters select some but not all; a few are meant to select none.
    assert sum(0 < n < len(profiles) for n in sizes) >= 10, sizes


@pytest.mark.parametrize(
    "params",
    [
        {"sector": "unobtainium"},
        {"region": "atlantis"},
        {"side": "west"},
        {"ownership": "public"},
        {"size": "huge"},
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
    ],
    ids=lambda p: "+".join(f"{k}={v}" for k, v in p.items()),
)
def test_list_with_an_invalid_filter_is_a_422(api, check_error, params):
    check_error(
        api.client.get("/enterprises", params=params), 422, ("ValidationError", "InvalidRequest")
    )


# Partner search.

PARTNER_REGION = "a region of the partner side"
EMPTY_REGION = "a partner-side region without enterprises"
MIDPOINT = "halfway between two distinct scores"

PARTNER_FILTERS = {
    "top 10": {"k": 10},
    "every partner": {"k": 100},
    "top 1": {"k": 1},
    "equipment channel": {"k": 15, "channel": "equipment"},
    "emerging channel (synergy)": {"k": 100, "channel": "emerging"},
    "agriculture channel": {"k": 100, "channel": "agriculture"},
    "partner region": {"k": 100, "region": PARTNER_REGION},
    "partner region, none there": {"k": 10, "region": EMPTY_REGION},
    "ownership": {"k": 100, "ownership": "private"},
    "size": {"k": 5, "size": "micro"},
    "min score": {"k": 100, "min_score": MIDPOINT},
    "min score above all": {"k": 10, "min_score": 100.0},
    "channel, region and size": {
        "k": 100,
        "channel": "innovation",
        "region": PARTNER_REGION,
        "size": "small",
    },
    "ownership, size and min score": {
        "k": 100,
        "ownership": "state",
        "size": "large",
        "min_score": MIDPOINT,
    },
    "channel and min score, top 3": {"k": 3, "channel": "agriculture", "min_score": MIDPOINT},
    "region and ownership, top 2": {"k": 2, "region": PARTNER_REGION, "ownership": "mixed"},
}


def resolved(filters, model, query, profiles):
    """The filters with the query-dependent placeholders filled in."""
    params = dict(filters)
    partner_side = OTHER_SIDE[side(query)]
    if params.get("region") == PARTNER_REGION:
        params["region"] = POPULATION_REGIONS[partner_side][0]
    elif params.get("region") == EMPTY_REGION:
        params["region"] = "changchun" if partner_side == "northeast" else "beijing"
    if params.get("min_score") == MIDPOINT:
        found = brute_force(model, query, profiles, channel=params.get("channel"))
        scores = sorted({round(score, 6) for score, _ in found}, reverse=True)
        middle = len(scores) // 2
        params["min_score"] = (scores[middle - 1] + scores[middle]) / 2 if middle else 0.0
    return params


@pytest.mark.parametrize("worker", WORKERS)
@pytest.mark.parametrize("filters", PARTNER_FILTERS.values(), ids=PARTNER_FILTERS)
def test_partners_are_exactly_the_brute_force_best(enterprise_model, population, worker, filters):
    profiles, apis = population
    for ident in query_ids(profiles):
        query = profiles[ident]
        params = resolved(filters, enterprise_model, query, profiles)
        expected = brute_force(
            enterprise_model, query, profiles, **{k: v for k, v in params.items() if k != "k"}
        )

        body = apis[worker].get(f"/enterprises/{ident}/partners", **params)

        assert body["enterprise"] == ident
        assert body["dataset_version"] == SHIPPED_VERSION
        assert_same_ranking(body["partners"], expected, params["k"])
        assert_explained(enterprise_model, query, body["partners"], profiles, params.get("channel"))


def test_the_partner_filters_are_not_vacuous(enterprise_model, population):
    """Across the queries, each filter leaves out someone the plain search would return."""
    profiles, _ = population
    meant_empty = ("partner region, none there", "min score above all")
    for name, filters in PARTNER_FILTERS.items():
        found = dropped = False
        for ident in query_ids(profiles):
            query = profiles[ident]
            params = resolved(filters, enterprise_model, query, profiles)
            filters_only = {k: v for k, v in params.items() if k != "k"}
            every = brute_force(enterprise_model, query, profiles)
            filtered = brute_force(enterprise_model, query, profiles, **filters_only)
            found |= bool(filtered)
            dropped |= len(filtered) < len(every) or not filters_only and params["k"] < len(every)
        assert found != (name in meant_empty), name
        assert dropped or name == "every partner", name
    ties = 0
    for ident in query_ids(profiles):
        scores = [round(s, 9) for s, _ in brute_force(enterprise_model, profiles[ident], profiles)]
        ties += len(scores) - len(set(scores))
    assert ties >= 10, "the population should have equal scores to order by id"


@pytest.mark.parametrize("worker", WORKERS)
def test_every_worker_gives_the_same_partners(population, worker):
    profiles, apis = population
    for ident in query_ids(profiles):
        assert apis[worker].get(f"/enterprises/{ident}/partners", k=100) == apis["restarted"].get(
            f"/enterprises/{ident}/partners", k=100
        )


LARGE_POPULATION_FILTERS = [
    {"k": 10},
    {"k": 1},
    {"k": 100, "region": PARTNER_REGION},
    {"k": 30, "channel": "equipment"},
    {"k": 50, "ownership": "state", "size": "large"},
    {"k": 100, "min_score": MIDPOINT},
]


def test_partners_are_exact_on_a_population_large_enough_for_the_block_bound(
    api, admin_headers, enterprise_model
):
    """Over 2,048 candidates the search bounds the k-th best by block maxima: still exact."""
    records = list(generate_enterprises(load_dataset(), 3000, seed=4))
    text = io.StringIO()
    write_jsonl(records, text)
    response = api.client.post(
        "/enterprises/import",
        content=text.getvalue().encode(),
        headers={**admin_headers, "content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    profiles = {record["id"]: record for record in records}
    rng = random.Random(3)
    for ident in rng.sample(sorted(profiles), 40):
        changed = {**profiles[ident], "offers": random_sectors(rng)}
        replaced = api.client.put(f"/enterprises/{ident}", json=changed, headers=admin_headers)
        assert replaced.status_code == 200, replaced.text
        profiles[ident] = changed
    for ident in rng.sample(sorted(profiles), 20):
        deleted = api.client.delete(f"/enterprises/{ident}", headers=admin_headers)
        assert deleted.status_code == 204, deleted.text
        del profiles[ident]
    east = sorted(i for i, p in profiles.items() if side(p) == "east")
    northeast = sorted(i for i, p in profiles.items() if side(p) == "northeast")
    assert len(east) >= 2048

    for ident in rng.sample(northeast, 4) + rng.sample(east, 1):
        query = profiles[ident]
        for filters in LARGE_POPULATION_FILTERS:
            params = resolved(filters, enterprise_model, query, profiles)
            expected = brute_force(
                enterprise_model, query, profiles, **{k: v for k, v in params.items() if k != "k"}
            )

            partners = api.get(f"/enterprises/{ident}/partners", **params)["partners"]

            assert_same_ranking(partners, expected, params["k"])
            assert_explained(enterprise_model, query, partners, profiles, params.get("channel"))


@pytest.mark.parametrize(
    "params",
    [
        {"k": 0},
        {"k": 101},
        {"channel": "espionage"},
        {"region": "atlantis"},
        {"region": "dalian"},
        {"ownership": "public"},
        {"size": "huge"},
        {"min_score": -0.1},
        {"min_score": "nan"},
    ],
    ids=lambda p: "+".join(f"{k}={v}" for k, v in p.items()),
)
def test_partners_with_an_invalid_filter_is_a_422(api, write, check_error, params):
    write("POST", "/enterprises", HARBIN_TOOLS)

    response = api.client.get(f"/enterprises/{HARBIN_TOOLS['id']}/partners", params=params)

    check_error(response, 422, ("ValidationError", "InvalidRequest"))


def test_partners_of_an_unknown_enterprise_is_a_404(api, check_error):
    check_error(api.client.get("/enterprises/nobody/partners"), 404, "NotFound")


SEARCH_PROBES = [
    {
        "region": "harbin",
        "offers": {"grain": 1.0, "biomedicine": 0.5},
        "seeks": {"venture_capital": 0.5},
    },
    {"region": "shenzhen", "offers": {"machine_tools": 0.5}, "seeks": {"forest_products": 1.0}},
    {"region": "jiangsu", "offers": {"software_digital": 0.25}},
    {"region": "dalian"},
]
SEARCH_FILTERS = [
    {"k": 10},
    {"k": 100, "channel": "emerging"},
    {"k": 100, "region": PARTNER_REGION, "size": "small"},
    {"k": 4, "ownership": "private", "min_score": 0.05},
]


def test_search_for_an_unregistered_profile_equals_registering_it(
    api, write, enterprise_model, put_enterprises, all_enterprises
):
    profiles = random_population(random.Random(11), 50)
    put_enterprises(api, profiles.values())
    for probe in SEARCH_PROBES:
        for filters in SEARCH_FILTERS:
            query = {**probe, "id": "probe", "name": "Probe"}
            params = resolved(filters, enterprise_model, query, profiles)
            renamed = {("partner_region" if k == "region" else k): v for k, v in params.items()}
            body = {**probe, **renamed}

            searched = api.post("/partners/search", body)

            assert searched["enterprise"] is None
            expected = brute_force(
                enterprise_model, query, profiles, **{k: v for k, v in params.items() if k != "k"}
            )
            assert_same_ranking(searched["partners"], expected, params["k"])
            assert_explained(
                enterprise_model, query, searched["partners"], profiles, params.get("channel")
            )
            assert write("PUT", "/enterprises/probe", query).status_code == 201
            registered = api.get("/enterprises/probe/partners", **params)
            assert write("DELETE", "/enterprises/probe").status_code == 204
            assert registered == {**searched, "enterprise": "probe"}
    assert len(all_enterprises(api)) == len(profiles)


@pytest.mark.parametrize(
    "body",
    [
        {"region": "atlantis"},
        {"region": "harbin", "offers": {"unobtainium": 0.5}},
        {"region": "harbin", "seeks": {"unobtainium": 0.5}},
        {"region": "harbin", "seeks": {"grain": 2}},
        {"region": "harbin", "channel": "espionage"},
        {"region": "harbin", "partner_region": "dalian"},
        {"region": "shanghai", "partner_region": "beijing"},
        {"region": "harbin", "partner_region": "atlantis"},
        {"region": "harbin", "k": 0},
        {"region": "harbin", "k": 101},
        {"region": "harbin", "min_score": -1},
        {"region": "harbin", "size": "huge"},
        {"region": "harbin", "id": "me"},
        {"offers": {"grain": 0.5}},
    ],
    ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()),
)
def test_search_with_an_invalid_query_is_a_422(api, check_error, body):
    response = api.client.post("/partners/search", json=body)

    check_error(response, 422, ("ValidationError", "InvalidRequest"))


def test_partners_follow_every_write(api, write, enterprise_model, put_enterprises):
    query = {"id": "q", "name": "Q", "region": "harbin", "offers": {"grain": 1.0}, "seeks": {}}
    profiles = {
        "a": {"id": "a", "name": "A", "region": "shanghai", "seeks": {"grain": 0.5}},
        "b": {"id": "b", "name": "B", "region": "shanghai", "seeks": {"grain": 1.0}},
        "c": {"id": "c", "name": "C", "region": "jiangsu", "seeks": {"grain": 0.25}},
    }
    for profile in profiles.values():
        profile.update(offers={}, size="small", ownership="private")
    put_enterprises(api, [query, *profiles.values()])

    def check(expected_ids, **filters):
        everyone = {**profiles, "q": query}
        expected = brute_force(enterprise_model, query, everyone, **filters)
        body = api.get("/enterprises/q/partners", k=100, **filters)
        assert [p["id"] for p in body["partners"]] == expected_ids
        assert_same_ranking(body["partners"], expected, 100)
        assert_explained(
            enterprise_model, query, body["partners"], everyone, filters.get("channel")
        )
        return {p["id"]: p for p in body["partners"]}

    before = check(["b", "a", "c"])

    profiles["a"].update(seeks={"grain": 1.0}, size="large", name="A2")
    assert write("PUT", "/enterprises/a", profiles["a"]).status_code == 200
    after = check(["a", "b", "c"])
    assert after["a"]["score"] > before["a"]["score"] and after["a"]["name"] == "A2"
    check(["a"], size="large")

    # Seeking nothing any more, b has no fit with q: no longer a partner.
    profiles["b"]["seeks"] = {}
    assert write("PATCH", "/enterprises/b", {"seeks": {}}).status_code == 200
    check(["a", "c"])
    check(["a", "c"], channel="agriculture")

    del profiles["a"]
    assert write("DELETE", "/enterprises/a").status_code == 204
    check(["c"])

    profiles["c"]["region"] = "dalian"
    assert write("PATCH", "/enterprises/c", {"region": "dalian"}).status_code == 200
    check([])

    profiles["d"] = {"id": "d", "name": "D", "region": "shenzhen", "offers": {},
                     "seeks": {"grain": 0.75}, "size": "micro", "ownership": "mixed"}  # fmt: skip
    assert write("POST", "/enterprises", profiles["d"]).status_code == 201
    check(["d"])
    check(["d"], ownership="mixed")
    profiles["b"]["seeks"] = {"grain": 0.5}
    assert write("PATCH", "/enterprises/b", {"seeks": {"grain": 0.5}}).status_code == 200
    check(["d", "b"])

    query["offers"] = {"grain": 0.5}
    assert write("PATCH", "/enterprises/q", {"offers": query["offers"]}).status_code == 200
    check(["d", "b"])


def test_partners_with_identical_explanations_have_equal_scores_in_id_order(api, put_enterprises):
    put_enterprises(
        api,
        [
            {"id": "q", "name": "Q", "region": "jiangsu",
             "offers": {"grain": 0.25}, "seeks": {"forest_products": 0.25}},
            {"id": "p1", "name": "One term", "region": "liaoning", "seeks": {"grain": 1.0}},
            {"id": "p2", "name": "Two terms", "region": "liaoning",
             "offers": {"forest_products": 0.5}, "seeks": {"grain": 0.5}},
        ],
    )  # fmt: skip

    partners = api.get("/enterprises/q/partners")["partners"]

    # The same contributions: 0.25 x 1.0 of grain, or 0.25 x 0.5 of grain and of forest products.
    assert partners[0]["contributions"] == partners[1]["contributions"]
    assert [p["id"] for p in partners] == ["p1", "p2"]
    assert partners[0]["score"] == partners[1]["score"]


def test_a_contact_is_shown_only_to_a_request_with_the_key(api, write):
    profile = {**HARBIN_TOOLS, "contact": "sales@harbin-tools.example"}
    write("POST", "/enterprises", profile)

    anonymous = api.get(f"/enterprises/{profile['id']}")
    listed = api.get("/enterprises")["items"]
    keyed = api.get(f"/enterprises/{profile['id']}", key=True)
    wrong = api.client.get(
        f"/enterprises/{profile['id']}", headers={"Authorization": "Bearer not-the-key-0123456789"}
    )

    assert anonymous["contact"] is None and [e["contact"] for e in listed] == [None]
    assert wrong.json()["contact"] is None
    assert keyed["contact"] == "sales@harbin-tools.example"
    assert {k: v for k, v in anonymous.items() if k != "contact"} == {
        k: v for k, v in keyed.items() if k != "contact"
    }
