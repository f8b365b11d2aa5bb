"""The schema's migrations, on the suite's database (SQLite, or PostgreSQL in the PG run)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
)
from typer.testing import CliRunner

from app.cli import cli
from app.storage.database import connect, normalise_url
from app.storage.migrate import METADATA, current_revision, differences, head_revision
from app.storage.scenarios import ScenarioRecord

from .conftest import TestDatabases


def database_url(databases: TestDatabases, data_dir: Path) -> str:
    return databases.url(data_dir) or f"sqlite:///{data_dir / 'counterpart.db'}"


def test_the_migrated_schema_is_exactly_the_tables_definitions(databases, tmp_path):
    database = connect(database_url(databases, tmp_path))
    try:
        with database.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert differences(connection) == []
            tables = set(inspect(connection).get_table_names())
        assert tables == set(METADATA.tables) | {"alembic_version"}
    finally:
        database.dispose()


def test_a_database_created_before_migrations_is_adopted_with_its_rows(databases, tmp_path):
    # What 0.2.0's create_all left: no targets table, no identity (both came later).
    url = database_url(databases, tmp_path)
    engine = create_engine(normalise_url(url))
    older = [
        table
        for name, table in METADATA.tables.items()
        if name not in ("targets", "database_identity")
    ]
    METADATA.create_all(engine, tables=older)
    with engine.begin() as connection:
        connection.execute(
            insert(ScenarioRecord.__table__).values(
                name="kept", description="", body="{}", created_at=datetime.now(UTC)
            )
        )
    engine.dispose()

    database = connect(url)
    try:
        with database.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert differences(connection) == []
            names = connection.execute(select(ScenarioRecord.name)).scalars().all()
        assert names == ["kept"]
    finally:
        database.dispose()


def test_workers_starting_at_once_migrate_once(databases, tmp_path):
    url = database_url(databases, tmp_path)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            connect(url).dispose()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    database = connect(url, migrate=False)
    try:
        with database.engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            assert [v for (v,) in versions] == [head_revision()]
            assert differences(connection) == []
    finally:
        database.dispose()


def test_the_db_upgrade_command_migrates_then_finds_nothing_to_do(
    databases, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    from app.settings import get_settings

    for name, value in databases.environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(cli, ["db", "upgrade"])
        assert first.exit_code == 0, first.output
        assert f"upgraded from revision none to {head_revision()}" in first.output
        again = CliRunner().invoke(cli, ["db", "upgrade"])
        assert again.exit_code == 0 and f"already at revision {head_revision()}" in again.output
    finally:
        get_settings.cache_clear()


def test_an_unreachable_database_is_one_line_naming_it_without_its_password(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    from app.settings import get_settings

    monkeypatch.setenv("COUNTERPART_DATA_DIR", str(tmp_path))
    # Port 9 (discard) has no PostgreSQL behind it.
    monkeypatch.setenv("COUNTERPART_DATABASE_URL", "postgresql://someone:s3cret@127.0.0.1:9/x")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "cannot open the database postgresql://someone:***@127.0.0.1:9/x: connection" in (
        result.output
    )
    assert "s3cret" not in result.output


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_postgresql_urls_mean_psycopg_3(url, driver):
    assert normalise_url(url).drivername == driver


def test_db_revision_drafts_what_the_tables_add_and_the_draft_migrates(
    databases, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    # On a copy of the migrations, with one more table defined than the database has.
    from app.services.schema import write_revision
    from app.settings import Settings
    from app.storage import migrate

    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, folder)
    tables = MetaData()
    for table in METADATA.tables.values():
        table.to_metadata(tables)
    Table("probe", tables, Column("id", Integer, primary_key=True), Column("note", String(20)))
    monkeypatch.setattr(migrate, "MIGRATIONS", folder)
    monkeypatch.setattr(migrate, "METADATA", tables)
    settings = Settings(data_dir=tmp_path, database_url=databases.url(tmp_path))

    head = head_revision()
    path = write_revision(settings, "a probe table")

    following = f"{int(head) + 1:04d}"
    assert path.parent == folder / "versions" and path.name == f"{following}_a_probe_table.py"
    draft = path.read_text("utf-8")
    assert f"down_revision: str | None = '{head}'" in draft and "'probe'" in draft
    database = connect(settings.resolved_database_url)
    try:
        with database.engine.connect() as connection:
            assert current_revision(connection) == following
            assert differences(connection) == []
            assert "probe" in inspect(connection).get_table_names()
    finally:
        database.dispose()
