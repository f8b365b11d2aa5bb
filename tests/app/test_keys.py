"""Keys with roles: what each role may write, revocation, hashed storage, the CLI, contacts."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.settings import Settings
from app.storage.database import normalise_url

from .conftest import ADMIN_KEY, TestDatabases

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
OWN = "ne-own-tools"
OTHER = "ea-other-fund"
PROFILES = {
    OWN: {"id": OWN, "name": "Own Tools", "region": "harbin", "contact": "own@example.com"},
    OTHER: {"id": OTHER, "name": "Other Fund", "region": "shanghai", "contact": "x@example.com"},
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_key(api: Any, role: str, **fields: Any) -> dict[str, Any]:
    """Create a key with the bootstrap admin key; the answer holds its secret."""
    response = api.client.post("/keys", json={"role": role, **fields}, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture(scope="module")
def keyed(
    tmp_path_factory: pytest.TempPathFactory, databases: TestDatabases, launch_api: Any
) -> Iterator[Any]:
    """One app with two enterprises and a key of every kind (secrets by name)."""
    settings = databases.settings(tmp_path_factory.mktemp("keys"))
    with launch_api(settings) as api:
        for profile in PROFILES.values():
            response = api.client.put(f"/enterprises/{profile['id']}", json=profile, headers=ADMIN)
            assert response.status_code == 201, response.text
        revoked = make_key(api, "planner", label="gone")
        assert api.client.delete(f"/keys/{revoked['id']}", headers=ADMIN).status_code == 204
        api.secrets = {
            "none": None,
            "unknown": "ck_" + "x" * 43,
            "revoked": revoked["key"],
            "bootstrap": ADMIN_KEY,
            "admin": make_key(api, "admin")["key"],
            "planner": make_key(api, "planner")["key"],
            "enterprise": make_key(api, "enterprise", enterprises=[OWN])["key"],
        }
        yield api


names = itertools.count()


def unique() -> str:
    return f"case-{next(names)}"


# Each kind of write: (method, path, request keyword arguments made fresh for every request).
Write = tuple[str, str, Callable[[Any], dict[str, Any]]]
WRITES: dict[str, Write] = {
    "dataset": ("PUT", "/dataset", lambda api: {"json": api.get("/dataset/document")}),
    "keys": ("POST", "/keys", lambda api: {"json": {"role": "planner"}}),
    "scenario": (
        "POST",
        "/scenarios",
        lambda api: {"json": {"name": unique(), "scenario": {"capacity": 1, "k": 1}}},
    ),
    "outcome": (
        "POST",
        "/outcomes",
        lambda api: {
            "json": {
                "northeast": "harbin",
                "east": "beijing",
                "indicator": "projects_signed",
                "value": 1,
                "date": "2019-03-01",
                "channels": ["innovation"],
                "source": "test",
            }
        },
    ),
    "outcome import": (
        "POST",
        "/outcomes/import",
        lambda api: {
            "content": "northeast,east,indicator,value,date,channels,source\n"
            "harbin,beijing,projects_signed,2,2019-04-01,innovation,test\n",
            "headers": {"content-type": "text/csv"},
        },
    ),
    "target": (
        "PUT",
        "/targets",
        lambda api: {
            "json": {
                "northeast": "harbin",
                "east": "shenzhen",
                "year": 2024,
                "indicator": "projects_signed",
                "value": 10,
            }
        },
    ),
    "own profile": ("PUT", f"/enterprises/{OWN}", lambda api: {"json": PROFILES[OWN]}),
    "own patch": ("PATCH", f"/enterprises/{OWN}", lambda api: {"json": {"name": "Own Tools"}}),
    "other's profile": ("PUT", f"/enterprises/{OTHER}", lambda api: {"json": PROFILES[OTHER]}),
    "other's delete": ("DELETE", "/enterprises/no-such-one", lambda api: {}),
    "enterprise import": (
        "POST",
        "/enterprises/import",
        lambda api: {
            "content": json.dumps(PROFILES[OTHER]) + "\n",
            "headers": {"content-type": "application/x-ndjson"},
        },
    ),
}
# The role each write needs besides admin (None: admin only).
NEEDS = {
    "dataset": None,
    "keys": None,
    "scenario": "planner",
    "outcome": "planner",
    "outcome import": "planner",
    "target": "planner",
    "own profile": "enterprise",
    "own patch": "enterprise",
    "other's profile": None,
    "other's delete": None,
    "enterprise import": None,
}


def expected_status(key: str, write: str) -> int:
    """401 without a valid key; 403 for a role that may not; otherwise the write's success."""
    if key in ("none", "unknown", "revoked"):
        return 401
    if key in ("bootstrap", "admin") or NEEDS[write] == key:
        return 0
    return 403


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize(
    "key", ["none", "unknown", "revoked", "bootstrap", "admin", "planner", "enterprise"]
)
def test_each_role_against_each_kind_of_write(keyed, check_error, key, write):
    method, path, request = WRITES[write]
    secret = keyed.secrets[key]
    kwargs = request(keyed)
    headers = {**kwargs.pop("headers", {}), **({} if secret is None else bearer(secret))}

    response = keyed.client.request(method, path, headers=headers, **kwargs)

    expected = expected_status(key, write)
    if expected == 401:
        check_error(response, 401, "Unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    elif expected == 403:
        body = check_error(response, 403, "Forbidden")
        if write.startswith("other's") and key == "enterprise":
            # Named why: the key is bound to other enterprises.
            assert OWN in body["detail"] and "bound" in body["detail"], body
        else:
            assert f"a key with the `{key}` role may not {method} " in body["detail"], body
            assert "`admin`" in body["detail"], body
    else:
        # "other's delete" names an enterprise that does not exist: past the key, a 404.
        assert response.status_code in (200, 201, 204, 404), response.text
        assert response.status_code != 404 or write == "other's delete", response.text


def test_the_secret_is_shown_once_and_listed_never(api, check_error):
    created = make_key(api, "enterprise", label="Harbin Tools", enterprises=["b-2", "a-1", "a-1"])

    assert created["key"].startswith("ck_") and len(created["key"]) == 46
    assert created["key"].startswith(created["prefix"]) and len(created["prefix"]) == 11
    assert created["enterprises"] == ["a-1", "b-2"] and created["revoked_at"] is None
    listed = api.client.get("/keys", headers=ADMIN).json()["keys"]
    assert listed == [{k: v for k, v in created.items() if k != "key"}]
    assert created["key"] not in json.dumps(listed)
    # Listing keys is the admin's: a planner key may not see them.
    planner = make_key(api, "planner")["key"]
    check_error(api.client.get("/keys", headers=bearer(planner)), 403, "Forbidden")
    check_error(api.client.get("/keys"), 401, "Unauthorized")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "enterprise"}, "enterprise ids"),
        ({"role": "planner", "enterprises": ["a-1"]}, "`enterprises`"),
        ({"role": "root"}, "body.role"),
        ({"role": "enterprise", "enterprises": ["has space"]}, "body.enterprises.0"),
        ({"role": "admin", "label": "x" * 201}, "body.label"),
        ({"role": "admin", "secret": "mine"}, "body.secret"),
    ],
)
def test_an_invalid_key_request_is_a_422_naming_the_problem_and_creates_nothing(
    api, check_error, body, field
):
    failed = check_error(
        api.client.post("/keys", json=body, headers=ADMIN),
        422,
        ("InvalidRequest", "ValidationError"),
    )

    assert field in failed["detail"], failed
    assert api.client.get("/keys", headers=ADMIN).json()["keys"] == []


def test_revoking_an_unknown_key_is_a_404_and_revoking_twice_keeps_the_first_time(api, check_error):
    check_error(api.client.delete("/keys/99", headers=ADMIN), 404, "NotFound")
    key = make_key(api, "planner")
    assert api.client.delete(f"/keys/{key['id']}", headers=ADMIN).status_code == 204
    first = api.client.get("/keys", headers=ADMIN).json()["keys"][0]["revoked_at"]
    assert api.client.delete(f"/keys/{key['id']}", headers=ADMIN).status_code == 204
    assert api.client.get("/keys", headers=ADMIN).json()["keys"][0]["revoked_at"] == first


def test_revocation_takes_effect_on_the_next_request_in_every_worker(
    api, open_api, settings, check_error
):
    key = make_key(api, "planner")
    target = {"northeast": "harbin", "east": "shenzhen", "year": 2024,
              "indicator": "projects_signed", "value": 10}  # fmt: skip
    with open_api(settings) as other_worker:
        assert other_worker.client.put(
            "/targets", json=target, headers=bearer(key["key"])
        ).is_success
        assert api.client.put("/targets", json=target, headers=bearer(key["key"])).is_success

        assert api.client.delete(f"/keys/{key['id']}", headers=ADMIN).status_code == 204

        for worker in (api, other_worker):
            response = worker.client.put("/targets", json=target, headers=bearer(key["key"]))
            refused = check_error(response, 401, "Unauthorized")
            assert "revoked" in refused["detail"] and key["prefix"] in refused["detail"]
    # A revoked key on a read shows no more than no key.
    enterprise = make_key(api, "enterprise", enterprises=["ne-x"])
    api.client.put(
        "/enterprises/ne-x",
        json={"name": "X", "region": "harbin", "contact": "x@example.com"},
        headers=ADMIN,
    )
    seen = api.client.get("/enterprises/ne-x", headers=bearer(enterprise["key"])).json()
    assert seen["contact"] == "x@example.com"
    api.client.delete(f"/keys/{enterprise['id']}", headers=ADMIN)
    assert (
        api.client.get("/enterprises/ne-x", headers=bearer(enterprise["key"])).json()["contact"]
        is None
    )


def database_cells(url: str) -> list[str]:
    """Every cell of every table of the database (SQLite or PostgreSQL), as text."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            return [
                str(cell)
                for table in inspect(connection).get_table_names()
                for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"')  # noqa: S608
                for cell in row
            ]
    finally:
        engine.dispose()


def test_the_plain_key_is_never_stored(api, settings):
    created = [make_key(api, role) for role in ("admin", "planner")]
    created.append(make_key(api, "enterprise", enterprises=[OWN]))

    files = [p for p in Path(settings.data_dir).iterdir() if p.name.startswith("counterpart.db")]
    stored = b"".join(p.read_bytes() for p in files)
    cells = database_cells(settings.resolved_database_url)
    for key in created:
        secret = key["key"]
        assert secret.encode() not in stored
        assert secret[len(key["prefix"]) :].encode() not in stored
        assert not any(secret in cell for cell in cells)
        # What is stored is its digest, and the key is found by it.
        assert hashlib.sha256(secret.encode()).hexdigest() in cells
    assert ADMIN_KEY not in " ".join(cells)


def test_contacts_are_shown_to_their_own_key_planners_and_admins(api):
    for profile in PROFILES.values():
        assert api.client.put(
            f"/enterprises/{profile['id']}", json=profile, headers=ADMIN
        ).is_success
    revoked = make_key(api, "enterprise", enterprises=[OWN])
    api.client.delete(f"/keys/{revoked['id']}", headers=ADMIN)
    viewers = {
        "anonymous": None,
        "unknown": "ck_" + "y" * 43,
        "revoked own": revoked["key"],
        "bootstrap": ADMIN_KEY,
        "admin": make_key(api, "admin")["key"],
        "planner": make_key(api, "planner")["key"],
        "own": make_key(api, "enterprise", enterprises=[OWN])["key"],
        "other's": make_key(api, "enterprise", enterprises=["someone-else"])["key"],
    }
    sees_all = {"bootstrap", "admin", "planner"}
    for viewer, secret in viewers.items():
        headers = None if secret is None else bearer(secret)
        listed = api.client.get("/enterprises", headers=headers).json()["items"]
        contacts = {e["id"]: e["contact"] for e in listed}
        for enterprise_id, profile in PROFILES.items():
            visible = viewer in sees_all or (viewer == "own" and enterprise_id == OWN)
            shown = profile["contact"] if visible else None
            one = api.client.get(f"/enterprises/{enterprise_id}", headers=headers).json()
            assert (viewer, one["contact"]) == (viewer, shown)
            assert (viewer, contacts[enterprise_id]) == (viewer, shown)


def test_an_enterprise_key_manages_only_its_own_profiles(api, check_error):
    key = bearer(make_key(api, "enterprise", enterprises=[OWN, "ne-own-2"])["key"])
    profile = PROFILES[OWN]

    assert api.client.post("/enterprises", json=profile, headers=key).status_code == 201
    assert api.client.put("/enterprises/ne-own-2", json={**profile, "id": "ne-own-2"},
                          headers=key).status_code == 201  # fmt: skip
    assert api.client.patch(f"/enterprises/{OWN}", json={"name": "New"}, headers=key).is_success
    # Without an id the server would choose one the key is not bound to.
    no_id = {k: v for k, v in profile.items() if k != "id"}
    refused = check_error(
        api.client.post("/enterprises", json=no_id, headers=key), 403, "Forbidden"
    )
    assert "give the `id`" in refused["detail"]
    other = {**PROFILES[OTHER]}
    refused = check_error(
        api.client.post("/enterprises", json=other, headers=key), 403, "Forbidden"
    )
    assert repr(OTHER) in refused["detail"] and repr(OWN) in refused["detail"]
    assert api.client.put(f"/enterprises/{OTHER}", json=other, headers=ADMIN).status_code == 201
    for method in ("PATCH", "DELETE"):
        response = api.client.request(
            method,
            f"/enterprises/{OTHER}",
            json={"name": "Mine"} if method == "PATCH" else None,
            headers=key,
        )
        check_error(response, 403, "Forbidden")
    assert api.get(f"/enterprises/{OTHER}")["name"] == PROFILES[OTHER]["name"]
    assert api.client.delete(f"/enterprises/{OWN}", headers=key).status_code == 204


def test_a_key_is_checked_before_the_body_is_read(api, check_error):
    planner = bearer(make_key(api, "planner")["key"])
    malformed = {"content": b'{"role": ', "headers": {"content-type": "application/json"}}

    check_error(api.client.post("/keys", **malformed), 401, "Unauthorized")
    response = api.client.post(
        "/keys", content=b'{"role": ', headers={**planner, "content-type": "application/json"}
    )
    check_error(response, 403, "Forbidden")
    # An enterprise key is refused another's profile before its body is read, too.
    enterprise = bearer(make_key(api, "enterprise", enterprises=[OWN])["key"])
    response = api.client.put(
        f"/enterprises/{OTHER}",
        content=b'{"name": ',
        headers={**enterprise, "content-type": "application/json"},
    )
    assert repr(OTHER) in check_error(response, 403, "Forbidden")["detail"]


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli, ["keys", *args])


@pytest.fixture
def cli_settings(tmp_path, monkeypatch, databases):
    """The command line's settings on this test's data directory (no bootstrap key)."""
    from app.settings import get_settings

    monkeypatch.delenv("COUNTERPART_ADMIN_KEY", raising=False)
    monkeypatch.delenv("COUNTERPART_DATABASE_URL", raising=False)
    for name, value in databases.environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield databases.settings(tmp_path, admin_key=None)
    get_settings.cache_clear()


def test_the_command_line_creates_lists_and_revokes_keys(cli_settings, open_api, check_error):
    made = run_cli("create", "--role", "admin", "--label", "ops desk")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("ck_") and "shown only this once" in made.stderr
    enterprise = run_cli("create", "--role", "enterprise", "--enterprise", OWN, "--enterprise", "b")
    assert enterprise.exit_code == 0, enterprise.output

    with open_api(cli_settings) as api:
        # The server has no bootstrap key: the CLI's admin key is the way in.
        response = api.client.post("/keys", json={"role": "planner"}, headers=bearer(secret))
        assert response.status_code == 201, response.text

        listed = run_cli("list")
        assert listed.exit_code == 0, listed.output
        rows = [line.split("\t") for line in listed.stdout.splitlines() if line]
        assert rows[0][:5] == ["id", "prefix", "role", "label", "enterprises"]
        assert [(r[0], r[2], r[3], r[4], r[6]) for r in rows[1:]] == [
            ("1", "admin", "ops desk", "", ""),
            ("2", "enterprise", "", f"b,{OWN}", ""),
            ("3", "planner", "", "", ""),
        ]
        assert rows[1][1] == secret[:11] + "…" and secret not in listed.stdout

        revoked = run_cli("revoke", "1")
        assert revoked.exit_code == 0 and "revoked key 1" in revoked.stdout
        check_error(api.client.get("/keys", headers=bearer(secret)), 401, "Unauthorized")
        assert run_cli("list").stdout.strip().splitlines()[1].split("\t")[6] != ""

    missing = run_cli("revoke", "42")
    assert missing.exit_code == 1 and "no key with id 42" in missing.stderr
    bad = run_cli("create", "--role", "enterprise")
    assert bad.exit_code == 1 and "enterprise ids" in bad.stderr
    # Checked as POST /keys checks its body.
    spaced = run_cli("create", "--role", "enterprise", "--enterprise", "has space")
    assert spaced.exit_code == 1 and "enterprises.0" in spaced.stderr
    assert len([line for line in run_cli("list").stdout.splitlines() if line]) == 4


# The operations that need a key, and the roles besides admin that may call them.
SECURED = {
    ("put", "/dataset"): (),
    ("post", "/keys"): (),
    ("get", "/keys"): (),
    ("delete", "/keys/{key_id}"): (),
    ("post", "/scenarios"): ("planner",),
    ("delete", "/scenarios/{scenario_id}"): ("planner",),
    ("post", "/outcomes"): ("planner",),
    ("put", "/outcomes/{outcome_id}"): ("planner",),
    ("delete", "/outcomes/{outcome_id}"): ("planner",),
    ("post", "/outcomes/import"): ("planner",),
    ("put", "/targets"): ("planner",),
    ("delete", "/targets/{target_id}"): ("planner",),
    ("post", "/enterprises"): ("enterprise",),
    ("put", "/enterprises/{enterprise_id}"): ("enterprise",),
    ("patch", "/enterprises/{enterprise_id}"): ("enterprise",),
    ("delete", "/enterprises/{enterprise_id}"): ("enterprise",),
    ("post", "/enterprises/import"): (),
}


def test_openapi_documents_each_operations_key_and_its_401_and_403(tmp_path):
    document = create_app(Settings(data_dir=tmp_path)).openapi()
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }

    secured = {
        op for op, spec in operations.items() if spec.get("security") == [{"HTTPBearer": []}]
    }
    assert secured == set(SECURED)
    for op, roles in SECURED.items():
        spec = operations[op]
        assert {"401", "403"} <= spec["responses"].keys(), op
        for role in ("admin", *roles):
            assert (
                f"`{role}`" in spec["description"]
                and f"`{role}`" in spec["responses"]["403"]["description"]
            ), op
    # Reads that show contacts to a key say that the key is optional.
    for path in ("/enterprises", "/enterprises/{enterprise_id}"):
        assert operations[("get", path)]["security"] == [{}, {"HTTPBearer": []}]
    # The rest are open: no key, and no 401 or 403 documented.
    for op, spec in operations.items():
        if op not in SECURED:
            assert not {"401", "403"} & spec["responses"].keys(), op
