"""Imports under stress: a size limit, scratch files that never outlive a start, the write lock held
only for the write phase, and a busy database answered 503 with Retry-After (issue 9)."""

from __future__ import annotations

import fcntl
import io
import os
import threading
import time

import pytest
from sqlalchemy import text

from app import convert
from app.enterprise_files import write_csv, write_jsonl
from app.services import enterprise_index, imports
from app.services.context import open_services
from app.storage.database import connect
from matching import generate_enterprises, load_dataset

CSV = "text/csv"
JSONL = "application/x-ndjson"


def csv_text(records):
    out = io.StringIO()
    write_csv(records, out)
    return out.getvalue()


def jsonl_text(records):
    out = io.StringIO()
    write_jsonl(records, out)
    return out.getvalue()


def leftovers(settings):
    folder = settings.import_dir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def records():
    return list(generate_enterprises(load_dataset(), 400, seed=4))


# The size limit.


def chunks(body: bytes, size: int = 8192):
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_an_import_over_the_size_limit_is_a_413_naming_it_and_writes_nothing(
    settings, open_api, admin_headers, all_enterprises, check_error, records, declared
):
    limited = settings.model_copy(update={"max_import_bytes": 16 * 1024})
    body = csv_text(records).encode()
    assert len(body) > 4 * limited.max_import_bytes

    with open_api(limited) as api:
        response = api.client.post(
            "/enterprises/import",
            content=body if declared else chunks(body),
            headers={**admin_headers, "content-type": CSV},
        )

        error = check_error(response, 413, "PayloadTooLarge")
        assert "16384 bytes" in error["detail"], error
        assert "COUNTERPART_MAX_IMPORT_BYTES" in error["detail"], error
        assert all_enterprises(api) == []
        assert leftovers(limited) == []


def test_an_import_at_the_size_limit_is_accepted(
    settings, open_api, admin_headers, all_enterprises, records
):
    body = jsonl_text(records[:20]).encode()
    with open_api(settings.model_copy(update={"max_import_bytes": len(body)})) as api:
        response = api.client.post(
            "/enterprises/import",
            content=chunks(body, 1000),
            headers={**admin_headers, "content-type": JSONL},
        )
        assert response.status_code == 200, response.text
        assert len(all_enterprises(api)) == 20


def test_the_import_limit_and_the_busy_answer_are_in_the_openapi_document(api):
    operation = api.get("/openapi.json")["paths"]["/enterprises/import"]["post"]
    assert {"413", "422", "503"} <= operation["responses"].keys()
    assert "COUNTERPART_MAX_IMPORT_BYTES" in operation["description"]
    assert "256 MiB" in operation["description"]


def test_the_default_import_limit_is_256_mib(settings):
    assert settings.max_import_bytes == 256 * 2**20
    assert settings.import_dir == settings.data_dir / "tmp"


# Scratch files.


def test_what_killed_imports_left_behind_is_removed_at_start_but_a_live_import_is_kept(
    settings, open_api
):
    folder = settings.import_dir
    dead = folder / "import-dead"
    dead.mkdir(parents=True)
    (dead / ".lock").touch()
    (dead / "upload.csv").write_bytes(b"x" * 100_000)
    (dead / "staged.sqlite").write_bytes(b"y" * 100_000)
    (folder / "tmpabc.csv").write_bytes(b"z" * 1000)
    live = folder / "import-live"
    live.mkdir()
    (live / ".lock").touch()
    (live / "upload.csv").write_bytes(b"still being written")
    holder = os.open(live / ".lock", os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with open_api(settings):
            assert leftovers(settings) == ["import-live"]
            assert (live / "upload.csv").read_bytes() == b"still being written"
    finally:
        os.close(holder)
    with open_api(settings):
        assert leftovers(settings) == []


@pytest.mark.parametrize("valid", [True, False], ids=["imported", "rejected"])
def test_an_import_leaves_no_file_behind(api, admin_headers, check_error, settings, records, valid):
    text = csv_text(records[:50]) + ("" if valid else "bad,Bad,atlantis,,,,,,,,\n")
    response = api.client.post(
        "/enterprises/import", content=text.encode(), headers={**admin_headers, "content-type": CSV}
    )
    if valid:
        assert response.status_code == 200, response.text
    else:
        check_error(response, 422, "InvalidImport")
    assert leftovers(settings) == []
    assert sorted(p.name for p in settings.data_dir.iterdir() if p.is_file()) == [
        name
        for name in ("counterpart.db", "counterpart.db-shm", "counterpart.db-wal")
        if (settings.data_dir / name).exists()
    ]


# The write lock.


def test_an_import_reads_and_checks_its_file_without_holding_the_write_lock(
    settings, tmp_path, records
):
    source = tmp_path / "enterprises.csv"
    source.write_text(csv_text(records))
    writes_while_parsing = []

    def parse_and_write(values):
        # Another writer, which may wait 0.2 s at most, writes while the import parses.
        if not writes_while_parsing:
            other = connect(settings.resolved_database_url, write_wait=0.2, migrate=False)
            try:
                with other.write() as session:
                    session.execute(text("INSERT INTO targets_probe VALUES (1)"))
                writes_while_parsing.append("written")
            finally:
                other.dispose()
        return convert.profile_from_row(values)

    with open_services(settings, build_index=False) as services:
        with services.database.write_connection() as connection:
            connection.exec_driver_sql("CREATE TABLE targets_probe (x INTEGER)")
        state = services.active.current()
        with imports.workspace(settings.import_dir) as work:
            report = imports.import_file(
                services.database, state, source, "csv", parse_and_write, work_dir=work
            )

    assert writes_while_parsing == ["written"]
    assert (report.imported, report.created) == (len(records), len(records))


def hold_write_lock(settings, seconds):
    """Take the database's write lock in another connection for `seconds`; return the thread."""
    taken = threading.Event()

    def hold():
        # The lock every write of the service takes (SQLite's, or PostgreSQL's advisory lock).
        other = connect(settings.resolved_database_url, migrate=False)
        try:
            with other.write():
                taken.set()
                time.sleep(seconds)
        finally:
            other.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait()
    return thread


def test_a_write_that_finds_the_database_locked_is_a_503_with_retry_after(
    settings, open_api, admin_headers, all_enterprises, check_error, records
):
    quick = settings.model_copy(update={"write_wait_seconds": 0.2})
    profile = {"id": "ne-waiting", "name": "Waiting", "region": "harbin"}
    with open_api(quick) as api:
        holder = hold_write_lock(quick, 1.5)
        try:
            put = api.client.put("/enterprises/ne-waiting", json=profile, headers=admin_headers)
            imported = api.client.post(
                "/enterprises/import",
                content=csv_text(records[:30]).encode(),
                headers={**admin_headers, "content-type": CSV},
            )
        finally:
            holder.join()

        for response in (put, imported):
            body = check_error(response, 503, "DatabaseBusy")
            assert "busy with another write" in body["detail"], body
            assert int(response.headers["Retry-After"]) >= 1
        assert all_enterprises(api) == []
        assert leftovers(quick) == []

        put = api.client.put("/enterprises/ne-waiting", json=profile, headers=admin_headers)
        assert put.status_code == 201, put.text


def test_a_write_waits_for_a_short_write_phase_instead_of_failing(
    settings, open_api, admin_headers
):
    with open_api(settings.model_copy(update={"write_wait_seconds": 5})) as api:
        holder = hold_write_lock(settings, 0.3)
        try:
            response = api.client.put(
                "/enterprises/ne-later",
                json={"id": "ne-later", "name": "Later", "region": "harbin"},
                headers=admin_headers,
            )
        finally:
            holder.join()
        assert response.status_code == 201, response.text


# Hostile files.

GOOD = b'{"id": "ne-good", "name": "Good", "region": "harbin"}\n'
HOSTILE_LINES = {
    "200,000 [": (b"[" * 200_000 + b"\n", "nested too deeply"),
    "deep value": (b'{"id": "a", "name": ' + b"[" * 200_000 + b"\n", "nested too deeply"),
    "5,000-digit integer": (
        b'{"id": "a", "name": "A", "region": "harbin", "founded": ' + b"9" * 5000 + b"}\n",
        "too many digits",
    ),
    "5,000-digit intensity": (
        b'{"id": "a", "name": "A", "region": "harbin", "offers": {"grain": 1'
        + b"0" * 5000
        + b"}}\n",
        "too many digits",
    ),
    "a 3 MiB line": (
        b'{"id": "a", "name": "' + b"x" * (3 * 2**20) + b'", "region": "harbin"}\n',
        "longer than",
    ),
    "raw NUL": (b'{"id": "a", "name": "A\x00", "region": "harbin"}\n', "not valid JSON"),
    "BOM inside": (b'\xef\xbb\xbf{"id": "a", "name": "A", "region": "harbin"}\n', "BOM"),
    "lone surrogate key": (
        b'{"id": "a", "name": "A", "region": "harbin", "offers": {"\\ud800": 0.5}}\n',
        "unknown sector",
    ),
}


@pytest.mark.parametrize("line, says", HOSTILE_LINES.values(), ids=HOSTILE_LINES)
def test_a_hostile_json_line_is_a_422_naming_its_row_and_the_rows_after_it_are_still_read(
    api, admin_headers, all_enterprises, check_error, settings, line, says
):
    bad_after = b'{"id": "ne-bad", "name": "Bad", "region": "atlantis"}\n'
    body = GOOD + line + GOOD.replace(b"ne-good", b"ne-good-2") + bad_after

    response = api.client.post(
        "/enterprises/import", content=body, headers={**admin_headers, "content-type": JSONL}
    )

    error = check_error(response, 422, "InvalidImport")
    assert says in error["errors"][0]["error"], error
    assert [e["row"] for e in error["errors"]] == [2, 4], error
    assert len(response.content) < 2000
    assert all_enterprises(api) == []
    assert leftovers(settings) == []


HOSTILE_CSV = {
    "a 3 MiB line": (b"id,name,region\n" + b"a," * (3 * 2**20 // 2) + b"\n", "longer than"),
    "a 5,000-digit year": (
        b"id,name,region,founded\nne-a,A,harbin," + b"9" * 5000 + b"\n",
        "(5000 characters) is not a year",
    ),
    "invalid UTF-8": (b"id,name,region\nne-a,\xff\xfe,harbin\n", "not UTF-8"),
}


@pytest.mark.parametrize("body, says", HOSTILE_CSV.values(), ids=HOSTILE_CSV)
def test_a_hostile_csv_is_a_short_422_naming_what_is_wrong(
    api, admin_headers, all_enterprises, check_error, body, says
):
    response = api.client.post(
        "/enterprises/import", content=body, headers={**admin_headers, "content-type": CSV}
    )

    error = check_error(response, 422, "InvalidImport")
    assert says in error["errors"][0]["error"], error
    assert len(response.content) < 2000
    assert all_enterprises(api) == []


# The index after an import.


@pytest.fixture(scope="module")
def bulk_records():
    """More records than an import logs one by one: their import is logged as one bulk change."""
    return list(generate_enterprises(load_dataset(), imports.LOGGED_ROWS + 1, seed=5))


def test_after_a_bulk_import_other_workers_rebuild_in_the_background_and_queries_never_wait(
    settings, open_api, admin_headers, put_enterprises, bulk_records
):
    records = bulk_records
    old = {
        "id": "ne-old",
        "name": "Old",
        "region": "harbin",
        "offers": {"machine_tools": 0.8},
        "seeks": {"venture_capital": 0.6},
    }
    imported = [r for r in records if r["id"].startswith("ea")]
    newcomer = next(r for r in records if r["id"].startswith("ne"))
    with open_api(settings) as importer, open_api(settings) as other:
        put_enterprises(importer, [old])
        assert other.get("/enterprises/ne-old/partners", k=5)["partners"] == []
        keeper = other.client.app.state.enterprises.keeper
        build = keeper._build
        builds, release = [], threading.Event()

        def slow_build(*args, **kwargs):
            # Every build from now on takes until the test releases it (10 s at most).
            builds.append(threading.current_thread().name)
            release.wait(timeout=10)
            return build(*args, **kwargs)

        response = importer.client.post(
            "/enterprises/import",
            content=csv_text(records).encode(),
            headers={**admin_headers, "content-type": CSV},
        )
        assert response.status_code == 200, response.text
        # The importing worker answers from the new index at once.
        assert importer.get("/enterprises/ne-old/partners", k=5)["partners"]

        keeper._build = slow_build
        try:
            started = time.perf_counter()
            waiting = [other.get("/enterprises/ne-old/partners", k=5) for _ in range(3)]
            found = other.get(f"/enterprises/{newcomer['id']}/partners", k=5)
            elapsed = time.perf_counter() - started
        finally:
            release.set()
        assert elapsed < 3, elapsed
        assert all(body["partners"] == [] for body in waiting)  # the old index, still serving
        assert found["partners"] == []
        # The background thread may reach its build only after the queries (a busy machine).
        deadline = time.monotonic() + 10
        while not builds and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(builds) == 1, builds  # one build, in the background
        assert builds[0] != threading.current_thread().name

        deadline = time.monotonic() + 20
        while keeper.rebuilding and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not keeper.rebuilding
        partners = other.get("/enterprises/ne-old/partners", k=5)["partners"]
        assert partners and {p["id"] for p in partners} <= {r["id"] for r in imported}


def test_a_small_import_is_seen_by_every_worker_at_once(
    settings, open_api, admin_headers, put_enterprises, records
):
    assert len(records) <= imports.LOGGED_ROWS
    query = {"id": "ne-q", "name": "Q", "region": "harbin", "seeks": {"venture_capital": 0.6}}
    with open_api(settings) as importer, open_api(settings) as other:
        put_enterprises(importer, [query])
        assert other.get("/enterprises/ne-q/partners", k=5)["partners"] == []
        keeper = other.client.app.state.enterprises.keeper

        response = importer.client.post(
            "/enterprises/import",
            content=csv_text(records).encode(),
            headers={**admin_headers, "content-type": CSV},
        )
        assert response.status_code == 200, response.text

        assert other.get("/enterprises/ne-q/partners", k=5)["partners"]
        assert not keeper.rebuilding


def test_an_overlay_past_its_limit_is_compacted_in_the_background_while_queries_go_on(
    settings, open_api, admin_headers, put_enterprises, monkeypatch
):
    monkeypatch.setattr(enterprise_index, "COMPACT_AFTER", 3)
    query = {"id": "ne-q", "name": "Q", "region": "harbin", "seeks": {"venture_capital": 0.6}}
    partners = [
        {"id": f"ea-{n}", "name": "P", "region": "shanghai", "offers": {"venture_capital": 0.5}}
        for n in range(5)
    ]
    with open_api(settings) as api:
        put_enterprises(api, [query])
        assert api.get("/enterprises/ne-q/partners", k=10)["partners"] == []
        keeper = api.client.app.state.enterprises.keeper
        build, builds, release = keeper._build, [], threading.Event()

        def slow_build(*args, **kwargs):
            builds.append(threading.current_thread().name)
            release.wait(timeout=10)
            return build(*args, **kwargs)

        put_enterprises(api, partners)
        keeper._build = slow_build
        try:
            started = time.perf_counter()
            found = api.get("/enterprises/ne-q/partners", k=10)["partners"]
            elapsed = time.perf_counter() - started
        finally:
            release.set()

        assert elapsed < 3, elapsed
        assert sorted(p["id"] for p in found) == [p["id"] for p in partners]  # the overlay
        # The rebuild runs in its own thread, which may not have started yet: wait for it.
        keeper.stop()
        assert builds == ["enterprise-index-rebuild"]
        assert not keeper.rebuilding
        assert len(keeper.loaded.changed) == 0
        assert len(api.get("/enterprises/ne-q/partners", k=10)["partners"]) == 5
