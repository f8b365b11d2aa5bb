"""Fixtures of the HTTP API tests.

Every test gets an app of its own on its own data directory (`tmp_path`), so tests can run in
parallel and write without seeing each other. The client does not re-raise server exceptions: a
test sees what a front-end would see, a 500 in the error shape.

The database is SQLite in the data directory, or, with ``COUNTERPART_TEST_DATABASE_URL`` set to
a PostgreSQL server (``postgresql://postgres@127.0.0.1:5432/test``: a database to connect to),
a schema of a database this session creates on that server and drops at its end (one per xdist
worker): each data directory its own schema, so tests stay as isolated as on SQLite. A server
that cannot be reached fails every test that needs a database; nothing is skipped.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from app.main import create_app
from app.settings import Settings
from app.storage.database import normalise_url
from matching import Weights, load_dataset, network_from_dataset, score_components
from matching.enterprises import EnterpriseModel

ADMIN_KEY = "test-key-0123456789abcdef"
#: The version of the dataset the package ships (what a new app serves).
SHIPPED_VERSION = load_dataset().version


class Api:
    """A test client that returns JSON bodies and checks every error against the error shape."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, *, key: bool = False, **params: Any) -> Any:
        """The JSON body of a GET that must succeed (parameters that are None are left out).

        With `key`, the request carries the admin key (private fields are shown).
        """
        response = self.client.get(
            path,
            params={name: value for name, value in params.items() if value is not None},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"} if key else None,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        """The JSON body of a POST that must succeed."""
        response = self.client.post(path, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def fails(
        self, method: str, path: str, status: int, codes: str | tuple[str, ...], **kwargs: Any
    ) -> dict[str, Any]:
        """The error body of a request that must fail with `status` and one of `codes`."""
        return error_body(self.client.request(method, path, **kwargs), status, codes)

    def links(self, **params: Any) -> dict[tuple[str, str], dict[str, Any]]:
        """Every link by (northeast, east) under the given query parameters."""
        body = self.get("/links", limit=100, **params)
        assert body["total"] == len(body["links"])
        return {(link["northeast"], link["east"]): link for link in body["links"]}

    def regions(self) -> dict[str, dict[str, Any]]:
        """Every region by id."""
        return {r["id"]: r for r in self.get("/regions")["regions"]}

    def weights_body(self, weights: dict[str, float]) -> dict[str, dict[str, float]]:
        """The `weights` of a request body from component id to weight, grouped as GET /taxonomy."""
        taxonomy = self.get("/taxonomy")
        grouped = {
            group: {
                item["id"]: weights[item["id"]] for item in taxonomy[group] if item["id"] in weights
            }
            for group in ("channels", "factors")
        }
        assert sum(len(part) for part in grouped.values()) == len(weights), weights
        return grouped

    def ties(self) -> set[tuple[str, str]]:
        """The (northeast, east) pairs that cooperated at the plan's adoption (GET /regions).

        Ties that started later are the plan's results: listed, but not yet in force.
        """
        adopted = self.get("/dataset")["adopted"]
        return {
            (tie["northeast"], tie["east"])
            for region in self.get("/regions")["regions"]
            for tie in region["ties"]
            if tie["start"] <= adopted
        }


def error_body(
    response: httpx.Response, status: int, codes: str | tuple[str, ...]
) -> dict[str, Any]:
    """Check that `response` failed with `status` in the API's one error shape; return the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert_error_shape(body)
    expected = (codes,) if isinstance(codes, str) else codes
    assert body["error"] in expected, body
    if status == 422:
        # Every 422 lists its problems (one list for a front-end to read).
        assert body.get("errors"), body
    return body


def assert_error_shape(body: Any) -> None:
    """`{"error": code, "detail": message, optional "errors": [{field, error, row}]}`."""
    assert isinstance(body, dict), body
    assert {"error", "detail"} <= body.keys() <= {"error", "detail", "errors", "error_count"}, body
    if "errors" in body:
        assert body["error_count"] >= len(body["errors"]) and len(body["errors"]) <= 50, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    for item in body.get("errors", []):
        assert {"field", "error"} <= item.keys() <= {"field", "error", "row"}, body
        assert isinstance(item["field"], str) and isinstance(item["error"], str), body


@pytest.fixture
def check_error_shape() -> Callable[[Any], None]:
    """`assert_error_shape`, for tests that do not know the status or code in advance."""
    return assert_error_shape


@pytest.fixture
def check_error() -> Callable[[httpx.Response, int, str | tuple[str, ...]], dict[str, Any]]:
    """`error_body`, for tests that send requests the `Api` helpers do not cover."""
    return error_body


#: A PostgreSQL server to run the suite on; unset, the suite runs on SQLite.
SERVER_URL = os.environ.get("COUNTERPART_TEST_DATABASE_URL") or None


class TestDatabases:
    """The database of each data directory: SQLite in it, or a schema of the session's database."""

    __test__ = False

    def __init__(self, database: URL | None) -> None:
        self.database = database
        self._engine: Engine | None = None if database is None else create_engine(database)

    def url(self, data_dir: Path) -> str | None:
        """The database URL of a data directory (None: the default, SQLite in it)."""
        if self.database is None or self._engine is None:
            return None
        digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:20]
        schema = f"d_{digest}"
        with self._engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        url = self.database.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def settings(self, data_dir: Path, **values: Any) -> Settings:
        """Settings on `data_dir` and its database, with the admin key unless given."""
        values.setdefault("admin_key", ADMIN_KEY)
        return Settings(data_dir=data_dir, database_url=self.url(data_dir), **values)

    def environment(self, data_dir: Path) -> dict[str, str]:
        """The environment of a `counterpart` process on `data_dir` and its database."""
        url = self.url(data_dir)
        return {"COUNTERPART_DATA_DIR": str(data_dir)} | (
            {} if url is None else {"COUNTERPART_DATABASE_URL": url}
        )

    def close(self) -> None:
        """Close the pooled connections to the session's database."""
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture(scope="session")
def databases() -> Iterator[TestDatabases]:
    """Where each test's database is; on PostgreSQL, a new database for this session."""
    if SERVER_URL is None:
        yield TestDatabases(None)
        return
    server = create_engine(normalise_url(SERVER_URL), isolation_level="AUTOCOMMIT")
    name = f"counterpart_test_{uuid.uuid4().hex[:12]}"
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except OperationalError as exc:
        # Fails (never skips) every test that needs a database: a PostgreSQL run must run.
        pytest.fail(f"COUNTERPART_TEST_DATABASE_URL={SERVER_URL}: cannot create a database: {exc}")
    found = TestDatabases(normalise_url(SERVER_URL).set(database=name))
    try:
        yield found
    finally:
        found.close()
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        server.dispose()


@pytest.fixture
def settings(tmp_path: Path, databases: TestDatabases) -> Settings:
    """Settings on this test's own data directory and database, with an admin key."""
    return databases.settings(tmp_path)


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """The Authorization header of a write."""
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@contextmanager
def running_api(settings: Settings) -> Iterator[Api]:
    """An app built on `settings`, its lifespan running (database created and seeded)."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client)


@pytest.fixture
def open_api() -> Callable[[Settings], AbstractContextManager[Api]]:
    """Start another app (another worker, or the same one after a restart) on some settings."""
    return running_api


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    """A running app on this test's data directory."""
    with running_api(settings) as running:
        yield running


# Enterprises.


@pytest.fixture(scope="session")
def launch_api() -> Callable[[Settings], AbstractContextManager[Api]]:
    """`open_api` for module-scoped fixtures (a population shared by read-only tests)."""
    return running_api


@pytest.fixture(scope="session")
def enterprise_model() -> EnterpriseModel:
    """The enterprise score model of the shipped dataset (the one a new app serves)."""
    network = network_from_dataset(load_dataset())
    return EnterpriseModel.build(
        network, score_components(network), Weights.resolve(network.taxonomy)
    )


def walk_enterprises(api: Api, *, limit: int = 500, **filters: Any) -> list[dict[str, Any]]:
    """Every enterprise GET /enterprises lists under `filters`, following `next_cursor`.

    Listed with the key, so that every field (the contact too) is shown.
    """
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get("/enterprises", key=True, limit=limit, cursor=cursor, **filters)
        assert len(page["items"]) <= limit, page
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["items"] and cursor == page["items"][-1]["id"], page


@pytest.fixture(scope="session")
def all_enterprises() -> Callable[..., list[dict[str, Any]]]:
    """`walk_enterprises(api, limit=..., **filters)`: every enterprise listed, page by page."""
    return walk_enterprises


@pytest.fixture(scope="session")
def put_enterprises() -> Callable[[Api, Iterable[dict[str, Any]]], None]:
    """Register (or replace) profiles with PUT /enterprises/{id}, each of which must succeed."""

    def put(api: Api, profiles: Iterable[dict[str, Any]]) -> None:
        for profile in profiles:
            response = api.client.put(
                f"/enterprises/{profile['id']}",
                json=profile,
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            )
            assert response.status_code in (200, 201), response.text

    return put
